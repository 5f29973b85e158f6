// Bitfinex API v2. REST: ccxt bitfinex.sign() with a frozen clock is the oracle
// (nonce = ms timestamp, body = ccxt's JSON, "{}" without params); sigil gets
// request.timestamp, or ccxt's nonce as request.nonce (µs nonces as Bitfinex's
// own clients send them, via ccxt's nonce()). bfx-signature is re-computed with
// node:crypto (HMAC-SHA384 over "/api" + path + nonce + body). WebSocket auth:
// ccxt.pro builds it inside an async WebSocket method, so the expected message
// copies its layout (bitfinex.js authenticate()); authSig from node:crypto and
// ccxt's HMAC primitive with @noble SHA-384. Whole line compared byte for byte.
import { createHmac } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import ccxt from 'ccxt';
import { randToken } from '../lib/keys.mjs';
import { randomParams, jsonValue, bigJsonObject } from '../lib/gen.mjs';
import { splitSigned, agree } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';
import { timestampMs } from './binance.mjs';

export const label = 'bitfinex';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = path.join(here, '..', 'node_modules');
const cryptoFns = await import(pathToFileURL(path.join(nm, 'ccxt', 'js', 'src', 'base', 'functions', 'crypto.js')).href);
const { sha384 } = await import(pathToFileURL(path.join(nm, '@noble', 'hashes', 'sha2.js')).href);
const enc = (s) => new TextEncoder().encode(s);

const FIXED = { api_key: 'bfx_key_0123456789', secret: 'bfx_secret_0123456789' }; // venues.md §14

function hmac384(secret, msg) {
  const a = createHmac('sha384', Buffer.from(secret, 'utf8')).update(Buffer.from(msg, 'utf8')).digest('hex');
  const b = cryptoFns.hmac(enc(msg), enc(secret), sha384, 'hex');
  return agree('HMAC-SHA384 node:crypto vs ccxt', a, b, { msg });
}

let table = null;
function endpoints() {
  if (table) return table;
  table = Object.keys(new ccxt.bitfinex().api.private.post).filter((p) => !p.includes('{'));
  return table;
}

function credsFor(rng, ctx) {
  if (rng.chance(0.25)) return { creds: { ...FIXED }, pub: true, desc: 'venues.md Bitfinex key' };
  const idx = rng.int(0, 3);
  const r = ctx.keyRng('bitfinex', idx);
  return { creds: { api_key: randToken(r, 43), secret: randToken(r, 43) }, pub: false, desc: `seeded bitfinex-${idx}` };
}

function restCase(rng, base) {
  const { creds } = base;
  const ts = timestampMs(rng);
  const explicit = rng.chance(0.3);
  const nonce = explicit ? rng.weighted([[3, rng.int(1500000000000, 1900000000000) * 1000 + rng.int(0, 999)], [1, rng.int(1, 2 ** 53 - 1)], [1, 2 ** 53 - 1]]) : ts;
  const ep = rng.pick(endpoints());
  const ex = new ccxt.bitfinex({ apiKey: creds.api_key, secret: creds.secret });
  ex.milliseconds = () => ts;
  if (explicit) ex.nonce = () => nonce;
  let params = rng.chance(0.15) ? {} : Object.fromEntries(randomParams(rng, { max: 8, valueGen: (r) => jsonValue(r) }));
  if (rng.chance(0.02)) params = bigJsonObject(rng);
  const r = ex.sign(ep, 'private', 'POST', params);
  const { path: p, body } = splitSigned(r);
  const h = r.headers;
  agree('bitfinex bfx-signature ccxt vs node:crypto', h['bfx-signature'], hmac384(creds.secret, `/api${p}${nonce}${body}`), { ep, nonce });
  const request = { method: 'POST', path: p, body: body === '{}' && rng.chance(0.5) ? '' : body };
  if (explicit) request.nonce = nonce;
  else request.timestamp = ts;
  if (rng.chance(0.2)) request.query = '';
  const required = {};
  for (const k of ['bfx-nonce', 'bfx-apikey', 'bfx-signature', 'Content-Type']) required[k] = h[k];
  return {
    ...base, asciiRequest: rng.chance(0.15), request,
    info: `ccxt bitfinex.sign('${ep}', 'private', 'POST')${explicit ? ' with request.nonce' : ''}`,
    compare: 'cex', expect: { method: 'POST', path: p, query: '', body, headers: { required } },
  };
}

function wsCase(rng, base) {
  const { creds } = base;
  const nonce = rng.weighted([[2, timestampMs(rng)], [2, rng.int(1500000000000, 1900000000000) * 1000 + rng.int(0, 999)], [1, rng.int(1, 2 ** 53 - 1)]]);
  const payload = 'AUTH' + nonce;
  // ccxt.pro bitfinex authenticate(): {apiKey, authSig, authNonce, authPayload, event}
  const want = { apiKey: creds.api_key, authSig: hmac384(creds.secret, payload), authNonce: nonce, authPayload: payload, event: 'auth' };
  return { ...base, request: { event: 'auth', authNonce: nonce }, info: 'WebSocket auth event', compare: 'hl', expect: { text: JSON.stringify(want) } };
}

function refusalCase(rng, base) {
  const ts = timestampMs(rng);
  const ok = { method: 'POST', path: '/v2/auth/r/wallets', body: '{}', timestamp: ts };
  const kinds = [
    ['bad_request', 'both timestamp and nonce', () => ({ ...ok, nonce: ts })],
    ['bad_request', 'neither timestamp nor nonce', () => ({ method: 'POST', path: '/v2/auth/r/wallets', body: '{}' })],
    ['out_of_range', 'nonce above 2^53 - 1', () => ({ method: 'POST', path: '/v2/auth/r/wallets', nonce: 2n ** 53n })],
    ['out_of_range', 'timestamp in µs (give it as nonce)', () => ({ ...ok, timestamp: BigInt(ts) * 1000n })],
    ['bad_field', 'a GET', () => ({ ...ok, method: 'GET', body: '' })],
    ['bad_field', 'the signed path (/api/v2/…) instead of the sent one', () => ({ ...ok, path: '/api/v2/auth/r/wallets' })],
    ['bad_field', 'a query (it would travel unsigned)', () => ({ ...ok, query: 'a=1' })],
    ['bad_json', 'body not strict JSON', () => ({ ...ok, body: '{"a":1,}' })],
    ['duplicate_key', 'duplicate key in the body', () => ({ ...ok, body: '{"a":1,"a":2}' })],
    ['unknown_field', 'recv_window: Bitfinex has none', () => ({ ...ok, recv_window: 5000 })],
    ['bad_field', 'a WebSocket event other than auth', () => ({ event: 'subscribe', authNonce: ts })],
  ];
  const [code, why, make] = rng.pick(kinds);
  return refusal({ ...base, request: make() }, code, why);
}

export function makeCase(rng, i, ctx) {
  const { creds, pub, desc } = credsFor(rng, ctx);
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  const base = { venue: 'bitfinex', network: rng.weighted([[2, undefined], [1, 'mainnet'], [1, 'testnet']]), credFile, credsPublic: pub, credsDesc: desc, creds };
  if (rng.chance(NEG_RATE)) return refusalCase(rng, base);
  return rng.chance(0.8) ? restCase(rng, base) : wsCase(rng, base);
}
