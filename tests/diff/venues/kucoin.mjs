// KuCoin Futures (kucoinfutures, api 'futuresPrivate') and KuCoin spot (kucoin,
// api 'private'), API-key version 2: ccxt's kucoin.sign() (kucoinfutures
// inherits it) with a frozen clock is the oracle. ccxt's broker headers
// (KC-API-PARTNER, KC-API-PARTNER-SIGN, KC-API-PARTNER-VERIFY) are switched off
// with options.partner = {} - they are not part of the request signature.
// GET/DELETE queries are rawencoded by ccxt, so values are percent-encoded first.
// KC-API-SIGN and KC-API-PASSPHRASE are re-computed with node:crypto.
import ccxt from 'ccxt';
import { FIXED_CEX, randToken } from '../lib/keys.mjs';
import { bigJsonObject, randomParams, pctEncode, jsonValue, clientId } from '../lib/gen.mjs';
import { signBoth, splitSigned, agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { NEG_RATE, cexRefusal } from '../lib/negative.mjs';

const tables = {};
function endpoints(cls, api) {
  if (tables[cls]) return tables[cls];
  const ex = new ccxt[cls]();
  const t = {};
  for (const [m, paths] of Object.entries(ex.api[api])) t[m.toUpperCase()] = Object.keys(paths);
  return (tables[cls] = t);
}

const PASS_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+';

function makeKucoinCase(rng, ctx, venue, cls, api) {
  let creds, pub, desc;
  if (rng.chance(0.3)) {
    creds = { ...FIXED_CEX.kucoin[0] };
    pub = true;
    desc = 'fixed venues.md KuCoin key';
  } else {
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('kucoin', idx);
    creds = { api_key: r.hex(12), secret: `${r.hex(4)}-${r.hex(2)}-${r.hex(2)}-${r.hex(2)}-${r.hex(6)}`, passphrase: randToken(r, r.int(1, 24), PASS_CHARS) };
    pub = false;
    desc = `seeded kucoin-${idx}`;
  }
  if (rng.chance(NEG_RATE)) {
    return cexRefusal(rng, { venue, credFile: { ...creds }, credsPublic: pub, credsDesc: desc,
      request: { method: 'GET', path: '/api/v1/orders', query: 'status=active', body: '', timestamp: timestampMs(rng) } }, { venue, jsonBody: true });
  }
  const t = endpoints(cls, api);
  const method = rng.weighted([[4, 'GET'], [4, 'POST'], [2, 'DELETE']].filter(([, m]) => t[m]));
  const path = rng.pick(t[method]);
  const ts = timestampMs(rng);
  const ex = new ccxt[cls]({ apiKey: creds.api_key, secret: creds.secret, password: creds.passphrase });
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  ex.options.partner = {}; // no broker headers
  const params = {};
  for (const m of path.matchAll(/\{([^}]+)\}/g)) params[m[1]] = clientId(rng); // URL-safe path ids
  const rawQuery = method !== 'POST' && path !== 'orders/multi-cancel';
  if (rawQuery) {
    for (const [k, v] of randomParams(rng, { max: 8, reserved: ['version', ...Object.keys(params)] })) params[pctEncode(k)] = pctEncode(v);
  } else if (!rng.chance(0.15)) {
    for (const [k, v] of randomParams(rng, { max: 8, reserved: ['version', ...Object.keys(params)], valueGen: (r) => jsonValue(r) })) params[k] = v;
    if (rng.chance(0.02)) Object.assign(params, bigJsonObject(rng));
  }
  if (path === 'orders' && method === 'POST' && params.clientOid === undefined) params.clientOid = clientId(rng);
  const r = ex.sign(path, api, method, params);
  const { path: p, query, body } = splitSigned(r);
  const h = r.headers;
  const prehash = `${ts}${method}${p}${query ? '?' + query : ''}${body}`;
  agree(`${venue} KC-API-SIGN ccxt vs node:crypto`, h['KC-API-SIGN'], signBoth('hmac', creds.secret, prehash, 'base64'), { prehash });
  agree(`${venue} KC-API-PASSPHRASE ccxt vs node:crypto`, h['KC-API-PASSPHRASE'], signBoth('hmac', creds.secret, creds.passphrase, 'base64'), {});
  if (Object.keys(h).some((k) => /PARTNER|BROKER/i.test(k))) throw new Error('partner headers not disabled');
  const required = {};
  for (const k of ['KC-API-KEY', 'KC-API-SIGN', 'KC-API-TIMESTAMP', 'KC-API-PASSPHRASE', 'KC-API-KEY-VERSION']) required[k] = h[k];
  const optional = {};
  if (h['Content-Type']) optional['Content-Type'] = h['Content-Type'];
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  return {
    asciiRequest: rng.chance(0.15),
    venue, credFile, credsPublic: pub, credsDesc: desc,
    request: { method, path: p, query, body, timestamp: ts },
    info: `ccxt ${cls}.sign('${path}', '${api}', '${method}')`,
    compare: 'cex', expect: { method, path: p, query, body, headers: { required, optional } },
  };
}

export const kucoinfutures = {
  label: 'kucoinfutures',
  makeCase: (rng, i, ctx) => makeKucoinCase(rng, ctx, 'kucoinfutures', 'kucoinfutures', 'futuresPrivate'),
};
export const kucoin = {
  label: 'kucoin',
  makeCase: (rng, i, ctx) => makeKucoinCase(rng, ctx, 'kucoin', 'kucoin', 'private'),
};
