// OKX V5: ccxt okx.sign() with a frozen clock is the oracle (ISO-8601 ms
// timestamp, base64 HMAC of ts+METHOD+path[?query]+body; no body at all for a
// POST without parameters). Testnet = demo trading: ccxt's setSandboxMode(true)
// adds "x-simulated-trading: 1" to the exchange's default headers (not to
// sign()'s output), so the expected header is taken from there; on mainnet the
// header must be absent. OK-ACCESS-SIGN is re-computed with node:crypto.
import ccxt from 'ccxt';
import { FIXED_CEX, randToken } from '../lib/keys.mjs';
import { bigJsonObject, randomParams, jsonValue, clientId } from '../lib/gen.mjs';
import { signBoth, splitSigned, agree } from '../lib/cex.mjs';
import { NEG_RATE, cexRefusal } from '../lib/negative.mjs';

export const label = 'okx';

let table = null;
function endpoints() {
  if (table) return table;
  const ex = new ccxt.okx();
  table = {};
  for (const [m, paths] of Object.entries(ex.api.private)) table[m.toUpperCase()] = Object.keys(paths).filter((p) => !p.includes('{'));
  return table;
}

// printable ASCII; spaces only inside (sigil refuses anything else in a passphrase)
const PASS_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+[]{};:,.<>/?~';

// ISO-8601 edge cases within sigil's accepted range [10^12, 10^14) ms.
export function okxTimestamp(rng) {
  return rng.weighted([[8, () => rng.int(1500000000000, 1900000000000)],
    [1, () => rng.pick([1000000000000, 1000000000001, 1700000000000, 1709164800000, 4102444800000, 4107542399999, 99999999999999, 13574563200000])],
    [1, () => rng.int(1000000000000, 99999999999999)]])();
}

const BATCH = new Set(['trade/batch-orders', 'trade/cancel-batch-orders', 'trade/amend-batch-orders']);

export function makeCase(rng, i, ctx) {
  let creds, pub, desc;
  if (rng.chance(0.3)) {
    creds = { ...FIXED_CEX.okx[0] };
    pub = true;
    desc = 'fixed venues.md OKX key';
  } else {
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('okx', idx);
    creds = { api_key: `${r.hex(4)}-${r.hex(2)}-${r.hex(2)}-${r.hex(2)}-${r.hex(6)}`, secret: randToken(r, 32, '0123456789ABCDEF'),
      passphrase: r.chance(0.2) ? `${randToken(r, r.int(1, 8), PASS_CHARS)} ${randToken(r, r.int(1, 8), PASS_CHARS)}` : randToken(r, r.int(1, 30), PASS_CHARS) };
    pub = false;
    desc = `seeded okx-${idx}`;
  }
  const network = rng.chance(0.5) ? 'testnet' : 'mainnet';
  if (rng.chance(NEG_RATE)) {
    return cexRefusal(rng, { venue: 'okx', network, credFile: { ...creds }, credsPublic: pub, credsDesc: desc,
      request: { method: 'GET', path: '/api/v5/account/balance', query: 'ccy=BTC', body: '', timestamp: okxTimestamp(rng) } }, { venue: 'okx', jsonBody: true });
  }
  const method = rng.chance(0.5) ? 'GET' : 'POST';
  const tbl = endpoints()[method];
  const path = method === 'POST' && rng.chance(0.15) ? rng.pick([...BATCH]) : rng.pick(tbl);
  const ts = okxTimestamp(rng);
  const ex = new ccxt.okx({ apiKey: creds.api_key, secret: creds.secret, password: creds.passphrase });
  if (network === 'testnet') ex.setSandboxMode(true);
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  let params;
  if (method === 'GET') {
    params = Object.fromEntries(randomParams(rng, { max: 8 }));
  } else if (BATCH.has(path)) {
    params = Array.from({ length: rng.int(1, 4) }, () => ({ ...Object.fromEntries(randomParams(rng, { max: 5, valueGen: (r) => jsonValue(r) })), clOrdId: clientId(rng) }));
  } else {
    params = rng.chance(0.15) ? {} : Object.fromEntries(randomParams(rng, { max: 8, valueGen: (r) => jsonValue(r) }));
    if (rng.chance(0.02)) params = bigJsonObject(rng);
    // ccxt injects a random broker clOrdId+tag into these when clOrdId is missing
    if (['trade/order', 'trade/order-algo'].includes(path) && params.clOrdId === undefined) params.clOrdId = clientId(rng);
  }
  const r = ex.sign(path, 'private', method, params);
  const { path: p, query, body } = splitSigned(r);
  const h = r.headers;
  const iso = h['OK-ACCESS-TIMESTAMP'];
  agree('okx timestamp', iso, new Date(ts).toISOString(), { ts });
  const prehash = iso + method + p + (query ? '?' + query : '') + body;
  agree('okx OK-ACCESS-SIGN ccxt vs node:crypto', h['OK-ACCESS-SIGN'], signBoth('hmac', creds.secret, prehash, 'base64'), { prehash });

  const required = {};
  for (const k of ['OK-ACCESS-KEY', 'OK-ACCESS-PASSPHRASE', 'OK-ACCESS-TIMESTAMP', 'OK-ACCESS-SIGN']) required[k] = h[k];
  const forbidden = [];
  if (network === 'testnet') {
    agree('okx sandbox header', ex.headers['x-simulated-trading'], '1', {});
    required['x-simulated-trading'] = ex.headers['x-simulated-trading'];
  } else {
    forbidden.push('x-simulated-trading');
  }
  const optional = {};
  if (h['Content-Type']) optional['Content-Type'] = h['Content-Type'];
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  return {
    asciiRequest: rng.chance(0.15), venue: 'okx', network: network === 'mainnet' && rng.chance(0.4) ? undefined : network,
    credFile, credsPublic: pub, credsDesc: desc,
    request: { method, path: p, query, body, timestamp: ts },
    info: `ccxt okx.sign('${path}', 'private', '${method}')${network === 'testnet' ? ' sandbox' : ''}`,
    compare: 'cex', expect: { method, path: p, query, body, headers: { required, optional, forbidden } },
  };
}
