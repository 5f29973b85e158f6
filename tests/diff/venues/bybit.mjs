// Bybit V5: ccxt bybit.sign() with a frozen clock is the oracle. GET queries are
// rawencoded by ccxt, so values are percent-encoded (RFC 3986) before they are
// given to ccxt; POST bodies are ccxt's JSON (unicode raw, nested values, "{}"
// for no parameters). The X-BAPI-SIGN header is re-computed with node:crypto over
// timestamp+apiKey+recvWindow+(query|body). ccxt's "Referer: CCXT" broker header
// is not part of the signature and is ignored.
import ccxt from 'ccxt';
import { FIXED_CEX, randToken, seededRsaPem, fixedRsaPem } from '../lib/keys.mjs';
import { bigJsonObject, randomParams, pctEncode, jsonValue } from '../lib/gen.mjs';
import { signBoth, splitSigned, agree } from '../lib/cex.mjs';
import { timestampMs } from './binance.mjs';
import { NEG_RATE, cexRefusal } from '../lib/negative.mjs';

export const label = 'bybit';

let table = null;
function endpoints() {
  if (table) return table;
  const ex = new ccxt.bybit();
  table = {};
  for (const [m, paths] of Object.entries(ex.api.private)) {
    table[m.toUpperCase()] = Object.keys(paths).filter((p) => p.startsWith('v5/') && !p.includes('{'));
  }
  return table;
}

export function makeCase(rng, i, ctx) {
  const keyType = rng.chance(0.15) ? 'rsa' : 'hmac';
  let creds, pub, desc;
  if (keyType === 'rsa') {
    const fixed = fixedRsaPem(ctx.sharedDir);
    const useFixed = fixed && rng.chance(0.5);
    creds = { api_key: randToken(rng, 18), secret: useFixed ? fixed : ctx.cached('rsa-0', () => seededRsaPem(ctx.seed, 'rsa-0')) };
    pub = useFixed;
    desc = useFixed ? 'Binance public RSA test key (as a Bybit self-generated RSA key)' : 'seeded rsa-0';
  } else if (rng.chance(0.3)) {
    creds = { ...FIXED_CEX.bybit[0] };
    pub = true;
    desc = 'fixed venues.md Bybit key';
  } else {
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('bybit-hmac', idx);
    creds = { api_key: randToken(r, 18), secret: randToken(r, 36) };
    pub = false;
    desc = `seeded bybit-hmac-${idx}`;
  }
  const credFile = { ...creds };
  if (keyType === 'rsa' || rng.chance(0.3)) credFile.key_type = keyType;

  if (rng.chance(NEG_RATE)) {
    return cexRefusal(rng, { venue: 'bybit', credFile, credsPublic: pub, credsDesc: desc,
      request: { method: 'GET', path: '/v5/order/realtime', query: 'category=linear', body: '', timestamp: timestampMs(rng) } }, { venue: 'bybit', jsonBody: true });
  }
  const method = rng.chance(0.5) ? 'GET' : 'POST';
  const path = rng.pick(endpoints()[method]);
  const ts = timestampMs(rng);
  const rw = rng.chance(0.5) ? 5000 : rng.weighted([[3, rng.int(1, 60000)], [1, rng.pick([1, 60000, 5001])]]);
  const ex = new ccxt.bybit({ apiKey: creds.api_key, secret: creds.secret });
  ex.milliseconds = () => ts;
  ex.options.timeDifference = 0;
  ex.options.recvWindow = rw;
  let params;
  if (method === 'GET') {
    params = Object.fromEntries(randomParams(rng, { max: 8 }).map(([k, v]) => [pctEncode(k), pctEncode(v)]));
  } else {
    params = rng.chance(0.12) ? {} : Object.fromEntries(randomParams(rng, { max: 8, valueGen: (r) => jsonValue(r) }));
    if (rng.chance(0.02)) params = bigJsonObject(rng);
  }
  const r = ex.sign(path, 'private', method, params);
  const { path: p, query, body } = splitSigned(r);
  const h = r.headers;
  const presign = `${ts}${creds.api_key}${rw}${method === 'GET' ? query : body}`;
  const sig = signBoth(keyType, creds.secret, presign, keyType === 'hmac' ? 'hex' : 'base64');
  agree('bybit X-BAPI-SIGN ccxt vs node:crypto', h['X-BAPI-SIGN'], sig, { presign });

  const request = { method, path: p, query, body, timestamp: ts };
  if (rw !== 5000 || rng.chance(0.5)) request.recv_window = rw;
  const network = rng.weighted([[2, undefined], [1, 'mainnet'], [1, 'testnet']]);
  const required = {};
  for (const k of ['X-BAPI-API-KEY', 'X-BAPI-TIMESTAMP', 'X-BAPI-RECV-WINDOW', 'X-BAPI-SIGN']) required[k] = h[k];
  return {
    asciiRequest: rng.chance(0.15), venue: 'bybit', network, credFile, credsPublic: pub, credsDesc: `${desc} (${keyType})`,
    request, info: `ccxt bybit.sign('${path}', 'private', '${method}')`,
    compare: 'cex',
    expect: { method, path: p, query, body, headers: { required, optional: { 'Content-Type': h['Content-Type'] } } },
  };
}
