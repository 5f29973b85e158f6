// Coinbase Advanced Trade (CDP API keys): the oracle builds the JWT the way
// coinbase-advanced-py (ES256) and the CDP SDKs (EdDSA) lay it out
// (venues.md §9) and signs it with @noble/curves: p256 with RFC 6979
// deterministic k (lowS off, raw r||s) or ed25519. Each signature is verified
// with node:crypto (ieee-p1363 for ES256). The request fixes the JWT nonce
// header (request.nonce), so the whole Authorization header is compared byte
// for byte. Keys: seeded P-256 scalars given as SEC1 or PKCS#8 PEM, seeded
// Ed25519 seeds given as base64(seed || pub), and the venues.md keys.
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomParams, jsonValue } from '../lib/gen.mjs';
import { agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { refusal } from '../lib/negative.mjs';

export const label = 'coinbase';

const HOST = 'api.coinbase.com';
const RFC_X = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721';
const ED_FIXED = 'nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==';
const PATHS = [
  ['GET', '/api/v3/brokerage/accounts'], ['GET', '/api/v3/brokerage/accounts/{id}'],
  ['POST', '/api/v3/brokerage/orders'], ['POST', '/api/v3/brokerage/orders/batch_cancel'],
  ['POST', '/api/v3/brokerage/orders/edit'], ['GET', '/api/v3/brokerage/orders/historical/batch'],
  ['GET', '/api/v3/brokerage/orders/historical/{id}'], ['GET', '/api/v3/brokerage/products/{id}/candles'],
  ['GET', '/api/v3/brokerage/portfolios'], ['DELETE', '/api/v3/brokerage/portfolios/{id}'],
  ['PUT', '/api/v3/brokerage/portfolios/{id}'], ['GET', '/api/v3/brokerage/transaction_summary'],
  ['GET', '/v2/accounts/{id}/transactions'], ['POST', '/v2/accounts/{id}/addresses'],
];

const b64url = (s) => Buffer.from(s).toString('base64url');
const toHex = (u8) => Buffer.from(u8).toString('hex');

function p256Pem(dHex, form) {
  const pub = p256.getPublicKey(Buffer.from(dHex, 'hex'), false); // 04 || x || y
  const jwk = { kty: 'EC', crv: 'P-256', d: Buffer.from(dHex, 'hex').toString('base64url'),
    x: Buffer.from(pub.slice(1, 33)).toString('base64url'), y: Buffer.from(pub.slice(33)).toString('base64url') };
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  return { pem: key.export({ format: 'pem', type: form }).toString(), pub: createPublicKey(key) };
}

function p256Scalar(r) {
  const n = p256.Point.Fn.ORDER;
  const d = 1n + r.bigBelow(n - 1n);
  return d.toString(16).padStart(64, '0');
}

function keyFor(rng, ctx) {
  if (rng.chance(0.55)) {
    const fixed = rng.chance(0.2);
    const idx = rng.int(0, 3);
    const dHex = fixed ? RFC_X : p256Scalar(ctx.keyRng('coinbase-p256', idx));
    const form = rng.chance(0.5) ? 'sec1' : 'pkcs8';
    const { pem, pub } = p256Pem(dHex, form);
    return { alg: 'ES256', secret: pem, dHex, pub, pubKey: true, desc: fixed ? `RFC 6979 A.2.5 key (${form})` : `seeded p256-${idx} (${form})` };
  }
  const fixed = rng.chance(0.2);
  const idx = rng.int(0, 3);
  let full;
  if (fixed) full = Buffer.from(ED_FIXED, 'base64');
  else {
    const seed = ctx.keyRng('coinbase-ed25519', idx).bytes(32);
    full = Buffer.concat([seed, Buffer.from(ed25519.getPublicKey(seed))]);
  }
  return { alg: 'EdDSA', secret: full.toString('base64'), seed: full.subarray(0, 32), pubRaw: full.subarray(32),
    pubKey: fixed, desc: fixed ? 'venues.md Ed25519 CDP key' : `seeded ed25519-${idx}` };
}

function keyName(rng) {
  const uuid = () => [8, 4, 4, 4, 12].map((n) => rng.hex(n / 2)).join('-');
  return rng.chance(0.7) ? `organizations/${uuid()}/apiKeys/${uuid()}` : uuid();
}

function jwt(k, kid, nonce, now, method, path) {
  const header = k.alg === 'ES256' ? { alg: 'ES256', kid, nonce, typ: 'JWT' } : { alg: 'EdDSA', kid, typ: 'JWT', nonce };
  const claims = k.alg === 'ES256'
    ? { sub: kid, iss: 'cdp', nbf: now, exp: now + 120, uri: `${method} ${HOST}${path}` }
    : { sub: kid, iss: 'cdp', aud: ['cdp_service'], nbf: now, exp: now + 120, uri: `${method} ${HOST}${path}` };
  const input = b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(claims));
  let sig;
  if (k.alg === 'ES256') {
    sig = p256.sign(Buffer.from(input), Buffer.from(k.dHex, 'hex'), { lowS: false, prehash: true, format: 'compact' });
    agree('coinbase ES256 noble signature verifies with node:crypto', true,
      verify('sha256', Buffer.from(input), { key: k.pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig)), { input });
  } else {
    sig = ed25519.sign(Buffer.from(input), k.seed);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), k.pubRaw]);
    agree('coinbase EdDSA noble signature verifies with node:crypto', true,
      verify(null, Buffer.from(input), createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(sig)), { input });
  }
  return input + '.' + Buffer.from(sig).toString('base64url');
}

export function makeCase(rng, i, ctx) {
  const k = keyFor(rng, ctx);
  const kid = keyName(rng);
  const credFile = { api_key: kid, secret: k.secret };
  const ts = timestampMs(rng);
  const nonce = rng.hex(rng.pick([8, 16, 32]));
  const [method, tmpl] = rng.pick(PATHS);
  const path = tmpl.replace('{id}', rng.chance(0.5) ? rng.hex(8) : 'BTC-USD');
  const qp = method === 'GET' || rng.chance(0.1) ? randomParams(rng, { max: 6 }) : [];
  const query = new URLSearchParams(qp).toString();
  let body = '';
  if ((method === 'POST' || method === 'PUT') && rng.chance(0.85))
    body = JSON.stringify(Object.fromEntries(randomParams(rng, { max: 8, valueGen: (r) => jsonValue(r) })));
  const request = { method, path, query, body, timestamp: ts, nonce };
  const base = { venue: 'coinbase', credFile, credsPublic: k.pubKey, credsDesc: k.desc };
  if (rng.chance(0.08)) {
    return rng.pick([
      () => refusal({ ...base, network: 'testnet', request }, 'bad_request', 'Advanced Trade sandbox takes no auth'),
      () => refusal({ ...base, network: 'mainnet', request: { ...request, recv_window: 5000 } }, 'unknown_field', 'no recv_window'),
      () => refusal({ ...base, network: 'mainnet', request: { ...request, nonce: nonce.toUpperCase() + 'A' } }, 'bad_field', 'nonce not lowercase hex'),
    ])();
  }
  const token = jwt(k, kid, nonce, Math.floor(ts / 1000), method, path);
  const required = { Authorization: 'Bearer ' + token };
  const forbidden = [];
  if (body) required['Content-Type'] = 'application/json';
  else forbidden.push('Content-Type');
  return {
    venue: 'coinbase', network: rng.chance(0.5) ? undefined : 'mainnet', credFile, credsPublic: k.pubKey, credsDesc: k.desc,
    request, info: `${k.alg} JWT (@noble/curves ${k.alg === 'ES256' ? 'p256 RFC 6979' : 'ed25519'})`,
    compare: 'cex', expect: { method, path, query, body, headers: { required, optional: {}, forbidden } },
  };
}
