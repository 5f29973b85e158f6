// Deribit API v2. HTTP: ccxt deribit.sign() with a frozen clock is the oracle
// (GET, urlencoded query, nonce = ms timestamp as ccxt sends it); cases with
// other nonces and POST JSON bodies (which ccxt never sends) are built by the
// documented rule (venues.md §13). Authorization's sig is re-computed with
// node:crypto and ccxt's HMAC primitive. JSON-RPC public/auth
// (client_signature): ccxt.pro builds it inside an async WebSocket method, so
// the expected message copies its layout (deribit.js authenticate()) and the
// signature comes from node:crypto + ccxt's primitive. The whole output line is
// compared byte for byte.
import ccxt from 'ccxt';
import { randToken } from '../lib/keys.mjs';
import { randomParams, jsonValue, unicodeString, longUnicode } from '../lib/gen.mjs';
import { signBoth, splitSigned, agree } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';
import { timestampMs } from './binance.mjs';

export const label = 'deribit';

const FIXED = { api_key: 'AMANDA', secret: 'AMANDASECRECT' }; // venues.md §13
const NONCE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

let table = null;
function endpoints() {
  if (table) return table;
  table = Object.keys(new ccxt.deribit().api.private.get);
  return table;
}

function credsFor(rng, ctx) {
  if (rng.chance(0.25)) return { creds: { ...FIXED }, pub: true, desc: 'venues.md Deribit key' };
  const idx = rng.int(0, 3);
  const r = ctx.keyRng('deribit', idx);
  return { creds: { api_key: randToken(r, 8), secret: randToken(r, 43, NONCE_CHARS) }, pub: false, desc: `seeded deribit-${idx}` };
}

const randNonce = (rng) => rng.weighted([[2, () => String(rng.int(1, 2 ** 53 - 1))], [3, () => randToken(rng, rng.int(1, 32), NONCE_CHARS)],
  [1, () => randToken(rng, 128, NONCE_CHARS)]])();

function authHeader(creds, ts, nonce, method, target, body) {
  const presign = `${ts}\n${nonce}\n${method}\n${target}\n${body}\n`;
  const sig = signBoth('hmac', creds.secret, presign, 'hex');
  return `deri-hmac-sha256 id=${creds.api_key},ts=${ts},sig=${sig},nonce=${nonce}`;
}

function ccxtCase(rng, base) {
  const { creds } = base;
  const ts = timestampMs(rng);
  const path = rng.pick(endpoints());
  const ex = new ccxt.deribit({ apiKey: creds.api_key, secret: creds.secret });
  ex.milliseconds = () => ts;
  const params = Object.fromEntries(randomParams(rng, { max: 6 }));
  const r = ex.sign(path, 'private', 'GET', params);
  const { path: p, query } = splitSigned(r);
  const want = authHeader(creds, ts, String(ts), 'GET', p + (query ? '?' + query : ''), '');
  agree('deribit Authorization ccxt vs node:crypto', r.headers.Authorization, want, { path, params });
  return {
    ...base, request: { method: 'GET', path: p, query, body: '', timestamp: ts, nonce: String(ts) },
    info: `ccxt deribit.sign('${path}', 'private', 'GET')`,
    compare: 'cex', expect: { method: 'GET', path: p, query, body: '', headers: { required: { Authorization: r.headers.Authorization }, forbidden: ['Content-Type'] } },
  };
}

function ruleCase(rng, base) {
  const { creds } = base;
  const ts = timestampMs(rng);
  const method = rng.chance(0.5) ? 'POST' : 'GET';
  const path = '/api/v2/private/' + rng.pick(endpoints());
  let query = '', body = '';
  if (method === 'GET' || rng.chance(0.2)) query = new ccxt.deribit().urlencode(Object.fromEntries(randomParams(rng, { max: 6 })));
  if (method === 'POST' && rng.chance(0.9)) {
    body = JSON.stringify({ jsonrpc: '2.0', id: rng.int(0, 99999), method: path.slice(8), params: Object.fromEntries(randomParams(rng, { max: 6, valueGen: (r) => jsonValue(r) })) });
  }
  const nonce = randNonce(rng);
  const headers = { required: { Authorization: authHeader(creds, ts, nonce, method, path + (query ? '?' + query : ''), body) } };
  if (body) headers.required['Content-Type'] = 'application/json';
  else headers.forbidden = ['Content-Type'];
  return {
    ...base, asciiRequest: rng.chance(0.15), request: { method, path, query, body, timestamp: ts, nonce },
    info: `documented rule, ${method}${body ? ' with a JSON-RPC body' : ''}`,
    compare: 'cex', expect: { method, path, query, body, headers },
  };
}

function authCase(rng, base) {
  const { creds } = base;
  const ts = timestampMs(rng);
  const nonce = rng.chance(0.4) ? String(ts) : randNonce(rng); // ccxt: the timestamp
  const data = rng.weighted([[5, ''], [2, () => unicodeString(rng)], [1, () => longUnicode(rng, 100, 2000)]]);
  const dataText = typeof data === 'function' ? data() : data;
  const id = rng.int(0, 2 ** 31);
  const params = { grant_type: 'client_signature' };
  if (rng.chance(0.3)) params.client_id = creds.api_key;
  params.timestamp = ts;
  params.nonce = nonce;
  if (dataText !== '' || rng.chance(0.5)) params.data = dataText;
  const request = { jsonrpc: '2.0', id, method: 'public/auth', params };
  const signature = signBoth('hmac', creds.secret, `${ts}\n${nonce}\n${dataText}`, 'hex');
  // ccxt.pro deribit authenticate(): {jsonrpc, id, method, params: {grant_type, client_id, timestamp, signature, nonce, data}}
  const want = { jsonrpc: '2.0', id, method: 'public/auth',
    params: { grant_type: 'client_signature', client_id: creds.api_key, timestamp: ts, signature, nonce, data: dataText } };
  return {
    ...base, asciiRequest: rng.chance(0.15), request, info: 'public/auth client_signature',
    compare: 'hl', expect: { text: JSON.stringify(want) },
  };
}

function refusalCase(rng, base) {
  const ts = timestampMs(rng);
  const http = { method: 'GET', path: '/api/v2/private/get_account_summary', query: 'currency=BTC', body: '', timestamp: ts, nonce: 'abcd' };
  const auth = { jsonrpc: '2.0', id: 1, method: 'public/auth', params: { grant_type: 'client_signature', timestamp: ts, nonce: 'abcd', data: '' } };
  const kinds = [
    ['missing_field', 'no nonce', () => { const r = { ...http }; delete r.nonce; return r; }],
    ['bad_field', 'nonce with a comma (it goes into the Authorization header)', () => ({ ...http, nonce: 'a,b' })],
    ['out_of_range', 'timestamp not in Unix ms', () => ({ ...http, timestamp: BigInt(ts) * 1000n })],
    ['bad_field', 'a GET with a body', () => ({ ...http, body: '{}' })],
    ['unknown_field', 'recv_window: Deribit has none', () => ({ ...http, recv_window: 5000 })],
    ['bad_field', 'public/auth with a signature already', () => ({ ...auth, params: { ...auth.params, signature: '00' } })],
    ['bad_field', 'public/auth client_id that is not the key', () => ({ ...auth, params: { ...auth.params, client_id: 'someone-else' } })],
    ['bad_field', 'another grant type', () => ({ ...auth, params: { ...auth.params, grant_type: 'client_credentials' } })],
    ['bad_field', 'another JSON-RPC method', () => ({ ...auth, method: 'private/buy' })],
  ];
  const [code, why, make] = rng.pick(kinds);
  return refusal({ ...base, request: make() }, code, why);
}

export function makeCase(rng, i, ctx) {
  const { creds, pub, desc } = credsFor(rng, ctx);
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  const base = { venue: 'deribit', network: rng.weighted([[2, undefined], [1, 'mainnet'], [1, 'testnet']]), credFile, credsPublic: pub, credsDesc: desc, creds };
  if (rng.chance(NEG_RATE)) return refusalCase(rng, base);
  return rng.weighted([[5, ccxtCase], [3, ruleCase], [2, authCase]])(rng, base);
}
