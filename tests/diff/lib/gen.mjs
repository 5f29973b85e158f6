// Random building blocks shared by the venue generators.
import { randToken } from './keys.mjs';

export const UNICODE_SAMPLES = [
  '１２３４５６', '测试', '比特币USDT', 'héllo wörld', 'Ünïcödé', 'ÆØÅ', 'naïve café', 'Ελληνικά',
  'кириллица', 'עברית', 'العربية', 'हिन्दी', '日本語テキスト', '한국어', '🚀', '💎🙌', '👨‍👩‍👧‍👦',
  'e\u0301', '\u00a0nbsp', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '✓ ok', '€100', '¥¢£', '\u2028line-sep', '\ufeffbom',
];
export const SPECIAL_ASCII = [' ', '!', '"', '#', '$', '%', '&', "'", '(', ')', '*', '+', ',', '/', ':', ';',
  '<', '=', '>', '?', '@', '[', '\\', ']', '^', '`', '{', '|', '}', '~', '-', '_', '.'];

// Decimal strings as a trader sends them: never exponent notation.
export const EDGE_DECIMALS = ['0', '1', '0.00000001', '0.10000000', '0.1', '1.0', '100', '35000.10', '0.001',
  '99999999.99999999', '0.000000000000000001', '123456789012345678901234567890', '1000000000000000000',
  '0.5', '10.00', '50000', '0.00010000', '9007199254740993', '18446744073709551615', '3.14159265358979323846'];

export function decimalString(rng) {
  if (rng.chance(0.3)) return rng.pick(EDGE_DECIMALS);
  const intPart = rng.weighted([[3, () => '0'], [5, () => String(rng.int(1, 99999))],
    [2, () => String(rng.int(1, 2 ** 31)) + String(rng.int(0, 999999999))]])();
  const fracLen = rng.weighted([[3, 0], [5, rng.int(1, 8)], [2, rng.int(9, 18)]]);
  let frac = '';
  for (let i = 0; i < fracLen; i++) frac += String(rng.int(0, 9));
  return fracLen ? `${intPart}.${frac}` : intPart;
}

export function intString(rng) {
  return rng.weighted([[2, () => String(rng.int(0, 1000))], [4, () => String(rng.int(0, 2 ** 53 - 1))],
    [1, () => rng.bigBits(63).toString()], [1, () => '0']])();
}

export function unicodeString(rng) {
  const n = rng.int(1, 4);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(UNICODE_SAMPLES) + (rng.chance(0.3) ? rng.pick(SPECIAL_ASCII) : '');
  return s;
}

export function messyString(rng) {
  const n = rng.int(1, 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += rng.weighted([[3, () => randToken(rng, rng.int(1, 6))], [2, () => rng.pick(SPECIAL_ASCII)],
      [1, () => rng.pick(UNICODE_SAMPLES)]])();
  }
  return s;
}

export function longString(rng) {
  return randToken(rng, rng.int(200, 1200), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.');
}

// Long text with many multi-byte characters and characters JSON must escape
// (crosses any chunk boundary a parser or hasher may use).
export function longUnicode(rng, minBytes = 1100, maxBytes = 5000) {
  const target = rng.int(minBytes, maxBytes);
  let s = '';
  while (Buffer.byteLength(s) < target) {
    s += rng.weighted([[4, () => rng.pick(UNICODE_SAMPLES)], [3, () => randToken(rng, rng.int(1, 20))],
      [1, () => rng.pick(['"', '\\', '\n', '\t', '/', '\u0001', '\r\n'])]])();
  }
  return s;
}

// A large JSON object (20 KB .. 70 KB) for buffer-size edges (the request, JSON-escaped
// and maybe ASCII-only, must stay under sigil's 256 KiB limit).
export function bigJsonObject(rng) {
  const o = {};
  const target = rng.int(20000, 70000);
  let size = 0;
  for (let i = 0; size < target; i++) {
    const v = rng.chance(0.5) ? longString(rng) : longUnicode(rng, 200, 2000);
    o[`k${i}_${randToken(rng, 4)}`] = v;
    size += Buffer.byteLength(JSON.stringify(v)) + 12;
  }
  return o;
}

export function clientId(rng) {
  return randToken(rng, rng.int(1, 36), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_');
}

export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'LTCBTC', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', '１２３４５６', '1000PEPEUSDT',
  'BTCUSDT_240628', 'ETHBTC'];

const PARAM_NAMES = ['symbol', 'side', 'type', 'timeInForce', 'quantity', 'price', 'newClientOrderId', 'stopPrice',
  'orderId', 'origClientOrderId', 'limit', 'startTime', 'endTime', 'fromId', 'quoteOrderQty', 'icebergQty',
  'newOrderRespType', 'positionSide', 'reduceOnly', 'workingType', 'priceProtect', 'closePosition',
  'activationPrice', 'callbackRate', 'leverage', 'marginType', 'asset', 'amount', 'coin', 'network', 'address',
  'category', 'settleCoin', 'baseCoin', 'orderLinkId', 'instId', 'instType', 'ccy', 'tdMode', 'clOrdId', 'ordType',
  'px', 'sz', 'status', 'currentPage', 'pageSize', 'clientOid', 'memo', 'note', 'label', 'tag', 'cursor'];

// Name -> value generator with some semantic flavour.
function valueFor(rng, name) {
  const generic = () => rng.weighted([
    [6, () => decimalString(rng)], [3, () => intString(rng)], [3, () => clientId(rng)],
    [2, () => unicodeString(rng)], [2, () => messyString(rng)], [1, () => longString(rng)],
    [1, () => ''], [1, () => rng.pick(['true', 'false'])],
  ])();
  switch (name) {
    case 'symbol': return rng.chance(0.85) ? rng.pick(SYMBOLS) : generic();
    case 'side': return rng.pick(['BUY', 'SELL', 'buy', 'sell', 'Buy']);
    case 'type': return rng.pick(['LIMIT', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'LIMIT_MAKER']);
    case 'timeInForce': return rng.pick(['GTC', 'IOC', 'FOK', 'GTX']);
    case 'quantity': case 'price': case 'stopPrice': case 'amount': case 'px': case 'sz': case 'quoteOrderQty':
      return decimalString(rng);
    case 'orderId': case 'startTime': case 'endTime': case 'fromId': case 'limit': return intString(rng);
    default: return generic();
  }
}

// An ordered list of [name, value] with names unique even case-folded
// (sigil refuses names repeating once case-folded), never colliding with
// the names a venue reserves.
export function randomParams(rng, { min = 0, max = 8, reserved = [], valueGen = valueFor } = {}) {
  const n = rng.int(min, max);
  const used = new Set(reserved.map((x) => x.toLowerCase()));
  const out = [];
  let guard = 0;
  while (out.length < n && guard++ < 200) {
    const name = rng.weighted([[8, () => rng.pick(PARAM_NAMES)],
      [2, () => randToken(rng, rng.int(1, 12), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789')],
      [0.3, () => rng.pick(['名前', 'clé', 'a b', 'x[0]', 'k.y'])]])();
    if (used.has(name.toLowerCase())) continue;
    used.add(name.toLowerCase());
    out.push([name, valueGen(rng, name)]);
  }
  return out;
}

// RFC 3986 percent-encoding (what ccxt's urlencode emits for values).
export function pctEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// Python urllib.parse.quote_plus (what urlencode() in the Aster docs' examples emits).
export function quotePlus(s) {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9_.\-~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// Random JSON value for request bodies (no non-integer JS numbers: decimals are strings).
export function jsonValue(rng, depth = 0) {
  const leaf = () => rng.weighted([
    [5, () => decimalString(rng)], [3, () => clientId(rng)], [2, () => unicodeString(rng)],
    [2, () => messyString(rng)], [2, () => rng.int(0, 2 ** 31)], [1, () => rng.int(-(2 ** 31), 0)],
    [1, () => rng.int(0, 2 ** 53 - 1)], [1, () => rng.chance(0.5)], [0.5, () => null], [0.5, () => ''],
    [0.3, () => longString(rng)],
  ])();
  if (depth >= 2) return leaf();
  return rng.weighted([
    [10, leaf],
    [1, () => Array.from({ length: rng.int(0, 3) }, () => jsonValue(rng, depth + 1))],
    [1, () => Object.fromEntries(randomParams(rng, { min: 0, max: 3, valueGen: () => jsonValue(rng, depth + 1) }))],
  ])();
}
