// Kraken spot: ccxt kraken.sign() ('private' api, always POST) with a frozen
// clock is the oracle: body = nonce first, then the parameters (form, or JSON
// for AddOrderBatch/CancelOrderBatch and '%' trigger prices), API-Sign =
// base64(HMAC-SHA512(base64decode(secret), path ‖ SHA256(nonce ‖ body))),
// re-computed with node:crypto. Two modes: "ccxt" (the body as ccxt sends it,
// nonce included: sigil checks it) and "insert" (ccxt's body minus its leading
// nonce: sigil must insert it back first, giving ccxt's bytes).
import ccxt from 'ccxt';
import { createHash, createHmac } from 'node:crypto';
import { randToken } from '../lib/keys.mjs';
import { randomParams, jsonValue, clientId } from '../lib/gen.mjs';
import { splitSigned, agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'kraken';

// Kraken's docs example key (venues.md §10): public, safe to print.
const FIXED = { api_key: 'kraken-docs-example-key', secret: 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==' };
const JSON_PATHS = ['AddOrderBatch', 'CancelOrderBatch'];
const SAFE_NAME = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789';

let table = null;
function endpoints() {
  if (!table) table = Object.keys(new ccxt.kraken().api.private.post);
  return table;
}

function nodeSign(secretB64, path, nonce, body) {
  const inner = createHash('sha256').update(Buffer.from(nonce + body, 'utf8')).digest();
  return createHmac('sha512', Buffer.from(secretB64, 'base64')).update(Buffer.concat([Buffer.from(path, 'utf8'), inner])).digest('base64');
}

function creds(rng, ctx) {
  if (rng.chance(0.3)) return { creds: { ...FIXED }, pub: true, desc: 'fixed Kraken docs key' };
  const idx = rng.int(0, 3);
  const r = ctx.keyRng('kraken', idx);
  return { creds: { api_key: randToken(r, 56, SAFE_NAME + '+/'), secret: Buffer.from(r.bytes(64)).toString('base64') }, pub: false, desc: `seeded kraken-${idx}` };
}

function refusalCase(rng, base, ts) {
  const ok = { method: 'POST', path: '/0/private/Balance', query: '', body: `nonce=${ts}&asset=XBT`, timestamp: ts };
  const kinds = [
    ['bad_field', 'nonce parameter differs from request.timestamp', () => ({ request: { ...ok, body: `nonce=${ts + 1}&asset=XBT` } })],
    ['bad_field', 'JSON nonce differs from request.timestamp', () => ({ request: { ...ok, path: '/0/private/AddOrderBatch', body: `{"nonce":"${ts - 1}","orders":[]}` } })],
    ['bad_field', 'nonce spelled in another letter case', () => ({ request: { ...ok, body: `Nonce=${ts}&asset=XBT` } })],
    ['unknown_field', 'kraken has no recv_window', () => ({ request: { ...ok, recv_window: 5000 } })],
    ['bad_request', 'kraken spot has no testnet', () => ({ request: ok, network: 'testnet' })],
    ['bad_field', 'a query would travel unsigned', () => ({ request: { ...ok, query: 'asset=XBT' } })],
    ['bad_field', 'kraken private endpoints are POST', () => ({ request: { ...ok, method: 'GET', body: '' } })],
    ['bad_field', 'not a /0/private/ path', () => ({ request: { ...ok, path: rng.pick(['/0/public/Time', '/0/private/', '/api/v1/Balance']) } })],
    ['out_of_range', 'timestamp not Unix ms', () => ({ request: { ...ok, timestamp: rng.pick([1, 1700000000, 100000000000000]) } })],
    ['duplicate_key', 'duplicate form parameter', () => ({ request: { ...ok, body: `nonce=${ts}&asset=XBT&asset=ETH` } })],
    ['bad_json', 'JSON body not strict', () => ({ request: { ...ok, path: '/0/private/AddOrderBatch', body: `{"nonce":"${ts}",}` } })],
  ];
  const [code, why, make] = rng.pick(kinds);
  const m = make();
  return refusal({ ...base, request: m.request, network: m.network }, code, why);
}

export function makeCase(rng, i, ctx) {
  const { creds: c, pub, desc } = creds(rng, ctx);
  const ts = timestampMs(rng);
  const base = { venue: 'kraken', credFile: { ...c }, credsPublic: pub, credsDesc: desc };
  if (rng.chance(NEG_RATE)) return refusalCase(rng, base, ts);
  const path = rng.chance(0.1) ? rng.pick(JSON_PATHS) : rng.pick(endpoints());
  const ex = new ccxt.kraken({ apiKey: c.api_key, secret: c.secret });
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  let params;
  if (JSON_PATHS.includes(path)) {
    params = { orders: Array.from({ length: rng.int(0, 3) }, () => Object.fromEntries(randomParams(rng, { max: 4, reserved: ['nonce'], valueGen: (r) => jsonValue(r) }))) };
    for (const [k, v] of randomParams(rng, { max: 3, reserved: ['nonce', 'orders', 'price'], valueGen: (r) => jsonValue(r) })) params[k] = v;
  } else {
    // ccxt leaves form names unencoded (urlencodeNested): keep them plain
    params = {};
    const n = rng.int(0, 8);
    for (let k = 0; k < n; k++) {
      const name = rng.chance(0.7) ? rng.pick(['pair', 'type', 'ordertype', 'volume', 'txid', 'userref', 'asset', 'start', 'end', 'ofs', 'oflags', 'cl_ord_id', 'otp']) : randToken(rng, rng.int(1, 10), SAFE_NAME);
      // integer-like names would come first in a JS object, before ccxt's nonce
      if (name.toLowerCase() === 'nonce' || name === 'price' || /^[0-9]+$/.test(name)) continue;
      params[name] = rng.pick([() => clientId(rng), () => String(rng.int(0, 1e9)), () => randomParams(rng, { min: 1, max: 1 })[0][1]])();
    }
    if (rng.chance(0.2)) params.price = rng.chance(0.4) ? `+${rng.int(1, 9)}.5%` : String(rng.int(1, 99999));
  }
  const r = ex.sign(path, 'private', 'POST', params);
  const { path: p, query, body } = splitSigned(r);
  const h = r.headers;
  agree('kraken API-Sign ccxt vs node:crypto', h['API-Sign'], nodeSign(c.secret, p, String(ts), body), { p, body });
  const json = body.startsWith('{');
  let sent = body;
  let mode = 'ccxt';
  if (rng.chance(0.4)) {
    const prefix = json ? `{"nonce":"${ts}"` : `nonce=${ts}`;
    if (!body.startsWith(prefix)) throw new Error(`kraken: ccxt body does not start with the nonce: ${body}`);
    const rest = body.slice(prefix.length);
    sent = json ? '{' + rest.replace(/^,/, '') : rest.replace(/^&/, '');
    mode = 'insert';
  }
  const credFile = { ...c };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  return {
    asciiRequest: rng.chance(0.15), ...base, credFile, network: rng.chance(0.3) ? 'mainnet' : undefined,
    request: { method: 'POST', path: p, query, body: sent, timestamp: ts },
    info: `ccxt kraken.sign('${path}', 'private', 'POST') [${mode}]`,
    compare: 'cex',
    expect: { method: 'POST', path: p, query, body, headers: { required: { 'API-Key': h['API-Key'], 'API-Sign': h['API-Sign'], 'Content-Type': h['Content-Type'] } } },
  };
}
