// Gate API v4: ccxt gate.sign() (private api) with a frozen clock is the
// oracle. Path = /api/v4/<type>/<endpoint>, sent and signed as is; GET/DELETE
// (and futures/delivery POST dual*/positions*) queries are sent urlencode()d
// and signed rawencode()d (decoded); other bodies are JSON. SIGN is
// re-computed with node:crypto over METHOD\npath\ndecoded query\n
// hex(SHA512(body))\nseconds. Left out: PATCH (not a sigil method), the
// settle/batch_cancel_orders array special case, and POSTs with a 'query'
// param (ccxt then sends a query it does not sign). Testnet: same signature.
import ccxt from 'ccxt';
import { createHash, createHmac } from 'node:crypto';
import { randToken } from '../lib/keys.mjs';
import { bigJsonObject, randomParams, jsonValue, clientId } from '../lib/gen.mjs';
import { splitSigned, agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { NEG_RATE, cexRefusal, refusal } from '../lib/negative.mjs';

export const label = 'gate';

// venues.md §12 test key: public, safe to print.
const FIXED = { api_key: 'gate_key_0123456789', secret: 'gate_secret_0123456789abcdef' };

let table = null;
function endpoints() {
  if (table) return table;
  const ex = new ccxt.gate();
  table = [];
  for (const [type, methods] of Object.entries(ex.api.private)) {
    if (!ex.urls.api.private[type]) continue; // ccxt has no URL for it (flash_swap)
    for (const [m, paths] of Object.entries(methods)) {
      if (m === 'patch') continue;
      for (const p of Object.keys(paths)) if (!p.includes('batch_cancel_orders')) table.push([type, m.toUpperCase(), p]);
    }
  }
  return table;
}

function nodeSign(secret, payload) {
  return createHmac('sha512', Buffer.from(secret, 'utf8')).update(Buffer.from(payload, 'utf8')).digest('hex');
}

export function makeCase(rng, i, ctx) {
  let creds, pub, desc;
  if (rng.chance(0.3)) {
    creds = { ...FIXED };
    pub = true;
    desc = 'fixed venues.md Gate key';
  } else {
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('gate', idx);
    creds = { api_key: r.hex(16), secret: r.hex(32) };
    pub = false;
    desc = `seeded gate-${idx}`;
  }
  const network = rng.pick(['mainnet', 'testnet', undefined]);
  const ts = timestampMs(rng);
  if (rng.chance(NEG_RATE)) {
    const base = { venue: 'gate', network, credFile: { ...creds }, credsPublic: pub, credsDesc: desc,
      request: { method: 'GET', path: '/api/v4/spot/orders', query: 'currency_pair=BTC_USDT', body: '', timestamp: ts } };
    if (rng.chance(0.3)) {
      return rng.pick([
        () => refusal({ ...base, request: { ...base.request, recv_window: 5000 } }, 'unknown_field', 'gate has no recv_window'),
        () => refusal({ ...base, request: { ...base.request, path: rng.pick(['/spot/orders', '/api/v4', '/api/v3/spot/orders']) } }, 'bad_field', 'path without /api/v4/'),
        () => refusal({ ...base, request: { ...base.request, query: 'text=a+b' } }, 'bad_field', "raw '+' in the query (space or plus?)"),
      ])();
    }
    return cexRefusal(rng, base, { venue: 'gate', jsonBody: true });
  }
  const all = endpoints();
  const method = rng.weighted([[4, 'GET'], [4, 'POST'], [1, 'PUT'], [1.5, 'DELETE']]);
  const [type, , path] = rng.pick(all.filter(([, m]) => m === method));
  const ex = new ccxt.gate({ apiKey: creds.api_key, secret: creds.secret });
  if (network === 'testnet') ex.setSandboxMode(true);
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  const params = {};
  const ids = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const id of ids) params[id] = clientId(rng); // URL-safe path ids
  const reserved = ['query', ...ids];
  if (method === 'GET' || method === 'DELETE') {
    for (const [k, v] of randomParams(rng, { max: 8, reserved })) params[k] = v;
  } else if (!rng.chance(0.15)) {
    for (const [k, v] of randomParams(rng, { max: 8, reserved, valueGen: (r) => jsonValue(r) })) params[k] = v;
    if (rng.chance(0.02)) Object.assign(params, bigJsonObject(rng));
  }
  if (rng.chance(0.1) && (method === 'GET' || method === 'DELETE')) params.currencies = 'BTC,ETH';
  let r;
  try {
    r = ex.sign(path, ['private', type], method, params);
  } catch (e) {
    if (network === 'testnet') { // ccxt has no testnet URL for this type: same signature on mainnet
      const ex2 = new ccxt.gate({ apiKey: creds.api_key, secret: creds.secret });
      ex2.milliseconds = () => ts;
      ex2.options.timeDifference = 0;
      r = ex2.sign(path, ['private', type], method, params);
    } else throw e;
  }
  const { path: p, query, body } = splitSigned(r);
  if (!p.startsWith('/api/v4/')) return makeCase(rng, i, ctx); // e.g. the bare /api/v4 of withdrawals
  const h = r.headers;
  const sec = String(Math.floor(ts / 1000));
  const payload = [method, p, decodeURIComponent(query), createHash('sha512').update(Buffer.from(body, 'utf8')).digest('hex'), sec].join('\n');
  agree('gate SIGN ccxt vs node:crypto', h.SIGN, nodeSign(creds.secret, payload), { payload });
  const required = {};
  for (const k of ['KEY', 'Timestamp', 'SIGN']) required[k] = h[k];
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  return {
    asciiRequest: rng.chance(0.15), venue: 'gate', network,
    credFile, credsPublic: pub, credsDesc: desc,
    request: { method, path: p, query, body, timestamp: ts },
    info: `ccxt gate.sign('${path}', ['private', '${type}'], '${method}')${network === 'testnet' ? ' sandbox' : ''}`,
    compare: 'cex', expect: { method, path: p, query, body, headers: { required, optional: { 'Content-Type': h['Content-Type'] } } },
  };
}
