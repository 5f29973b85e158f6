// Paradex (StarkNet typed data revision 0, Pedersen; Stark ECDSA with RFC 6979 k),
// following shared/vectors/venues/paradex.json and docs/CLI.md "Paradex".
//
// account_info (no signature): starknet 10.8.0 hash.calculateContractAddressFromHash over
// @scure/starknet getStarkKey, with the calldata @paradex/sdk deploys the account with.
// Oracle: starknet 10.8.0 typedData.getMessageHash over the typed data ccxt's
// paradex.signOrderRequest builds (size and price scaled by 10^8 with BigInt
// string arithmetic, here), signed with @scure/starknet 2.4.0 sign().
// Cross-checks: the message hash recomputed from @scure/starknet's pedersen,
// computeHashOnElements and keccak (an encoder written here from venues.md §8),
// and every signature verified with @scure/starknet verify().
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { typedData, shortString, hash, selector } from 'starknet';
import * as scure from '@scure/starknet';
import { agree } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'paradex';

const N = 0x800000000000010ffffffffffffffffb781126dcae7b2321e66a241adc64d2fn;
const P = 0x800000000000011000000000000000000000000000000000000000000000001n;
const VECTOR_KEY = 0x6c9b58fa6c63b5c49115c3f75d7230042d639e7ac31635a3a54b3f84dc8f46fn;
const CHAINS = { mainnet: 'PRIVATE_SN_PARACLEAR_MAINNET', testnet: 'PRIVATE_SN_POTC_SEPOLIA' };
const ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP_LIMIT', 'STOP_MARKET', 'TAKE_PROFIT_LIMIT', 'TAKE_PROFIT_MARKET',
  'STOP_LOSS_LIMIT', 'STOP_LOSS_MARKET'];
const MARKETS = ['ETH-USD-PERP', 'BTC-USD-PERP', 'SOL-USD-PERP', 'BTC-USD-27DEC24-60000-C', 'ETH-USD-31JAN25-3500-P'];
const MARKET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

const FELT_TYPES = {
  Order: ['timestamp', 'market', 'side', 'orderType', 'size', 'price'],
  ModifyOrder: ['timestamp', 'market', 'side', 'orderType', 'size', 'price', 'id'],
  Request: ['method', 'path', 'body', 'timestamp', 'expiration'],
  Constant: ['action'],
};
const DOMAIN_FIELDS = ['name', 'chainId', 'version'];

const hex = (n) => '0x' + n.toString(16);
const typesOf = (primary) => ({
  StarkNetDomain: DOMAIN_FIELDS.map((name) => ({ name, type: 'felt' })),
  [primary]: FELT_TYPES[primary].map((name) => ({ name, type: 'felt' })),
});

// A decimal with 0..8 fraction digits, and its 10^8 scaling by string arithmetic.
function decimal(rng, maxInt) {
  const ip = String(rng.weighted([[3, () => rng.int(0, 9)], [3, () => rng.int(0, maxInt)], [1, () => 0]])());
  const digits = rng.weighted([[2, () => 0], [6, () => rng.int(1, 8)]])();
  let frac = '';
  for (let k = 0; k < digits; k++) frac += String(rng.int(0, 9));
  return frac ? `${ip}.${frac}` : ip;
}
function scale(text) {
  const [ip, fp = ''] = text.split('.');
  return BigInt(ip + fp.padEnd(8, '0')).toString();
}

// Short strings and numbers as felts, the way starknet.js reads revision-0 felts.
function feltOf(v) {
  if (typeof v === 'number' || typeof v === 'bigint') return BigInt(v);
  if (/^[0-9]+$/.test(v)) return BigInt(v);
  if (/^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v);
  return BigInt(shortString.encodeShortString(v) === '0x' ? 0 : shortString.encodeShortString(v));
}

// Independent encoder: scure's Pedersen and Keccak, venues.md §8.
function scureHash(td, account) {
  const hashStruct = (name, fields, value) => {
    const typeStr = `${name}(${fields.map((f) => `${f}:felt`).join(',')})`;
    const th = scure.keccak(Buffer.from(typeStr));
    return BigInt(scure.computeHashOnElements([th, ...fields.map((f) => feltOf(value[f]))]));
  };
  const dom = hashStruct('StarkNetDomain', DOMAIN_FIELDS, td.domain);
  const msg = hashStruct(td.primaryType, FELT_TYPES[td.primaryType], td.message);
  return BigInt(scure.computeHashOnElements([feltOf('StarkNet Message'), dom, BigInt(account), msg]));
}

function signTyped(td, account, key) {
  const h = typedData.getMessageHash(td, account);
  agree('paradex message hash: starknet.js vs @scure/starknet encoder', hex(BigInt(h)), hex(scureHash(td, account)), { td });
  const sig = scure.sign(h, hex(key));
  const pub = scure.getPublicKey(hex(key));
  if (!scure.verify(sig, h, pub)) throw new Error('paradex: @scure/starknet does not verify its own signature');
  return { hash: hex(BigInt(h)), text: JSON.stringify([sig.r.toString(10), sig.s.toString(10)]) };
}

const base16 = (s) => '0x' + Buffer.from(s, 'latin1').toString('hex');

function accountText(rng, acct) {
  const h = acct.toString(16);
  return rng.weighted([[6, '0x' + h], [2, '0x' + h.padStart(64, '0')], [1, '0x' + h.toUpperCase()]]);
}

function market(rng) {
  if (rng.chance(0.6)) return rng.pick(MARKETS);
  if (rng.chance(0.05)) return String(rng.int(0, 99999)); // digits only: still a short string
  const n = rng.int(1, 31);
  let s = '';
  for (let k = 0; k < n; k++) s += MARKET_CHARS[rng.int(0, MARKET_CHARS.length - 1)];
  return s;
}

function orderCase(rng, base, account, key, net, modify) {
  const type = rng.pick(ORDER_TYPES);
  const isMarket = type.includes('MARKET');
  const ts = rng.weighted([[8, () => rng.int(1600000000000, 1900000000000)], [1, () => 1000000000000], [1, () => 99999999999999]])();
  const side = rng.pick(['BUY', 'SELL']);
  const mkt = market(rng);
  const size = decimal(rng, 10 ** rng.int(1, 9));
  const req = { message: modify ? 'modify_order' : 'order', account: accountText(rng, account), signature_timestamp: ts,
    market: mkt, side, type, size };
  let price = '0';
  if (!isMarket) req.price = price = decimal(rng, 10 ** rng.int(1, 7));
  else if (rng.chance(0.2)) req.price = '0';
  // market and orderType as ccxt's signOrderRequest passes them (stringToBase16): always
  // short strings, also for a market name made of digits only
  const msg = { timestamp: ts, market: base16(mkt), side: side === 'BUY' ? '1' : '2', orderType: base16(type), size: scale(size),
    price: isMarket ? '0' : scale(price) };
  if (modify) req.id = msg.id = String(rng.weighted([[3, () => rng.int(1, 2 ** 53 - 1)], [1, () => rng.bigBits(rng.int(60, 240))]])());
  const primary = modify ? 'ModifyOrder' : 'Order';
  const td = { types: typesOf(primary), primaryType: primary, domain: { name: 'Paradex', chainId: CHAINS[net], version: 1 }, message: msg };
  const sig = signTyped(td, account, key);
  const expect = { market: mkt, side, type, size, signature: sig.text, signature_timestamp: ts, message_hash: sig.hash };
  if (req.price !== undefined) expect.price = req.price;
  if (modify) expect.id = req.id;
  return { ...base, request: req, compare: 'fields', expect, info: `${primary} ${type} ${side} ${size} ${mkt}` };
}

function headerCase(rng, base, account, key, net, kind) {
  const acct = accountText(rng, account);
  let td, req, body = '', extra = {};
  if (kind === 'auth') {
    const ts = rng.int(1600000000, 1900000000);
    const e = ts + rng.weighted([[5, () => 300], [3, () => rng.int(1, 86400)], [1, () => 1]])();
    td = { types: typesOf('Request'), primaryType: 'Request', domain: { name: 'Paradex', chainId: CHAINS[net], version: 1 },
      message: { method: 'POST', path: '/v1/auth', body: '', timestamp: ts, expiration: e } };
    req = { message: 'auth', account: acct, timestamp: ts, expiration: e };
    extra = { 'PARADEX-TIMESTAMP': String(ts), 'PARADEX-SIGNATURE-EXPIRATION': String(e) };
  } else {
    td = { types: typesOf('Constant'), primaryType: 'Constant', domain: { name: 'Paradex', chainId: CHAINS[net], version: 1 },
      message: { action: 'Onboarding' } };
    req = { message: 'onboarding', account: acct };
    body = JSON.stringify({ public_key: scure.getStarkKey(hex(key)) });
  }
  const sig = signTyped(td, account, key);
  const required = { 'PARADEX-STARKNET-ACCOUNT': hex(account), 'PARADEX-STARKNET-SIGNATURE': sig.text, ...extra };
  return { ...base, request: req, compare: 'cex',
    expect: { method: 'POST', path: kind === 'auth' ? '/v1/auth' : '/v1/onboarding', query: '', body, headers: { required, optional: {}, forbidden: [] } },
    info: `${kind} (${net})` };
}

const VECTOR_CLASS_HASHES = ['0x41cb0280ebadaa75f996d8d92c6f265f6d040bb3ba442e5f86a554f1765244e',
  '0x3530cc4759d78042f1b543bf797f5f3d647cde0388c33734cf91b7f7b9314a9'];

function accountInfoCase(rng, base, key) {
  const [impl, proxy] = rng.chance(0.5) ? VECTOR_CLASS_HASHES : [hex(rng.bigBits(251)), hex(rng.bigBits(251))];
  const pub = scure.getStarkKey(hex(key));
  const account = hash.calculateContractAddressFromHash(pub, proxy, [impl, selector.getSelectorFromName('initialize'), 2, pub, 0], 0);
  const req = { message: 'account_info', paraclear_account_hash: impl, paraclear_account_proxy_hash: proxy };
  return { ...base, request: req, compare: 'fields', expect: { public_key: hex(BigInt(pub)), account: hex(BigInt(account)) },
    info: 'account_info (public key, account address)' };
}

function negative(rng, base, account) {
  const acct = hex(account);
  const order = { message: 'order', account: acct, signature_timestamp: 1700000000000, market: 'ETH-USD-PERP', side: 'BUY',
    type: 'LIMIT', size: '0.1', price: '1500' };
  return rng.pick([
    () => refusal({ ...base, request: { ...order, size: '0.123456789' } }, 'bad_field', 'more than 8 decimal places'),
    () => refusal({ ...base, request: { ...order, size: rng.pick(['1e5', '-1', '.5', '01', '1.']) } }, 'bad_field', 'malformed decimal'),
    () => refusal({ ...base, request: { ...order, size: 0.1 } }, 'bad_field', 'size as a JSON number'),
    () => refusal({ ...base, request: { ...order, side: rng.pick(['buy', 'Buy', 'LONG']) } }, 'bad_field', 'side not BUY/SELL'),
    () => refusal({ ...base, request: { ...order, type: 'MARKET' } }, 'bad_field', 'market order with a price'),
    () => refusal({ ...base, request: { ...order, price: undefined } }, 'missing_field', 'limit order without a price'),
    () => refusal({ ...base, request: { ...order, signature_timestamp: 1700000000 } }, 'out_of_range', 'timestamp in seconds'),
    () => refusal({ ...base, request: { ...order, market: 'M'.repeat(32) } }, 'out_of_range', 'market longer than 31'),
    () => refusal({ ...base, request: { ...order, account: hex(P) } }, 'out_of_range', 'account not a felt'),
    () => refusal({ ...base, request: { ...order, extra: 1 } }, 'unknown_field', 'unsigned member'),
    () => refusal({ ...base, request: { ...order, message: 'withdraw' } }, 'bad_field', 'unknown message'),
    () => refusal({ ...base, request: { message: 'auth', account: acct, timestamp: 1700000300, expiration: 1700000000 } }, 'bad_field', 'expiration before timestamp'),
    () => refusal({ ...base, request: { ...order, message: 'modify_order' } }, 'missing_field', 'modify without id'),
  ])();
}

// The oracle first reproduces every typed-data vector of shared/vectors/venues/paradex.json
// (message hash and signature), when the shared directory is there.
function selfCheck(sharedDir) {
  if (!sharedDir) return 0;
  const doc = JSON.parse(readFileSync(path.join(sharedDir, 'vectors', 'venues', 'paradex.json'), 'utf8'));
  let n = 0;
  for (const v of doc.vectors) {
    if (!v.inputs.typed_data) continue;
    const sig = signTyped(v.inputs.typed_data, BigInt(v.inputs.account_address), BigInt(v.inputs.stark_private_key));
    agree(`paradex vector ${v.name}: message hash`, sig.hash, hex(BigInt(v.expected.message_hash)), {});
    agree(`paradex vector ${v.name}: signature`, sig.text, v.expected.signature_header_value, {});
    n++;
  }
  return n;
}

export async function makeCase(rng, i, ctx) {
  ctx.cached('paradex-vectors', () => selfCheck(ctx.sharedDir));
  const fixed = rng.chance(0.15);
  const key = fixed ? VECTOR_KEY : 1n + rng.bigBelow(N - 1n);
  const keyText = '0x' + key.toString(16).padStart(64, '0');
  const account = rng.weighted([[8, () => rng.bigBits(251)], [1, () => P - 1n], [1, () => rng.bigBits(rng.int(1, 64))]])();
  const net = rng.chance(0.5) ? 'mainnet' : 'testnet';
  const base = { venue: 'paradex', network: rng.chance(0.2) && net === 'mainnet' ? undefined : net, credFile: { private_key: keyText },
    credsPublic: fixed, credsDesc: fixed ? 'venues.md §8 Stark key 0x6c9b…46f' : 'seeded Stark key' };
  if (rng.chance(NEG_RATE)) return negative(rng, base, account);
  const kind = rng.weighted([[5, 'order'], [2, 'modify'], [2, 'auth'], [1, 'onboarding'], [0.5, 'account_info']]);
  if (kind === 'order' || kind === 'modify') return orderCase(rng, base, account, key, net, kind === 'modify');
  if (kind === 'account_info') return accountInfoCase(rng, base, key);
  return headerCase(rng, base, account, key, net, kind);
}
