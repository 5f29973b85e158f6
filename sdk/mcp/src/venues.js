// Sending a signed request to its venue (only when a tool is called with send: true).

// base URLs by venue, market and network; SIGIL_VENUE_URLS overrides them by id
const BASE = {
  'binance/spot': { mainnet: 'https://api.binance.com', testnet: 'https://testnet.binance.vision' },
  'binance/usdm': { mainnet: 'https://fapi.binance.com', testnet: 'https://testnet.binancefuture.com' },
  bybit: { mainnet: 'https://api.bybit.com', testnet: 'https://api-testnet.bybit.com' },
  okx: { mainnet: 'https://www.okx.com', testnet: 'https://www.okx.com' }, // demo trading: a header, same host
  hyperliquid: { mainnet: 'https://api.hyperliquid.xyz', testnet: 'https://api.hyperliquid-testnet.xyz' },
  kucoinfutures: { mainnet: 'https://api-futures.kucoin.com' }, // no testnet
  aster: { mainnet: 'https://fapi.asterdex.com', testnet: 'https://fapi.asterdex-testnet.com' },
};

const MAX_BODY = 64 * 1024;

/** The SIGIL_VENUE_URLS id of a venue and market ('binance/spot', 'bybit', …). */
export const endpointId = (venue, market) => (venue === 'binance' ? `binance/${market}` : venue);

export function baseUrl(id, network, overrides) {
  const url = overrides[id] ?? BASE[id]?.[network];
  if (!url) throw new Error(`no base URL for ${id} on ${network}`);
  return url.replace(/\/+$/, '');
}

/**
 * fetch() arguments for a /v1/sign result ({signed, signedText}): the CEX
 * shape, or Hyperliquid's /exchange body, the `signed` text verbatim (what
 * the receipt's output_hash covers).
 */
export function httpRequest(venue, { signed, signedText }, base) {
  if (venue === 'hyperliquid') {
    return { url: `${base}/exchange`, init: { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: signedText ?? JSON.stringify(signed) } };
  }
  const url = `${base}${signed.path}${signed.query ? `?${signed.query}` : ''}`;
  return { url, init: { method: signed.method, headers: signed.headers ?? {}, body: signed.body ? signed.body : undefined } };
}

/**
 * Sends it (globalThis.fetch, looked up at call time) and returns
 * {url, status, body}: the venue's JSON answer, or its text (cut at 64 KiB).
 */
export async function send(venue, result, base, timeoutMs) {
  const { url, init } = httpRequest(venue, result, base);
  const res = await globalThis.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const text = (await res.text()).slice(0, MAX_BODY);
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { url: url.split('?')[0], status: res.status, body };
}
