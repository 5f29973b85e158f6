// libsodium's crypto_box_seal: X25519 + XSalsa20-Poly1305 with an ephemeral
// key, nonce = BLAKE2b-192(epk ‖ pk); output epk ‖ MAC ‖ ciphertext.
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { concat } from './bytes.js';
import { x25519Public, x25519PublicRaw } from './keys.js';

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function words(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => dv.getUint32(4 * i, true));
}

function unwords(u32) {
  const out = new Uint8Array(u32.length * 4);
  const dv = new DataView(out.buffer);
  u32.forEach((w, i) => dv.setUint32(4 * i, w, true));
  return out;
}

/** crypto_box_beforenm: HSalsa20(X25519(sk, pk), 0^16). */
export function boxBeforenm(shared) {
  const out = new Uint32Array(8);
  hsalsa(SIGMA, words(shared), new Uint32Array(4), out);
  return unwords(out);
}

/** @param {Uint8Array} message @param {Uint8Array} recipient 32-byte X25519 public key */
export function sealedBox(message, recipient) {
  if (!(recipient instanceof Uint8Array) || recipient.length !== 32) {
    throw new TypeError('sealedBox: recipient must be a 32-byte X25519 public key');
  }
  const { privateKey } = generateKeyPairSync('x25519');
  const epk = x25519PublicRaw(privateKey);
  const shared = new Uint8Array(diffieHellman({ privateKey, publicKey: x25519Public(recipient) }));
  const key = boxBeforenm(shared);
  const nonce = blake2b(concat(epk, recipient), { dkLen: 24 });
  const box = xsalsa20poly1305(key, nonce).encrypt(message);
  shared.fill(0);
  key.fill(0);
  return concat(epk, box);
}
