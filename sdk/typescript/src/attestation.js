// Verification of a Nitro attestation document (COSE_Sign1, ES384), as
// docs/ATTESTATION.md and docs/PROVISIONING.md step 2 describe, with node's
// crypto: chain to a pinned root, signature, debug PCRs, measurement, nonce,
// freshness, and the Sigil boot binding in user_data.
import { X509Certificate, createHash, verify } from 'node:crypto';
import { decode, encode, CborMap, CborTag } from './cbor.js';
import { equalBytes, fromHex, toHex } from './bytes.js';
import { AttestationError } from './errors.js';

const AWS_ROOT_G1_DER = Buffer.from(
  'MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTELMAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYDVQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQLDANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEGBSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZEh8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkFR+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPWrfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6NIwLz3/Y=',
  'base64');
const AWS_ROOT_G1_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
const PROTECTED_ES384 = Buffer.from('a1013822', 'hex'); // {1: -35}
const MAX_AGE_MS = 5 * 60 * 1000;
const MAX_SKEW_MS = 60 * 1000;
const PAYLOAD_KEYS = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle',
  'public_key', 'user_data', 'nonce'];
const OPTIONAL_KEYS = new Set(['public_key', 'user_data', 'nonce']);

const fail = (message) => {
  throw new AttestationError(message);
};
const check = (cond, message) => cond || fail(message);

/** The pinned root: 'aws' (built in, fingerprint-checked) or a PEM/DER dev root. */
export function rootCertificate(root) {
  check(root !== undefined && root !== null, 'a root is required (aws or a dev root PEM)');
  if (root === 'aws') {
    const cert = new X509Certificate(AWS_ROOT_G1_DER);
    check(createHash('sha256').update(cert.raw).digest('hex') === AWS_ROOT_G1_SHA256,
      'built-in AWS root fingerprint mismatch');
    return cert;
  }
  if (root instanceof X509Certificate) return root;
  try {
    return new X509Certificate(root);
  } catch {
    return fail('root: not a certificate');
  }
}

function parseEnvelope(bytes) {
  let top;
  try {
    top = decode(bytes);
  } catch (e) {
    return fail(`envelope: ${e.message}`);
  }
  if (top instanceof CborTag) {
    check(top.tag === 18, 'envelope: unexpected tag');
    top = top.value;
  }
  check(Array.isArray(top) && top.length === 4, 'envelope: not a COSE_Sign1 array');
  const [prot, unprot, payload, signature] = top;
  check(prot instanceof Uint8Array && equalBytes(prot, PROTECTED_ES384),
    'envelope: protected header is not {1: -35} (ES384)');
  check(unprot instanceof CborMap, 'envelope: unprotected header is not a map');
  check(payload instanceof Uint8Array && payload.length > 0, 'envelope: empty payload');
  check(signature instanceof Uint8Array && signature.length === 96, 'envelope: signature is not 96 bytes');
  return { prot, payload, signature };
}

const isBytes = (v, min, max) => v instanceof Uint8Array && v.length >= min && v.length <= max;

function parsePayload(payload) {
  let map;
  try {
    map = decode(payload);
  } catch (e) {
    return fail(`payload: ${e.message}`);
  }
  check(map instanceof CborMap, 'payload: not a map');
  const keys = map.keys();
  check(new Set(keys).size === keys.length, 'payload: duplicate key');
  keys.forEach((k) => check(PAYLOAD_KEYS.includes(k), `payload: unknown key ${k}`));
  const doc = {};
  for (const k of PAYLOAD_KEYS) {
    const v = map.get(k);
    check(v !== undefined || OPTIONAL_KEYS.has(k), `payload: missing ${k}`);
    doc[k] = v === undefined ? null : v;
  }
  check(typeof doc.module_id === 'string' && /^[\x20-\x7e]+$/.test(doc.module_id), 'payload: bad module_id');
  check(doc.digest === 'SHA384', 'payload: digest is not SHA384');
  check(Number.isInteger(doc.timestamp) && doc.timestamp > 0, 'payload: bad timestamp');
  check(doc.pcrs instanceof CborMap && doc.pcrs.pairs.length >= 1 && doc.pcrs.pairs.length <= 32,
    'payload: bad pcrs');
  const pcrs = new Map();
  for (const [i, v] of doc.pcrs.pairs) {
    check(Number.isInteger(i) && i >= 0 && i < 32 && !pcrs.has(i) && isBytes(v, 48, 48), 'payload: bad pcr');
    pcrs.set(i, v);
  }
  doc.pcrs = pcrs;
  check(isBytes(doc.certificate, 1, 1024), 'payload: bad certificate');
  check(Array.isArray(doc.cabundle) && doc.cabundle.length >= 1 && doc.cabundle.length <= 8 &&
    doc.cabundle.every((c) => isBytes(c, 1, 1024)), 'payload: bad cabundle');
  for (const k of OPTIONAL_KEYS) {
    check(doc[k] === null || isBytes(doc[k], 0, 1024), `payload: bad ${k}`);
  }
  return doc;
}

function validAt(cert, timeMs, what) {
  check(Date.parse(cert.validFrom) <= timeMs && timeMs <= Date.parse(cert.validTo),
    `chain: ${what} certificate not valid at ${new Date(timeMs).toISOString()}`);
}

function verifyChain(doc, root, timeMs) {
  let leaf, inter;
  try {
    leaf = new X509Certificate(doc.certificate);
    inter = doc.cabundle.slice(1).reverse().map((c) => new X509Certificate(c));
  } catch {
    return fail('chain: malformed certificate');
  }
  const path = [leaf, ...inter];
  path.forEach((cert, i) => {
    const issuer = i + 1 < path.length ? path[i + 1] : root;
    check(cert.checkIssued(issuer) && cert.verify(issuer.publicKey), 'chain: does not chain to the pinned root');
    check(i === 0 ? !cert.ca : cert.ca, 'chain: certificate role');
    validAt(cert, timeMs, i === 0 ? 'leaf' : 'intermediate');
  });
  validAt(root, timeMs, 'root');
  const details = leaf.publicKey.asymmetricKeyDetails;
  check(leaf.publicKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1',
    'chain: leaf key is not EC P-384');
  return leaf;
}

/** The Sigil boot binding in user_data (docs/ATTESTATION.md): exactly 4 members in order. */
export function decodeBootBinding(userData) {
  check(userData instanceof Uint8Array && userData.length === 132, 'boot binding: bad length');
  let map;
  try {
    map = decode(userData);
  } catch (e) {
    return fail(`boot binding: ${e.message}`);
  }
  const want = [['sigil', null], ['boot_id', 16], ['sealing_key', 32], ['receipt_key', 32]];
  check(map instanceof CborMap && map.pairs.length === 4, 'boot binding: not a 4-member map');
  want.forEach(([k, len], i) => {
    const [key, v] = map.pairs[i];
    check(key === k, `boot binding: member ${i} is not ${k}`);
    check(len === null ? v === 'boot-v1' : isBytes(v, len, len), `boot binding: bad ${k}`);
  });
  return { bootId: toHex(map.get('boot_id')), sealingKey: map.get('sealing_key'),
    receiptKey: map.get('receipt_key') };
}

function toBytes(document) {
  if (document instanceof Uint8Array) return document;
  check(typeof document === 'string', 'document: expected bytes or base64');
  const b = Buffer.from(document, 'base64');
  check(b.toString('base64') === document, 'document: malformed base64');
  return new Uint8Array(b);
}

/**
 * Verifies a document. opts: root ('aws' | PEM), measurement (96 hex,
 * required), nonce (bytes or hex; checked when given), time (ms; default
 * now), atDocumentTime (receipts: check the chain at the document's own
 * time, no freshness), allowDebug.
 */
export function verifyAttestation(document, opts = {}) {
  const bytes = toBytes(document);
  const root = rootCertificate(opts.root);
  check(typeof opts.measurement === 'string' && /^[0-9a-f]{96}$/.test(opts.measurement),
    'measurement: 96 lowercase hex digits are required');
  const env = parseEnvelope(bytes);
  const doc = parsePayload(env.payload);
  const now = opts.time ?? Date.now();
  const leaf = verifyChain(doc, root, opts.atDocumentTime ? doc.timestamp : now);
  const sigStructure = encode(['Signature1', env.prot, new Uint8Array(0), env.payload]);
  check(verify('sha384', sigStructure, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
    env.signature), 'signature: ES384 does not verify');
  const zero = (i) => !doc.pcrs.has(i) || doc.pcrs.get(i).every((b) => b === 0);
  check(opts.allowDebug || ![0, 1, 2].some(zero), 'debug enclave (PCR0..2 zero or absent)');
  check(toHex(doc.pcrs.get(0)) === opts.measurement, 'measurement: PCR0 is not the pinned measurement');
  if (opts.nonce !== undefined) {
    const nonce = typeof opts.nonce === 'string' ? fromHex(opts.nonce, undefined, 'nonce') : opts.nonce;
    check(doc.nonce !== null && equalBytes(doc.nonce, nonce), 'nonce: not the challenge');
  }
  if (!opts.atDocumentTime) {
    check(doc.timestamp >= now - MAX_AGE_MS, 'freshness: document older than 5 minutes');
    check(doc.timestamp <= now + MAX_SKEW_MS, 'freshness: document more than 60 s in the future');
  }
  const binding = decodeBootBinding(doc.user_data);
  return { ...binding, timestamp: doc.timestamp, moduleId: doc.module_id, pcrs: doc.pcrs,
    nonce: doc.nonce, measurement: opts.measurement };
}
