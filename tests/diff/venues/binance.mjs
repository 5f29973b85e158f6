// Binance spot (api/v3, sapi) and USD-M futures (fapi v1/v2/v3), HMAC, Ed25519
// and RSA keys.
//
// Mode "ccxt": ccxt's binance / binanceusdm sign() with a frozen clock builds
// the whole request (timestamp first, recvWindow from options or params,
// everything in the query for GET/DELETE and in the form body for POST/PUT).
// sigil gets that request minus "&signature=…" (timestamp already present, so it
// must append nothing) and must return ccxt's query/body byte for byte. The
// signature is re-computed with node:crypto over query+body as a cross-check.
//
// Mode "append": the request has no timestamp parameter; the expected request is
// built by the contract's rule (timestamp then recvWindow appended to the query
// for GET/DELETE and to the form body for POST/PUT; signature appended to the
// body when non-empty, else to the query) and signed with node:crypto and with
// ccxt's own primitives (must agree). Covers query+body mixes ccxt never emits.
import ccxt from 'ccxt';
import { FIXED_CEX, FIXED_ED25519_PEM, fixedRsaPem, seededEd25519Pem, seededRsaPem, randToken } from '../lib/keys.mjs';
import { randomParams, clientId, pctEncode, quotePlus, longUnicode } from '../lib/gen.mjs';
import { signBoth, splitSigned, stripParam, agree } from '../lib/cex.mjs';
import { NEG_RATE, cexRefusal, refusal } from '../lib/negative.mjs';

export const label = 'binance';

// Paths ccxt encodes specially (raw JSON, array repeat, listen keys): left out,
// their parameter handling is not the generic signing contract.
const SPECIAL = /batchOrders|sub-account|capital\/withdraw\/apply|staking|simple-earn|asset\/dust|userDataStream|listenKey|userListenToken|historicalTrades|system\/status|\{/;

let tables = null;
function endpoints() {
  if (tables) return tables;
  const b = new ccxt.binance();
  const u = new ccxt.binanceusdm();
  const fams = [
    ['spot', b, 'binance', ['private']],
    ['sapi', b, 'binance', ['sapi']],
    ['fapi', u, 'binanceusdm', ['fapiPrivate', 'fapiPrivateV2', 'fapiPrivateV3']],
    ['fapi-via-binance', b, 'binance', ['fapiPrivate', 'fapiPrivateV2', 'fapiPrivateV3']],
  ];
  tables = {};
  for (const [fam, ex, cls, apis] of fams) {
    const byMethod = {};
    for (const api of apis) {
      for (const [m, paths] of Object.entries(ex.api[api] || {})) {
        const M = m.toUpperCase();
        for (const p of Object.keys(paths)) {
          if (SPECIAL.test(p)) continue;
          (byMethod[M] ||= []).push({ api, path: p, cls });
        }
      }
    }
    tables[fam] = byMethod;
  }
  return tables;
}

function credsFor(rng, ctx, keyType) {
  if (keyType === 'hmac') {
    if (rng.chance(0.3)) {
      const k = rng.pick(FIXED_CEX.binance);
      return { creds: { api_key: k.api_key, secret: k.secret }, public: true, desc: 'fixed Binance docs HMAC key' };
    }
    const idx = rng.int(0, 3);
    const r = ctx.keyRng('binance-hmac', idx);
    return { creds: { api_key: randToken(r, 64), secret: randToken(r, 64) }, public: false, desc: `seeded binance-hmac-${idx}` };
  }
  if (keyType === 'ed25519') {
    if (rng.chance(0.4)) {
      return { creds: { api_key: randToken(rng, 64), secret: FIXED_ED25519_PEM }, public: true, desc: 'RFC 8032 TEST 1 Ed25519 key' };
    }
    const idx = rng.int(0, 3);
    return { creds: { api_key: randToken(ctx.keyRng('binance-ed-api', idx), 64), secret: ctx.cached(`ed-${idx}`, () => seededEd25519Pem(ctx.seed, `binance-ed-${idx}`)) },
      public: false, desc: `seeded binance-ed25519-${idx}` };
  }
  const fixed = fixedRsaPem(ctx.sharedDir);
  if (fixed && rng.chance(0.5)) {
    return { creds: { api_key: randToken(rng, 64), secret: fixed }, public: true, desc: 'Binance public RSA test key' };
  }
  return { creds: { api_key: randToken(ctx.keyRng('binance-rsa-api', 0), 64), secret: ctx.cached('rsa-0', () => seededRsaPem(ctx.seed, 'rsa-0')) },
    public: false, desc: 'seeded rsa-0 (2048-bit)' };
}

// Unix ms within what sigil accepts (docs: milliseconds; sigil: [10^12, 10^14)).
export function timestampMs(rng) {
  return rng.weighted([[8, () => rng.int(1500000000000, 1900000000000)],
    [1, () => rng.pick([1700000000000, 1499827319559, 1000000000000, 9999999999999, 10000000000000, 99999999999999, 1700000000001, 1700000000999])],
    [1, () => rng.int(1000000000000, 4102444800000)]])();
}

export function makeCase(rng, i, ctx) {
  const keyType = rng.weighted([[5, 'hmac'], [2.5, 'ed25519'], [2.5, 'rsa']]);
  const { creds, public: pub, desc } = credsFor(rng, ctx, keyType);
  const credFile = { ...creds };
  if (keyType !== 'hmac' || rng.chance(0.5)) credFile.key_type = keyType;
  const fam = rng.weighted([[4, 'spot'], [2, 'sapi'], [3, 'fapi'], [1, 'fapi-via-binance']]);
  const byMethod = endpoints()[fam];
  const methods = Object.keys(byMethod);
  const method = rng.weighted(methods.map((m) => [m === 'GET' ? 4 : m === 'POST' ? 4 : 2, m]));
  const ep = rng.pick(byMethod[method]);
  const ts = timestampMs(rng);
  if (rng.chance(NEG_RATE)) {
    const base = { venue: 'binance', credFile, credsPublic: pub, credsDesc: `${desc} (${keyType})`,
      request: { method: 'GET', path: '/api/v3/order', query: 'symbol=BTCUSDT&orderId=1', body: '', timestamp: ts } };
    if (rng.chance(0.3)) {
      // docs/CLI.md: a timestamp parameter already present must equal request.timestamp
      return refusal({ ...base, request: { ...base.request, query: `symbol=BTCUSDT&timestamp=${ts + 1}` } }, 'bad_field', 'timestamp parameter differs from request.timestamp');
    }
    return cexRefusal(rng, base, { venue: 'binance', jsonBody: false });
  }
  const mode = rng.chance(0.6) ? 'ccxt' : 'append';
  return mode === 'ccxt'
    ? ccxtCase(rng, ctx, { keyType, creds, credFile, pub, desc, ep, method, ts })
    : appendCase(rng, ctx, { keyType, creds, credFile, pub, desc, ep, method, ts });
}

function ccxtCase(rng, ctx, { keyType, creds, credFile, pub, desc, ep, method, ts }) {
  const ex = new ccxt[ep.cls]({ apiKey: creds.api_key, secret: creds.secret });
  ex.milliseconds = () => ts; // frozen clock (nonce() = milliseconds() - timeDifference)
  ex.options.timeDifference = 0;
  const rwMode = rng.weighted([[3, 'none'], [4, 'options'], [2, 'param']]);
  ex.options.recvWindow = rwMode === 'options' ? rng.int(1, 60000) : undefined;
  const params = Object.fromEntries(randomParams(rng, { reserved: ['timestamp', 'signature', 'recvWindow'] }));
  if (rwMode === 'param') params.recvWindow = String(rng.int(1, 60000));
  // ccxt injects a random broker newClientOrderId on POST order / sor/order
  // when none is given: always give one, so the case is deterministic.
  if (method === 'POST' && (ep.path === 'order' || ep.path === 'sor/order') && params.newClientOrderId === undefined) {
    params.newClientOrderId = clientId(rng);
  }
  const r = ex.sign(ep.path, ep.api, method, params);
  const { path, query, body } = splitSigned(r);
  const inBody = body !== '';
  const s = stripParam(inBody ? body : query, 'signature');
  if (!s) throw new Error('ccxt output has no signature: ' + JSON.stringify(r));
  const q0 = inBody ? query : s.rest;
  const b0 = inBody ? s.rest : body;
  // cross-check ccxt's signature with node:crypto over query+body
  const raw = signBoth(keyType, creds.secret, q0 + b0, 'hex');
  agree('binance ccxt signature vs node:crypto', keyType === 'hmac' ? raw : encodeURIComponent(raw), s.value, { q0, b0 });

  const request = { method, path, query: q0, body: b0, timestamp: ts };
  // timestamp (and maybe recvWindow) already in the request: nothing is appended.
  // docs/CLI.md: a recvWindow parameter already present must equal recv_window.
  const rwParam = /(?:^|&)recvWindow=([0-9]+)(?:&|$)/.exec(q0 + '&' + b0);
  if (rwParam && rng.chance(0.5)) request.recv_window = Number(rwParam[1]);
  else if (rng.chance(0.1)) request.recv_window = null; // optional fields may be null
  const headers = { required: { 'X-MBX-APIKEY': creds.api_key }, optional: {} };
  if (r.headers['Content-Type']) headers.optional['Content-Type'] = r.headers['Content-Type'];
  return {
    venue: 'binance', credFile, credsPublic: pub, credsDesc: `${desc} (${keyType})`,
    request, info: `ccxt ${ep.cls}.sign('${ep.path}', '${ep.api}', '${method}')`,
    compare: 'cex', expect: { method, path, query, body, headers },
  };
}

function appendCase(rng, ctx, { keyType, creds, credFile, pub, desc, ep, method, ts }) {
  const ex = new ccxt[ep.cls]();
  const path = splitSigned({ url: ex.urls.api[ep.api] + '/' + ep.path }).path;
  const params = randomParams(rng, { reserved: ['timestamp', 'signature', 'recvWindow'] });
  if (rng.chance(0.02)) {
    // a large form body / query (tens of KB of percent-encoded text)
    for (let k = 0, n = rng.int(10, 30); k < n; k++) params.push([`big${k}`, longUnicode(rng, 300, 1000)]);
  }
  const encStyle = rng.weighted([[8, 'ccxt'], [1, 'quote_plus'], [1, 'lowerhex']]);
  const encode = (list) => {
    if (!list.length) return '';
    if (encStyle === 'ccxt') return ex.urlencode(Object.fromEntries(list));
    if (encStyle === 'quote_plus') return list.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&');
    return list.map(([k, v]) => `${pctEncode(k)}=${pctEncode(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`).join('&');
  };
  let qList = [], bList = [];
  if (method === 'GET' || method === 'DELETE') {
    qList = params;
  } else {
    const where = rng.weighted([[5, 'body'], [2, 'query'], [2, 'split'], [1, 'none']]);
    if (where === 'body') bList = params;
    else if (where === 'query') qList = params;
    else if (where === 'split') {
      const cut = rng.int(0, params.length);
      qList = params.slice(0, cut);
      bList = params.slice(cut);
    }
  }
  const query = encode(qList);
  const body = encode(bList);
  const rw = rng.chance(0.6) ? rng.int(1, 60000) : undefined;
  const add = `timestamp=${ts}` + (rw !== undefined ? `&recvWindow=${rw}` : '');
  const join = (s, t) => (s ? `${s}&${t}` : t);
  let q = query, b = body;
  if (method === 'GET' || method === 'DELETE') q = join(q, add);
  else b = join(b, add);
  const raw = signBoth(keyType, creds.secret, q + b, 'hex');
  const sig = keyType === 'hmac' ? raw : encodeURIComponent(raw);
  if (b !== '') b = join(b, `signature=${sig}`);
  else q = join(q, `signature=${sig}`);
  const request = { method, path, query, body, timestamp: ts };
  if (rw !== undefined) request.recv_window = rw;
  const headers = { required: { 'X-MBX-APIKEY': creds.api_key }, optional: {} };
  if (method === 'POST' || method === 'PUT') headers.optional['Content-Type'] = 'application/x-www-form-urlencoded';
  return {
    venue: 'binance', credFile, credsPublic: pub, credsDesc: `${desc} (${keyType})`,
    request, info: `append mode (${encStyle} encoding), ${ep.api} ${ep.path}`,
    compare: 'cex', expect: { method, path, query: q, body: b, headers },
  };
}
