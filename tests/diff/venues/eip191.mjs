// EIP-191 personal_sign: {"message"} (UTF-8 text) or {"message_hex"} (raw
// bytes). Oracle: ethers Wallet.signMessageSync; second opinion: eth_account
// encode_defunct in the Python oracle. Expected output {"signature"}.
import { Wallet, getBytes } from 'ethers';
import { FIXED_SECP256K1, seededSecp256k1, randToken } from '../lib/keys.mjs';
import { UNICODE_SAMPLES, longUnicode } from '../lib/gen.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'eip191';

function text(rng) {
  return rng.weighted([
    [1, () => ''], [1, () => 'Hello World'],
    [4, () => randToken(rng, rng.int(1, 80), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-_/\'"')],
    [3, () => Array.from({ length: rng.int(1, 6) }, () => rng.pick(UNICODE_SAMPLES)).join(rng.pick(['', ' ', '\n']))],
    [1, () => 'line1\nline2\r\nline3\ttab "quoted" back\\slash'],
    [1, () => `Sign in to example.com\nNonce: ${rng.hex(16)}\nIssued At: 2023-11-14T22:13:20.000Z`],
    [0.5, () => randToken(rng, rng.int(1000, 6000))],
    [0.3, () => '0x' + rng.hex(32)], // hex-looking text is still text
    [0.3, () => 'ctl\u0001\u001f\u007f'],
    [0.7, () => longUnicode(rng, 900, 6000)],
  ])();
}

export async function makeCase(rng, i, ctx) {
  let key, pub, desc;
  if (rng.chance(0.3)) [key, pub, desc] = [rng.pick(FIXED_SECP256K1), true, 'fixed public test key'];
  else {
    const idx = rng.int(0, 5);
    [key, pub, desc] = [ctx.cached(`e191-${idx}`, () => seededSecp256k1(ctx.seed, `eip191-${idx}`)), false, `seeded secp256k1 eip191-${idx}`];
  }
  if (rng.chance(NEG_RATE)) {
    return refusal({ venue: 'eip191', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc,
      request: { message_hex: rng.pick(['0xzz', '0xabc', '0x0g', '0x' + rng.hex(5) + 'x']) } }, 'bad_encoding', 'malformed message_hex');
  }
  const w = new Wallet(key);
  let request, signature, info;
  if (rng.chance(0.6)) {
    const m = text(rng);
    request = { message: m };
    signature = w.signMessageSync(m);
    info = `text, ${Buffer.byteLength(m)} bytes`;
  } else {
    const n = rng.weighted([[1, 0], [2, 32], [4, rng.int(1, 100)], [1, rng.int(100, 3000)]]);
    let h = '0x' + rng.hex(n);
    if (rng.chance(0.1)) h = '0x' + h.slice(2).toUpperCase();
    request = { message_hex: h };
    signature = w.signMessageSync(getBytes(h));
    info = `hex, ${n} bytes${/[A-F]/.test(h) ? ' (uppercase hex)' : ''}`;
  }
  const c = {
    venue: 'eip191', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc, request, asciiRequest: rng.chance(0.25),
    info, compare: 'fields', expect: { signature },
  };
  c.py = { kind: 'eip191', key, ...request };
  c.finish = (py) => {
    if (py.error) throw new Error(`eth_account oracle failed: ${py.error}`);
    if (py.signature !== signature) throw new Error(`eip191: eth_account disagrees with ethers: ${py.signature} vs ${signature}`);
  };
  return c;
}
