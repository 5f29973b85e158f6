// ccxt's own signing primitives (the functions its exchange classes call),
// loaded by file path because ccxt's package "exports" hides them. Used as a
// second implementation next to node:crypto wherever a case is not produced
// by a ccxt exchange's sign() directly.
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, '..', 'node_modules', 'ccxt', 'js', 'src');
const imp = (p) => import(pathToFileURL(path.join(src, p)).href);

const cryptoFns = await imp('base/functions/crypto.js');
const rsaFns = await imp('base/functions/rsa.js');
// the same module instances ccxt's binance.js imports
const { ed25519 } = await import(pathToFileURL(path.join(here, '..', 'node_modules', '@noble', 'curves', 'ed25519.js')).href);
const { sha256 } = await import(pathToFileURL(path.join(here, '..', 'node_modules', '@noble', 'hashes', 'sha2.js')).href);

const enc = (s) => new TextEncoder().encode(s);

export function ccxtHmacHex(payload, secret) {
  return cryptoFns.hmac(enc(payload), enc(secret), sha256, 'hex');
}
export function ccxtHmacB64(payload, secret) {
  return cryptoFns.hmac(enc(payload), enc(secret), sha256, 'base64');
}
export function ccxtEd25519B64(payload, pem) {
  return cryptoFns.eddsa(enc(payload), pem, ed25519);
}
export function ccxtRsaB64(payload, pem) {
  return rsaFns.rsa(payload, pem, sha256);
}
