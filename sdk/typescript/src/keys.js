// Ed25519 and X25519 keys from raw bytes with node's crypto (DER wrappers).
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { concat, equalBytes, fromHex } from './bytes.js';

const ED_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const X_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

const privateKey = (prefix, seed) =>
  createPrivateKey({ key: Buffer.from(concat(prefix, seed)), format: 'der', type: 'pkcs8' });
export const publicKey = (prefix, raw) =>
  createPublicKey({ key: Buffer.from(concat(prefix, raw)), format: 'der', type: 'spki' });
const rawPublic = (key) =>
  new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32));

/** A seed as 64 hex, 32 bytes, or a keygen file object {public_key, secret_key}. */
export function seedBytes(key, what = 'key') {
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new TypeError(`${what}: expected a 32-byte seed`);
    return key;
  }
  if (typeof key === 'string') return fromHex(key, 32, what);
  if (key && typeof key.secret_key === 'string') {
    const seed = fromHex(key.secret_key, 32, `${what}.secret_key`);
    if (key.public_key !== undefined && !equalBytes(ed25519PublicKey(seed), fromHex(key.public_key, 32, `${what}.public_key`))) {
      throw new TypeError(`${what}: public_key is not the key of secret_key`);
    }
    return seed;
  }
  throw new TypeError(`${what}: expected a 32-byte seed (hex or bytes) or a keygen file object`);
}

export function ed25519PublicKey(seed) {
  return rawPublic(privateKey(ED_PKCS8, seed));
}

export function ed25519Sign(seed, message) {
  return new Uint8Array(sign(null, Buffer.from(message), privateKey(ED_PKCS8, seed)));
}

export function ed25519Verify(publicRaw, message, signature) {
  try {
    return verify(null, Buffer.from(message), publicKey(ED_SPKI, publicRaw), Buffer.from(signature));
  } catch {
    return false;
  }
}

export function x25519Private(seed) {
  return privateKey(X_PKCS8, seed);
}

export function x25519PublicRaw(key) {
  return rawPublic(key);
}

export function x25519Public(raw) {
  return publicKey(X_SPKI, raw);
}
