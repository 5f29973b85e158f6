// The ccxt drop-in: sigilWrap(exchange, client, {keyId}) makes an unchanged
// ccxt exchange instance send its private requests signed by Sigil.
//
// How: ccxt builds every request in `sign()` (CEX venues, Aster) or in the
// method itself (Hyperliquid's actions), then hands it to `fetch()`. The
// wrapper gives the instance placeholder credentials so ccxt builds the
// request exactly as it would with the real ones, marks the requests that
// carry a signature, and, in `fetch()`, turns each marked request into a
// Sigil venue request (docs/CLI.md), has Sigil sign it and sends what Sigil
// returned. Whatever ccxt computed from the placeholder (signatures) is
// replaced; the rest (URL, parameters, nonces, key order) is ccxt's, except
// Hyperliquid's body, which is Sigil's `signed` text byte for byte (so the
// receipt's output_hash covers exactly what reached the venue).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toHex, utf8 } from './bytes.js';

const MARK = 'X-Sigil-Wrap-Pending';
const WRAPPED = Symbol.for('sigil.ccxt.wrapped');
// Placeholders: not secrets, never used to sign anything that is sent.
const PLACEHOLDER_SECRET = 'sigil-placeholder-secret';
const PLACEHOLDER_PASSWORD = 'sigil-placeholder-passphrase';
const PLACEHOLDER_PRIVATE_KEY = `0x${'11'.repeat(32)}`;

function splitUrl(url) {
  const m = /^(https?:\/\/[^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) throw new TypeError(`sigilWrap: cannot parse URL ${url}`);
  return { origin: m[1], path: m[2] ?? '/', query: m[3] ?? '' };
}

const joinUrl = (origin, path, query) => `${origin}${path}${query ? `?${query}` : ''}`;

/** The value of a form/query parameter (first occurrence), or undefined. */
function param(text, name) {
  for (const part of (text ?? '').split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) return decodeURIComponent(part.slice(eq + 1));
  }
  return undefined;
}

/** Removes a trailing `&signature=…` (or a lone `signature=…`). */
function stripSignature(text) {
  if (!text) return text;
  const m = /(^|&)signature=[^&]*$/.exec(text);
  return m ? text.slice(0, m.index) : text;
}

function header(headers, name) {
  const k = Object.keys(headers ?? {}).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : headers[k];
}

/** ccxt's headers with Sigil's values put in (same names, any case), Sigil's others appended. */
function mergeHeaders(ccxtHeaders, sigilHeaders) {
  const out = { ...(ccxtHeaders ?? {}) };
  for (const [name, value] of Object.entries(sigilHeaders ?? {})) {
    const k = Object.keys(out).find((h) => h.toLowerCase() === name.toLowerCase());
    out[k ?? name] = value;
  }
  return out;
}

const bodyText = (body) => (body === undefined || body === null ? '' : String(body));

// CEX venues whose ccxt request has method, path, query, body and a timestamp.
function cex(sigilVenue, { signed, timestamp, recvWindow, stripSig = false }) {
  return {
    sigilVenue,
    wallet: false,
    isSigned: signed,
    toSigil(req) {
      const u = splitUrl(req.url);
      const query = stripSig ? stripSignature(u.query) : u.query;
      const body = stripSig ? stripSignature(bodyText(req.body)) : bodyText(req.body);
      const r = { method: req.method, path: u.path, query, body, timestamp: timestamp(req, query, body) };
      const rw = recvWindow?.(req, query, body);
      if (rw !== undefined) r.recv_window = Number(rw);
      return r;
    },
    fromSigil(s, req) {
      const u = splitUrl(req.url);
      return { url: joinUrl(u.origin, s.path, s.query), method: s.method,
        headers: mergeHeaders(req.headers, s.headers),
        body: s.body === '' && (req.body === undefined || req.body === null) ? req.body : s.body };
    },
  };
}

const binance = cex('binance', {
  signed: (req) => /(^|&)signature=/.test(splitUrl(req.url).query) || /(^|&)signature=/.test(bodyText(req.body)),
  timestamp: (req, q, b) => Number(param(q, 'timestamp') ?? param(b, 'timestamp')),
  recvWindow: (req, q, b) => param(q, 'recvWindow') ?? param(b, 'recvWindow'),
  stripSig: true,
});

const hyperliquid = {
  sigilVenue: 'hyperliquid',
  wallet: true,
  isSigned: (req) => req.method === 'POST' && splitUrl(req.url).path.endsWith('/exchange') &&
    typeof req.body === 'string' && req.body.includes('"signature"'),
  toSigil(req) {
    const b = JSON.parse(req.body);
    const r = { action: b.action, nonce: b.nonce };
    // ccxt posts the vault address without 0x; Sigil reads it with (the signed bytes are the same)
    if (b.vaultAddress !== undefined) r.vault_address = b.vaultAddress.startsWith('0x') ? b.vaultAddress : `0x${b.vaultAddress}`;
    if (b.expiresAfter !== undefined) r.expires_after = b.expiresAfter;
    return r;
  },
  fromSigil(s, req, signedText) {
    // Sigil's `signed` text verbatim (what the receipt's output_hash covers),
    // not ccxt's body with the signature swapped in: ccxt orders `nonce`
    // differently for some actions and writes vaultAddress without 0x.
    const b = JSON.parse(req.body);
    const vault = b.vaultAddress === undefined || b.vaultAddress === null ? undefined
      : `0x${b.vaultAddress.replace(/^0x/, '')}`.toLowerCase();
    if (JSON.stringify(s.action) !== JSON.stringify(b.action) || s.nonce !== b.nonce ||
      s.vaultAddress !== vault || s.expiresAfter !== b.expiresAfter) {
      throw new TypeError('sigilWrap: Sigil signed another request than ccxt built');
    }
    return { url: req.url, method: req.method, headers: req.headers, body: signedText };
  },
};

const aster = {
  sigilVenue: 'aster',
  wallet: true,
  isSigned: (req) => /(^|&)signature=0x/.test(req.method === 'GET' ? splitUrl(req.url).query : bodyText(req.body)),
  toSigil(req) {
    const u = splitUrl(req.url);
    const query = stripSignature(req.method === 'GET' ? u.query : bodyText(req.body));
    return { method: req.method, path: u.path, query, nonce: Number(param(query, 'nonce')) };
  },
  fromSigil(s, req) {
    const u = splitUrl(req.url);
    if (req.method === 'GET') return { url: joinUrl(u.origin, s.path, s.query), method: s.method, headers: req.headers, body: req.body };
    return { url: req.url, method: s.method, headers: mergeHeaders(req.headers, s.headers), body: s.query };
  },
  prepare(exchange, key, opts) {
    // ccxt derives `user` and `signer` from the private key it holds; with the
    // key in Sigil both are the key's address (or `user` as given).
    // (ccxt writes addresses in lowercase.)
    exchange.options.cachedWalletAddress = (opts.user ?? key.address).toLowerCase();
    exchange.options.privateKeyHashForCachedWalletAddress = toHex(keccak_256(utf8(PLACEHOLDER_PRIVATE_KEY)));
    exchange.options.signerAddress = key.address.toLowerCase();
  },
};

/** ccxt exchange id → how its requests become Sigil requests and back. */
export const VENUE_ADAPTERS = {
  binance,
  binanceusdm: binance,
  bybit: cex('bybit', {
    signed: (req) => header(req.headers, 'X-BAPI-SIGN') !== undefined,
    timestamp: (req) => Number(header(req.headers, 'X-BAPI-TIMESTAMP')),
    recvWindow: (req) => header(req.headers, 'X-BAPI-RECV-WINDOW'),
  }),
  okx: cex('okx', {
    signed: (req) => header(req.headers, 'OK-ACCESS-SIGN') !== undefined,
    timestamp: (req) => Date.parse(header(req.headers, 'OK-ACCESS-TIMESTAMP')),
  }),
  kucoinfutures: cex('kucoinfutures', {
    signed: (req) => header(req.headers, 'KC-API-SIGN') !== undefined,
    timestamp: (req) => Number(header(req.headers, 'KC-API-TIMESTAMP')),
  }),
  hyperliquid,
  aster,
};

/**
 * Wraps a ccxt exchange instance (binance, binanceusdm, bybit, okx,
 * kucoinfutures, hyperliquid, aster) so its private requests are signed by
 * Sigil with `keyId`. CEX instances need their `apiKey` (not secret; checked
 * against the sealed one in every signed request); wallet venues their
 * `walletAddress` where ccxt asks for it (default: the key's address).
 * Resolves to the same instance.
 */
export async function sigilWrap(exchange, client, opts) {
  const adapter = VENUE_ADAPTERS[exchange?.id];
  if (!adapter) throw new TypeError(`sigilWrap: unsupported exchange ${exchange?.id}`);
  if (exchange[WRAPPED]) throw new TypeError('sigilWrap: this instance is wrapped already');
  const key = (await client.listKeys()).find((k) => k.key_id === opts?.keyId);
  if (!key) throw new TypeError(`sigilWrap: key ${opts?.keyId} not found`);
  if (key.venue !== adapter.sigilVenue) {
    throw new TypeError(`sigilWrap: key ${key.key_id} is for ${key.venue}, not ${adapter.sigilVenue}`);
  }
  if (adapter.wallet) {
    exchange.privateKey = PLACEHOLDER_PRIVATE_KEY;
    exchange.walletAddress = exchange.walletAddress || key.address;
  } else {
    if (!exchange.apiKey) throw new TypeError('sigilWrap: set the exchange\'s apiKey (the public half)');
    exchange.secret = PLACEHOLDER_SECRET;
    if (!exchange.password) exchange.password = PLACEHOLDER_PASSWORD;
  }
  adapter.prepare?.(exchange, key, opts);
  exchange[WRAPPED] = true;

  const sign = exchange.sign;
  exchange.sign = function signMarked(...args) {
    const req = sign.apply(this, args);
    if (!adapter.isSigned(req)) return req;
    return { ...req, headers: { ...(req.headers ?? {}), [MARK]: '1' } };
  };

  let inner = exchange.fetch;
  async function fetchSigned(url, method, headers, body) {
    if (headers?.[MARK] === undefined) return inner.call(this, url, method, headers, body);
    const { [MARK]: _, ...h } = headers;
    const req = { url, method, headers: h, body };
    const res = await client.sign(key.key_id, adapter.toSigil(req), opts.sign);
    opts.onSigned?.(res);
    const out = adapter.fromSigil(res.signed, req, res.signedText);
    if (!adapter.wallet) {
      const sent = Object.values(out.headers ?? {}).concat(out.url, bodyText(out.body));
      if (!sent.some((v) => String(v).includes(exchange.apiKey))) {
        throw new TypeError('sigilWrap: the sealed credential\'s api key is not the exchange\'s apiKey');
      }
    }
    return inner.call(this, out.url, out.method, out.headers, out.body);
  }
  // An accessor, so a fetch assigned later (a proxy, a test's capture) still goes through Sigil.
  Object.defineProperty(exchange, 'fetch', {
    configurable: true,
    get: () => fetchSigned,
    set: (f) => {
      inner = f;
    },
  });
  return exchange;
}
