// Bitget V2: ccxt bitget.sign() (private api) with a frozen clock is the
// oracle. GET queries are sent urlencode()d and signed rawencode()d (decoded),
// POST bodies are JSON. ACCESS-SIGN is re-computed with node:crypto over
// ts + METHOD + path + ['?' + decoded query] + body. ccxt's broker header
// X-CHANNEL-API-CODE (its affiliate tag) is not signed: not compared. Testnet =
// demo trading: ccxt's setSandboxMode(true) adds PAPTRADING: 1 (not for the
// legacy S*-FUTURES demo product types); on mainnet it must be absent.
import ccxt from 'ccxt';
import { randToken } from '../lib/keys.mjs';
import { bigJsonObject, randomParams, jsonValue, clientId } from '../lib/gen.mjs';
import { signBoth, splitSigned, agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { NEG_RATE, cexRefusal, refusal } from '../lib/negative.mjs';

export const label = 'bitget';

// venues.md §11 test key: public, safe to print.
const FIXED = { api_key: 'bg_0123456789abcdef0123456789abcdef', secret: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', passphrase: 'Passphrase123' };
const PASS_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+';
const PRODUCT_TYPES = ['USDT-FUTURES', 'COIN-FUTURES', 'USDC-FUTURES', 'SUSDT-FUTURES', 'SCOIN-FUTURES', 'SUSDC-FUTURES'];

let table = null;
function endpoints() {
  if (table) return table;
  const ex = new ccxt.bitget();
  table = [];
  for (const [section, methods] of Object.entries(ex.api.private)) {
    for (const [m, paths] of Object.entries(methods)) {
      for (const p of Object.keys(paths)) if (!p.includes('{')) table.push([section, m.toUpperCase(), p]);
    }
  }
  return table;
}

export function makeCase(rng, i, ctx) {
  let creds, pub, desc;
  if (rng.chance(0.3)) {
    creds = { ...FIXED };
    pub = true;
    desc = 'fixed venues.md Bitget key';
  } else {
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('bitget', idx);
    creds = { api_key: 'bg_' + r.hex(16), secret: r.hex(32), passphrase: randToken(r, r.int(1, 24), PASS_CHARS) };
    pub = false;
    desc = `seeded bitget-${idx}`;
  }
  const network = rng.chance(0.4) ? 'testnet' : 'mainnet';
  const ts = timestampMs(rng);
  if (rng.chance(NEG_RATE)) {
    const base = { venue: 'bitget', network, credFile: { ...creds }, credsPublic: pub, credsDesc: desc,
      request: { method: 'GET', path: '/api/v2/spot/account/assets', query: 'coin=USDT', body: '', timestamp: ts } };
    if (rng.chance(0.3)) {
      return rng.pick([
        () => refusal({ ...base, request: { ...base.request, recv_window: 5000 } }, 'unknown_field', 'bitget has no recv_window'),
        () => refusal({ ...base, request: { ...base.request, query: 'coin=US+DT' } }, 'bad_field', "raw '+' in the query (space or plus?)"),
        () => refusal({ ...base, credFile: { api_key: creds.api_key, secret: creds.secret } }, 'missing_field', 'bitget needs a passphrase'),
      ])();
    }
    return cexRefusal(rng, base, { venue: 'bitget', jsonBody: true });
  }
  const [section, method, path] = rng.pick(endpoints().filter(([, m]) => m === (rng.chance(0.5) ? 'GET' : 'POST')));
  const ex = new ccxt.bitget({ apiKey: creds.api_key, secret: creds.secret, password: creds.passphrase });
  if (network === 'testnet') ex.setSandboxMode(true);
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  let params;
  if (method === 'GET') {
    params = Object.fromEntries(randomParams(rng, { max: 8, reserved: ['productType'] }));
  } else {
    params = rng.chance(0.15) ? {} : Object.fromEntries(randomParams(rng, { max: 8, reserved: ['productType'], valueGen: (r) => jsonValue(r) }));
    if (rng.chance(0.02)) params = bigJsonObject(rng);
    if (params.clientOid === undefined && rng.chance(0.5)) params.clientOid = clientId(rng);
  }
  if (rng.chance(0.4)) params.productType = rng.pick(PRODUCT_TYPES);
  const r = ex.sign(path, ['private', section], method, params);
  const { path: p, query, body } = splitSigned(r);
  const h = r.headers;
  const prehash = `${ts}${method}${p}${query ? '?' + decodeURIComponent(query) : ''}${body}`;
  agree('bitget ACCESS-SIGN ccxt vs node:crypto', h['ACCESS-SIGN'], signBoth('hmac', creds.secret, prehash, 'base64'), { prehash });
  const required = {};
  for (const k of ['ACCESS-KEY', 'ACCESS-SIGN', 'ACCESS-TIMESTAMP', 'ACCESS-PASSPHRASE']) required[k] = h[k];
  const forbidden = [];
  if (h.PAPTRADING !== undefined) required.PAPTRADING = h.PAPTRADING;
  else forbidden.push('PAPTRADING');
  const optional = {};
  if (h['Content-Type']) optional['Content-Type'] = h['Content-Type'];
  else forbidden.push('Content-Type');
  const credFile = { ...creds };
  if (rng.chance(0.3)) credFile.key_type = 'hmac';
  return {
    asciiRequest: rng.chance(0.15), venue: 'bitget', network: network === 'mainnet' && rng.chance(0.4) ? undefined : network,
    credFile, credsPublic: pub, credsDesc: desc,
    request: { method, path: p, query, body, timestamp: ts },
    info: `ccxt bitget.sign('${path}', ['private', '${section}'], '${method}')${network === 'testnet' ? ' sandbox' : ''}`,
    compare: 'cex', expect: { method, path: p, query, body, headers: { required, optional, forbidden } },
  };
}
