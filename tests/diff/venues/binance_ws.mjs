// Binance WebSocket API request signing (label binance-ws, venue binance).
// The request is the message itself {id, method, params} (+ sigil's optional
// timestamp / recv_window); the expected message is built by the documented
// algorithm (venues.md §1, web-socket-api.md "request security"): all params
// but signature sorted by name, k=v joined with '&', raw UTF-8 values, signed
// with node:crypto and with ccxt's primitives (must agree), and where its
// helper applies, with ccxt.pro binance.signParams() (keysort + rawencode) as a
// third implementation: it takes part when recvWindow is absent or an integer
// (it reads recvWindow with safeInteger) and no param name is integer-like (a JS
// object enumerates those first). The whole output line is compared.
import ccxt from 'ccxt';
import { FIXED_CEX, FIXED_ED25519_PEM, fixedRsaPem, seededEd25519Pem, seededRsaPem, randToken } from '../lib/keys.mjs';
import { decimalString, unicodeString, messyString, clientId, SYMBOLS } from '../lib/gen.mjs';
import { signBoth, agree } from '../lib/cex.mjs';
import { stringify } from '../lib/json.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';
import { timestampMs } from './binance.mjs';

export const label = 'binance-ws';

const METHODS = ['order.place', 'order.test', 'order.status', 'order.cancel', 'order.cancelReplace', 'order.amend.keepPriority',
  'openOrders.status', 'openOrders.cancelAll', 'orderList.place.oco', 'sor.order.place', 'account.status', 'account.commission',
  'allOrders', 'myTrades', 'account.rateLimits.orders', 'userDataStream.subscribe.signature'];
const NAMES = ['symbol', 'side', 'type', 'timeInForce', 'quantity', 'price', 'newClientOrderId', 'stopPrice', 'orderId',
  'origClientOrderId', 'quoteOrderQty', 'icebergQty', 'newOrderRespType', 'selfTradePreventionMode', 'strategyId',
  'strategyType', 'trailingDelta', 'cancelReplaceMode', 'cancelOrderId', 'limit', 'startTime', 'endTime', 'fromId',
  'omitZeroBalances', 'computeCommissionRates', 'pegPriceType', 'newQty', 'listClientOrderId', 'aboveType', 'belowType'];
const NUMBERS = [0, 1, 5, 100, 5000, 123456789, 2 ** 53 - 1, 0.5, 0.1, 35000.1, 1.25, 0.001, 99999.99];

function credsFor(rng, ctx, keyType) {
  if (keyType === 'hmac') {
    if (rng.chance(0.3)) return { creds: { ...rng.pick(FIXED_CEX.binance) }, pub: true, desc: 'fixed Binance docs HMAC key' };
    const r = ctx.keyRng('binance-hmac', rng.int(0, 3));
    return { creds: { api_key: randToken(r, 64), secret: randToken(r, 64) }, pub: false, desc: 'seeded binance-hmac' };
  }
  if (keyType === 'ed25519') {
    if (rng.chance(0.4)) return { creds: { api_key: randToken(rng, 64), secret: FIXED_ED25519_PEM }, pub: true, desc: 'RFC 8032 TEST 1 Ed25519 key' };
    const idx = rng.int(0, 3);
    return { creds: { api_key: randToken(ctx.keyRng('binance-ed-api', idx), 64), secret: ctx.cached(`ed-${idx}`, () => seededEd25519Pem(ctx.seed, `binance-ed-${idx}`)) },
      pub: false, desc: `seeded binance-ed25519-${idx}` };
  }
  const fixed = fixedRsaPem(ctx.sharedDir);
  if (fixed && rng.chance(0.5)) return { creds: { api_key: randToken(rng, 64), secret: fixed }, pub: true, desc: 'Binance public RSA test key' };
  return { creds: { api_key: randToken(ctx.keyRng('binance-rsa-api', 0), 64), secret: ctx.cached('rsa-0', () => seededRsaPem(ctx.seed, 'rsa-0')) },
    pub: false, desc: 'seeded rsa-0 (2048-bit)' };
}

function value(rng, name) {
  if (name === 'symbol' && rng.chance(0.8)) return rng.pick(SYMBOLS);
  return rng.weighted([[5, () => decimalString(rng)], [2, () => clientId(rng)], [2, () => unicodeString(rng)],
    [2, () => messyString(rng)], [2, () => rng.pick(NUMBERS)], [1, () => rng.int(0, 2 ** 31)], [1, () => rng.chance(0.5)],
    [0.5, () => '']])();
}

function randomParams(rng, max) {
  const out = [];
  const used = new Set(['apikey', 'timestamp', 'recvwindow', 'signature']);
  for (let n = rng.int(0, max), guard = 0; out.length < n && guard < 100; guard++) {
    const name = rng.chance(0.8) ? rng.pick(NAMES) : randToken(rng, rng.int(1, 20), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789');
    if (used.has(name.toLowerCase())) continue;
    used.add(name.toLowerCase());
    out.push([name, value(rng, name)]);
  }
  return out;
}

const text = (v) => (typeof v === 'string' ? v : String(v));

export function makeCase(rng, i, ctx) {
  const keyType = rng.weighted([[5, 'hmac'], [3, 'ed25519'], [2, 'rsa']]);
  const { creds, pub, desc } = credsFor(rng, ctx, keyType);
  const credFile = { ...creds };
  if (keyType !== 'hmac' || rng.chance(0.5)) credFile.key_type = keyType;
  const base = { venue: 'binance', credFile, credsPublic: pub, credsDesc: `${desc} (${keyType})` };
  const ts = timestampMs(rng);
  if (rng.chance(NEG_RATE)) return refusalCase(rng, base, ts, keyType, creds);

  const logon = keyType === 'ed25519' && rng.chance(0.15);
  const method = logon ? 'session.logon' : rng.pick(METHODS);
  const given = logon ? [] : randomParams(rng, 10);
  const top = {};
  // apiKey: given (must be the key's) or added by sigil
  if (rng.chance(0.4)) given.splice(rng.int(0, given.length), 0, ['apiKey', creds.api_key]);
  // timestamp: in params (number or string), top-level, or both (equal)
  const tsMode = rng.weighted([[3, 'param'], [1, 'paramStr'], [3, 'top'], [1, 'both']]);
  if (tsMode !== 'top') given.splice(rng.int(0, given.length), 0, ['timestamp', tsMode === 'paramStr' ? String(ts) : ts]);
  if (tsMode === 'top' || tsMode === 'both') top.timestamp = ts;
  // recvWindow: none, in params (int, string, decimal string), top-level, or both
  const rw = rng.int(1, 60000);
  const rwMode = rng.weighted([[4, 'none'], [2, 'param'], [1, 'paramStr'], [1, 'paramDec'], [2, 'top'], [1, 'both']]);
  if (['param', 'paramStr', 'paramDec', 'both'].includes(rwMode)) {
    const v = rwMode === 'paramStr' ? String(rw) : rwMode === 'paramDec' ? `${Math.min(rw, 59999)}.${rng.int(1, 999)}` : rw;
    given.splice(rng.int(0, given.length), 0, ['recvWindow', v]);
  }
  if (rwMode === 'top' || rwMode === 'both') top.recv_window = rw;

  const all = new Map(given);
  const added = [];
  if (!all.has('apiKey')) added.push(['apiKey', creds.api_key]);
  if (!all.has('timestamp')) added.push(['timestamp', ts]);
  if (!all.has('recvWindow') && top.recv_window !== undefined) added.push(['recvWindow', top.recv_window]);
  added.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signed = [...given, ...added].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const payload = signed.map(([k, v]) => `${k}=${text(v)}`).join('&');
  const sig = signBoth(keyType, creds.secret, payload, keyType === 'hmac' ? 'hex' : 'base64');

  let oracles = 'node:crypto + ccxt primitives';
  // ccxt's helper builds a JS object: integer-like names would be enumerated first
  if (rwMode !== 'paramDec' && !signed.some(([k]) => /^(0|[1-9][0-9]*)$/.test(k))) {
    const ex = new ccxt.pro.binance({ apiKey: creds.api_key, secret: creds.secret });
    ex.milliseconds = () => ts;
    ex.options.timeDifference = 0;
    ex.options.recvWindow = undefined;
    const p = ex.signParams(Object.fromEntries(signed));
    agree('binance ws signature: ccxt.pro signParams vs node:crypto', p.signature, sig, { payload });
    oracles += ' + ccxt.pro signParams';
  }

  const id = rng.weighted([[3, () => rng.int(0, 2 ** 31)], [3, () => clientId(rng)], [1, () => null]])();
  const params = Object.fromEntries([...given, ...added, ['signature', sig]]);
  const request = { id, method, params: Object.fromEntries(given), ...top };
  if (rng.chance(0.1)) request.recv_window = request.recv_window ?? null;
  const asciiRequest = rng.chance(0.15);
  return {
    ...base, asciiRequest, request, info: `${method} (${keyType}; timestamp ${tsMode}, recvWindow ${rwMode}; ${oracles})`,
    compare: 'hl', expect: { text: stringify({ id, method, params }, { asciiOnly: asciiRequest }) },
  };
}

function refusalCase(rng, base, ts, keyType, creds) {
  const msg = (params, more = {}) => ({ id: 1, method: 'order.place', params: { symbol: 'BTCUSDT', ...params }, ...more });
  const kinds = [
    ['bad_field', 'params.signature already present', () => msg({ signature: 'x' }, { timestamp: ts })],
    ['bad_field', 'params.timestamp differs from request.timestamp', () => msg({ timestamp: ts + 1 }, { timestamp: ts })],
    ['missing_field', 'no timestamp anywhere', () => msg({})],
    ['bad_field', 'params.apiKey is not the key\'s', () => msg({ apiKey: 'someone-else', timestamp: ts })],
    ['bad_field', 'a reserved name in other letter case', () => msg({ Timestamp: ts }, { timestamp: ts })],
    ['bad_field', 'a number with an exponent', () => msg({ price: 1e-7, timestamp: ts })],
    ['bad_field', 'a nested value', () => msg({ a: [1], timestamp: ts })],
    ['out_of_range', 'params.recvWindow above 60000', () => msg({ recvWindow: 60001, timestamp: ts })],
    ['out_of_range', 'params.timestamp not in Unix ms', () => msg({ timestamp: Math.floor(ts / 1000) })],
  ];
  if (keyType !== 'ed25519') kinds.push(['unknown_key_type', 'session.logon with a non-Ed25519 key', () => ({ id: 1, method: 'session.logon', params: {}, timestamp: ts })]);
  else kinds.push(['unknown_field', 'session.logon with an order param', () => ({ id: 1, method: 'session.logon', params: { symbol: 'X' }, timestamp: ts })]);
  void creds;
  const [code, why, make] = rng.pick(kinds);
  return refusal({ ...base, request: make() }, code, why);
}
