// Seeded PRNG for the differential tests. Every case gets its own stream,
// derived from (seed, venue, case index) with SHA-256, so a case can be
// regenerated alone and adding cases never changes earlier ones.
// Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting RNG, 128-bit state).
import { createHash } from 'node:crypto';

export class Rng {
  constructor(...parts) {
    const h = createHash('sha256').update(parts.map(String).join('\u0000')).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12) | 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32() {
    let { a, b, c, d } = this;
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    Object.assign(this, { a: a >>> 0, b, c, d });
    return t;
  }

  float() { return this.u32() / 4294967296; }

  chance(p) { return this.float() < p; }

  // Uniform integer in [lo, hi] (inclusive), |range| < 2^53.
  int(lo, hi) {
    const span = hi - lo + 1;
    if (span <= 0x100000000) {
      const lim = Math.floor(0x100000000 / span) * span;
      let x;
      do { x = this.u32(); } while (x >= lim);
      return lo + (x % span);
    }
    return lo + Number(this.bigBelow(BigInt(span)));
  }

  // Uniform BigInt in [0, n).
  bigBelow(n) {
    if (n <= 0n) throw new Error('bigBelow: n must be > 0');
    const bits = n.toString(2).length;
    for (;;) {
      let x = 0n;
      for (let got = 0; got < bits; got += 32) x = (x << 32n) | BigInt(this.u32());
      x &= (1n << BigInt(bits)) - 1n;
      if (x < n) return x;
    }
  }

  bigBits(bits) { return bits === 0 ? 0n : this.bigBelow(1n << BigInt(bits)); }

  bytes(n) {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  hex(nBytes) { return this.bytes(nBytes).toString('hex'); }

  pick(arr) {
    if (!arr.length) throw new Error('pick from empty array');
    return arr[this.int(0, arr.length - 1)];
  }

  // weighted([[w, value], ...])
  weighted(pairs) {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let x = this.float() * total;
    for (const [w, v] of pairs) {
      if ((x -= w) < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }

  shuffle(arr) {
    const a = arr.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  sample(arr, k) { return this.shuffle(arr).slice(0, k); }
}
