// place_order / cancel_order: venue requests (docs/CLI.md formats) built from
// simple typed arguments, one table entry per venue.
import { randomUUID } from 'node:crypto';

/** A caller mistake the tool reports as `bad_arguments`. */
export class ArgumentError extends Error {
  constructor(message) {
    super(message);
    this.code = 'bad_arguments';
  }
}

const need = (cond, message) => {
  if (!cond) throw new ArgumentError(message);
};

const form = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();
const json = (obj) => JSON.stringify(obj);
const upper = (s) => s.toUpperCase();
const title = (s) => s[0].toUpperCase() + s.slice(1);
/** Hyperliquid wire decimals: no trailing zeros ("30000.0" → "30000"), as its SDK sends them. */
const wireDecimal = (d) => (d.includes('.') ? d.replace(/0+$/, '').replace(/\.$/, '') : d);

function limitPrice(a) {
  if (a.type === 'limit') need(a.price !== undefined, 'price: required for a limit order');
  else need(a.price === undefined, 'price: a market order takes no price on this venue');
  return a.price;
}

function oneOrderRef(a) {
  need((a.order_id === undefined) !== (a.client_order_id === undefined),
    'give exactly one of order_id and client_order_id');
}

// time_in_force → each venue's spelling (absent: not supported there)
const TIF = {
  binance: { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', POST_ONLY: 'GTX' }, // USD-M and aster; spot: LIMIT_MAKER
  bybit: { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', POST_ONLY: 'PostOnly' },
  okx: { GTC: 'limit', IOC: 'ioc', FOK: 'fok', POST_ONLY: 'post_only' },
  hyperliquid: { GTC: 'Gtc', IOC: 'Ioc', POST_ONLY: 'Alo' },
  kucoinfutures: { GTC: 'GTC', IOC: 'IOC', POST_ONLY: 'POST_ONLY' },
};

function tif(venue, a) {
  if (a.type === 'market') return undefined;
  const t = TIF[venue][a.time_in_force ?? 'GTC'];
  need(t !== undefined, `time_in_force: ${a.time_in_force} is not available on ${venue}`);
  return t;
}

// ---- binance (spot /api/v3, USD-M futures /fapi/v1): form bodies, query on DELETE
const BINANCE_PATH = { spot: '/api/v3/order', usdm: '/fapi/v1/order' };

function binanceOrder(a, { now, market }) {
  const price = limitPrice(a);
  need(!(market === 'spot' && a.reduce_only), 'reduce_only: binance spot has no reduce-only orders');
  const spotMaker = a.time_in_force === 'POST_ONLY' && market === 'spot';
  const body = form({
    symbol: a.symbol, side: upper(a.side),
    type: spotMaker ? 'LIMIT_MAKER' : upper(a.type),
    quantity: a.quantity, price,
    timeInForce: spotMaker ? undefined : tif('binance', a),
    reduceOnly: a.reduce_only ? 'true' : undefined,
    newClientOrderId: a.client_order_id, timestamp: now,
  });
  return { method: 'POST', path: BINANCE_PATH[market], body, timestamp: now };
}

function binanceCancel(a, { now, market }) {
  oneOrderRef(a);
  const query = form({ symbol: a.symbol, orderId: a.order_id, origClientOrderId: a.client_order_id, timestamp: now });
  return { method: 'DELETE', path: BINANCE_PATH[market], query, timestamp: now };
}

// ---- bybit V5: JSON bodies
function bybitOrder(a, { now, market }) {
  const price = limitPrice(a);
  need(!(market === 'spot' && a.reduce_only), 'reduce_only: bybit spot has no reduce-only orders');
  const order = {
    category: market, symbol: a.symbol, side: title(a.side), orderType: title(a.type), qty: a.quantity,
    // spot market orders: quantity in the base coin, like every other order here
    ...(market === 'spot' && a.type === 'market' ? { marketUnit: 'baseCoin' } : {}),
    ...(price !== undefined ? { price, timeInForce: tif('bybit', a) } : {}),
    ...(a.reduce_only ? { reduceOnly: true } : {}),
    ...(a.client_order_id !== undefined ? { orderLinkId: a.client_order_id } : {}),
  };
  return { method: 'POST', path: '/v5/order/create', body: json(order), timestamp: now };
}

function bybitCancel(a, { now, market }) {
  oneOrderRef(a);
  const body = { category: market, symbol: a.symbol,
    ...(a.order_id !== undefined ? { orderId: a.order_id } : { orderLinkId: a.client_order_id }) };
  return { method: 'POST', path: '/v5/order/cancel', body: json(body), timestamp: now };
}

// ---- okx V5: JSON bodies; instId decides the instrument type (BTC-USDT spot, BTC-USDT-SWAP …)
const okxSpot = (instId) => instId.split('-').length === 2;

function okxOrder(a, { now }) {
  const price = limitPrice(a);
  const spot = okxSpot(a.symbol);
  need(!(spot && a.reduce_only), 'reduce_only: okx spot has no reduce-only orders');
  const order = {
    instId: a.symbol, tdMode: a.margin_mode ?? (spot ? 'cash' : 'cross'), side: a.side,
    ordType: a.type === 'market' ? 'market' : tif('okx', a), sz: a.quantity,
    ...(price !== undefined ? { px: price } : {}),
    // spot market orders: size in the base currency
    ...(spot && a.type === 'market' ? { tgtCcy: 'base_ccy' } : {}),
    ...(a.reduce_only ? { reduceOnly: true } : {}),
    ...(a.client_order_id !== undefined ? { clOrdId: a.client_order_id } : {}),
  };
  return { method: 'POST', path: '/api/v5/trade/order', body: json(order), timestamp: now };
}

function okxCancel(a, { now }) {
  oneOrderRef(a);
  const body = { instId: a.symbol, ...(a.order_id !== undefined ? { ordId: a.order_id } : { clOrdId: a.client_order_id }) };
  return { method: 'POST', path: '/api/v5/trade/cancel-order', body: json(body), timestamp: now };
}

// ---- hyperliquid: L1 actions, member order as the official SDK writes them
function hlAsset(symbol) {
  need(/^(0|[1-9][0-9]{0,6})$/.test(symbol), 'symbol: hyperliquid takes the asset index in decimal ("0" = BTC perp; spot: 10000 + index)');
  return Number(symbol);
}

const hlCloid = (c) => {
  need(/^0x[0-9a-f]{32}$/.test(c), 'client_order_id: hyperliquid cloids are 0x and 32 lowercase hex digits');
  return c;
};

function hlWrap(action, a, now) {
  return { action, nonce: now, ...(a.vault_address !== undefined ? { vault_address: a.vault_address } : {}) };
}

function hyperliquidOrder(a, { now }) {
  need(a.price !== undefined, 'price: hyperliquid orders always carry a limit price (for a market order: the worst acceptable price)');
  const t = a.type === 'market' ? 'Ioc' : tif('hyperliquid', a);
  const order = { a: hlAsset(a.symbol), b: a.side === 'buy', p: wireDecimal(a.price), s: wireDecimal(a.quantity),
    r: a.reduce_only === true, t: { limit: { tif: t } },
    ...(a.client_order_id !== undefined ? { c: hlCloid(a.client_order_id) } : {}) };
  return hlWrap({ type: 'order', orders: [order], grouping: 'na' }, a, now);
}

function hyperliquidCancel(a, { now }) {
  oneOrderRef(a);
  const asset = hlAsset(a.symbol);
  if (a.order_id !== undefined) {
    need(/^[0-9]{1,16}$/.test(a.order_id) && Number.isSafeInteger(Number(a.order_id)), 'order_id: hyperliquid order ids are integers');
    return hlWrap({ type: 'cancel', cancels: [{ a: asset, o: Number(a.order_id) }] }, a, now);
  }
  return hlWrap({ type: 'cancelByCloid', cancels: [{ asset, cloid: hlCloid(a.client_order_id) }] }, a, now);
}

// ---- kucoinfutures: JSON bodies, sizes in lots, cancels by path
function kucoinOrder(a, { now }) {
  const price = limitPrice(a);
  need(/^[1-9][0-9]{0,15}$/.test(a.quantity), 'quantity: kucoinfutures sizes are whole lots');
  const t = a.type === 'limit' ? tif('kucoinfutures', a) : undefined;
  const order = {
    clientOid: a.client_order_id ?? randomUUID(), side: a.side, symbol: a.symbol, type: a.type,
    leverage: a.leverage ?? 1, size: Number(a.quantity),
    ...(price !== undefined ? { price, timeInForce: t === 'POST_ONLY' ? 'GTC' : t } : {}),
    ...(t === 'POST_ONLY' ? { postOnly: true } : {}),
    ...(a.reduce_only ? { reduceOnly: true } : {}),
  };
  return { method: 'POST', path: '/api/v1/orders', body: json(order), timestamp: now };
}

function kucoinCancel(a, { now }) {
  oneOrderRef(a);
  if (a.order_id !== undefined) return { method: 'DELETE', path: `/api/v1/orders/${a.order_id}`, timestamp: now };
  return { method: 'DELETE', path: `/api/v1/orders/client-order/${a.client_order_id}`, query: form({ symbol: a.symbol }),
    timestamp: now };
}

// ---- aster V3: the query is the signed message; Sigil appends nonce (µs) and signer
let lastAsterNonce = 0;
const asterNonce = (now) => (lastAsterNonce = Math.max(now * 1000, lastAsterNonce + 1));

function asterOrder(a, { now }) {
  const price = limitPrice(a);
  const query = form({ symbol: a.symbol, side: upper(a.side), type: upper(a.type), quantity: a.quantity, price,
    timeInForce: tif('binance', a), reduceOnly: a.reduce_only ? 'true' : undefined,
    newClientOrderId: a.client_order_id });
  return { method: 'POST', path: '/fapi/v3/order', query, nonce: asterNonce(now) };
}

function asterCancel(a, { now }) {
  oneOrderRef(a);
  const query = form({ symbol: a.symbol, orderId: a.order_id, origClientOrderId: a.client_order_id });
  return { method: 'DELETE', path: '/fapi/v3/order', query, nonce: asterNonce(now) };
}

/**
 * venue → markets (first: the default), builders, and the base URL id of each
 * market (venues.js). Extra arguments a venue accepts are listed in `extras`.
 */
export const VENUES = {
  binance: { markets: ['spot', 'usdm'], order: binanceOrder, cancel: binanceCancel, extras: [] },
  bybit: { markets: ['linear', 'spot', 'inverse'], order: bybitOrder, cancel: bybitCancel, extras: [] },
  okx: { markets: [null], order: okxOrder, cancel: okxCancel, extras: ['margin_mode'] },
  hyperliquid: { markets: [null], order: hyperliquidOrder, cancel: hyperliquidCancel, extras: ['vault_address'] },
  kucoinfutures: { markets: [null], order: kucoinOrder, cancel: kucoinCancel, extras: ['leverage'] },
  aster: { markets: [null], order: asterOrder, cancel: asterCancel, extras: [] },
};
const EXTRAS = ['margin_mode', 'vault_address', 'leverage'];

export const SUPPORTED = Object.keys(VENUES);

/**
 * Builds the venue request of `kind` ('order' | 'cancel') for a key of `venue`.
 * Returns {market, request}; throws ArgumentError on a caller mistake.
 */
export function buildRequest(kind, venue, args, now = Date.now()) {
  const v = VENUES[venue];
  need(v !== undefined, `key venue ${venue}: place_order/cancel_order support ${SUPPORTED.join(', ')} (use sign_request for other venues)`);
  const market = args.market ?? v.markets[0];
  need(v.markets.includes(market), v.markets[0] === null
    ? `market: ${venue} takes no market argument (the symbol names the instrument)`
    : `market: ${venue} has ${v.markets.join(', ')}`);
  need(kind !== 'order' || args.time_in_force === undefined || args.type === 'limit', 'time_in_force: only for limit orders');
  for (const extra of EXTRAS) {
    need(args[extra] === undefined || v.extras.includes(extra), `${extra}: not an argument for ${venue}`);
  }
  return { market, request: v[kind](args, { now, market }) };
}
