// The CBOR subset of attestation documents (RFC 8949): definite lengths,
// integers, byte and text strings, arrays, maps (kept in order as [key, value]
// pairs), tags, null/true/false. Anything else, or trailing bytes, is refused.

export class CborError extends Error {}

const MAX_DEPTH = 16;

function head(buf, at) {
  if (at >= buf.length) throw new CborError('truncated');
  const ib = buf[at];
  const major = ib >> 5;
  const info = ib & 31;
  if (info < 24) return { major, info, arg: info, next: at + 1 };
  const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
  if (size === undefined) throw new CborError(`unsupported additional info ${info}`);
  if (at + 1 + size > buf.length) throw new CborError('truncated');
  let arg = 0n;
  for (let i = 0; i < size; i++) arg = (arg << 8n) | BigInt(buf[at + 1 + i]);
  if (arg > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError('integer too large');
  return { major, info, arg: Number(arg), next: at + 1 + size };
}

function item(buf, at, depth) {
  if (depth > MAX_DEPTH) throw new CborError('nested too deeply');
  const h = head(buf, at);
  const readers = {
    0: () => [h.arg, h.next],
    1: () => [-1 - h.arg, h.next],
    2: () => bytes(buf, h),
    3: () => {
      const [b, next] = bytes(buf, h);
      return [new TextDecoder('utf-8', { fatal: true }).decode(b), next];
    },
    4: () => {
      const out = [];
      let next = h.next;
      for (let i = 0; i < h.arg; i++) [out[i], next] = item(buf, next, depth + 1);
      return [out, next];
    },
    5: () => {
      const pairs = [];
      let next = h.next;
      for (let i = 0; i < h.arg; i++) {
        let k, v;
        [k, next] = item(buf, next, depth + 1);
        [v, next] = item(buf, next, depth + 1);
        pairs.push([k, v]);
      }
      return [new CborMap(pairs), next];
    },
    6: () => {
      const [value, next] = item(buf, h.next, depth + 1);
      return [new CborTag(h.arg, value), next];
    },
    7: () => {
      const simple = { 20: false, 21: true, 22: null };
      if (!(h.info in simple)) throw new CborError(`unsupported simple value ${h.info}`);
      return [simple[h.info], h.next];
    },
  };
  return readers[h.major]();
}

function bytes(buf, h) {
  if (h.next + h.arg > buf.length) throw new CborError('truncated');
  return [buf.subarray(h.next, h.next + h.arg), h.next + h.arg];
}

export class CborTag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

/** A map as its pairs in encoded order; get() refuses duplicate keys. */
export class CborMap {
  constructor(pairs) {
    this.pairs = pairs;
  }

  keys() {
    return this.pairs.map(([k]) => k);
  }

  get(key) {
    const found = this.pairs.filter(([k]) => k === key);
    if (found.length > 1) throw new CborError(`duplicate map key ${key}`);
    return found.length ? found[0][1] : undefined;
  }
}

/** Decodes exactly one item filling `buf`. */
export function decode(buf) {
  const [value, next] = item(buf, 0, 0);
  if (next !== buf.length) throw new CborError('trailing bytes');
  return value;
}

function encodeHead(major, n) {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 0x100) return Uint8Array.of((major << 5) | 24, n);
  if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff);
  const b = new Uint8Array(5);
  b[0] = (major << 5) | 26;
  new DataView(b.buffer).setUint32(1, n);
  return b;
}

/** Encodes arrays, byte strings and text strings (what a Sig_structure needs). */
export function encode(value) {
  if (value instanceof Uint8Array) return Buffer.concat([encodeHead(2, value.length), value]);
  if (typeof value === 'string') {
    const b = new TextEncoder().encode(value);
    return Buffer.concat([encodeHead(3, b.length), b]);
  }
  if (Array.isArray(value)) return Buffer.concat([encodeHead(4, value.length), ...value.map(encode)]);
  throw new CborError('encode: unsupported value');
}
