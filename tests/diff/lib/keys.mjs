// Test keys. FIXED_* are the public test keys of shared/reference/venues.md §0
// (safe to print); everything else is derived deterministically from the seed
// (never printed: reports name such keys by their derivation label instead).
import { createPrivateKey } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { Wallet } from 'ethers';
import { Rng } from './prng.mjs';

export const FIXED_SECP256K1 = [
  // venues.md §0 well-known key -> 0x14791697260E4c9A71f18484C9f997B308e59325
  '0x0123456789012345678901234567890123456789012345678901234567890123',
  // Aster docs' API-wallet (signer) key -> 0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0
  '0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1',
  // EIP-712 spec "Mail" example, keccak256("cow") -> 0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826
  '0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4',
];

// RFC 8032 §7.1 TEST 1 secret key as PKCS#8 PEM.
export const FIXED_ED25519_PEM =
  '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n';

export const FIXED_CEX = {
  binance: [
    { api_key: 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A',
      secret: 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j' },
    { api_key: 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83',
      secret: '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9' },
  ],
  bybit: [{ api_key: 'XXXXXXXXXX', secret: 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY' }],
  okx: [{ api_key: '985d5b66-57ce-40fb-b714-afc0b9787083', secret: '0123456789ABCDEF0123456789ABCDEF',
    passphrase: 'Passphrase123!' }],
  kucoin: [{ api_key: '5c2db93503aa674c74a31734', secret: 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3',
    passphrase: 'QWIxenR0ZTEw' }],
};

// Binance's public RSA test key, read from shared/ when it is beside the repo.
export function fixedRsaPem(sharedDir) {
  const p = sharedDir && `${sharedDir}/vectors/venues/keys/binance_test_rsa_private_key.pem`;
  return p && existsSync(p) ? readFileSync(p, 'utf8') : null;
}

const SECP_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export function seededSecp256k1(seed, label) {
  const rng = new Rng(seed, 'secp256k1', label);
  for (;;) {
    const k = BigInt('0x' + rng.hex(32));
    if (k > 0n && k < SECP_N) return '0x' + k.toString(16).padStart(64, '0');
  }
}

export function addressOf(pk) { return new Wallet(pk).address; }

export function ed25519PemFromSeed(seed32) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed32]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' });
}

export function seededEd25519Pem(seed, label) {
  return ed25519PemFromSeed(new Rng(seed, 'ed25519', label).bytes(32));
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randToken(rng, n, alphabet = ALNUM) {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

// ---- deterministic RSA (seeded primes, Miller-Rabin) ----
function modPow(b, e, m) {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
const SMALL_PRIMES = (() => {
  const ps = [];
  for (let n = 3; ps.length < 300; n += 2) if (ps.every((p) => n % p !== 0)) ps.push(n);
  return ps.map(BigInt);
})();
function isProbablePrime(n, rng, rounds) {
  for (const p of SMALL_PRIMES) if (n % p === 0n) return n === p;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) { d >>= 1n; s++; }
  outer: for (let i = 0; i < rounds; i++) {
    const a = 2n + rng.bigBelow(n - 4n);
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}
function randomPrime(rng, bits, e) {
  for (;;) {
    let c = rng.bigBits(bits) | (1n << BigInt(bits - 1)) | (1n << BigInt(bits - 2)) | 1n;
    for (let tries = 0; tries < 2000; tries++, c += 2n) {
      if ((c - 1n) % e === 0n) continue;
      if (isProbablePrime(c, rng, 24)) return c;
    }
  }
}
function modInv(a, m) {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return ((s0 % m) + m) % m;
}
const b64u = (n) => {
  let h = n.toString(16);
  if (h.length % 2) h = '0' + h;
  return Buffer.from(h, 'hex').toString('base64url');
};
export function seededRsaPem(seed, label, bits = 2048) {
  const rng = new Rng(seed, 'rsa', label, bits);
  const e = 65537n;
  for (;;) {
    const p = randomPrime(rng, bits / 2, e);
    const q = randomPrime(rng, bits / 2, e);
    if (p === q) continue;
    const n = p * q;
    if (n.toString(2).length !== bits) continue;
    const phi = (p - 1n) * (q - 1n);
    const d = modInv(e, phi);
    const jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q),
      dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(modInv(q, p)) };
    return createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' });
  }
}
