// Small byte helpers shared by the modules (hex, base64, concatenation, lengths).
import { createHash, randomBytes } from 'node:crypto';

export const utf8 = (s) => new TextEncoder().encode(s);

export function toHex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

/** Strict lowercase hex of an exact byte length (or any length when n is undefined). */
export function isHex(s, n) {
  return typeof s === 'string' && /^[0-9a-f]*$/.test(s) && s.length % 2 === 0 &&
    (n === undefined || s.length === 2 * n);
}

export function fromHex(s, n, what = 'hex') {
  if (!isHex(s, n)) throw new TypeError(`${what}: expected ${n === undefined ? '' : 2 * n + ' '}lowercase hex digits`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function concat(...parts) {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

export function u32be(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function u64be(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** u32be(length) ‖ bytes */
export function lp(bytes) {
  const b = typeof bytes === 'string' ? utf8(bytes) : bytes;
  return concat(u32be(b.length), b);
}

export function sha256(bytes) {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function equalBytes(a, b) {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

export { randomBytes };
