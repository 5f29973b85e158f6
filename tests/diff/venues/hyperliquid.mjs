// Hyperliquid POST /exchange bodies.
//
// L1 actions: the official Python SDK (hyperliquid.utils.signing.sign_l1_action)
// is the primary oracle and gives the expected r/s text (SDK style: 0x + hex
// without leading zeros). @nktkas/hyperliquid signL1Action (ethers wallet) and,
// where ccxt's hash layout allows it, ccxt hyperliquid.signL1Action must agree
// numerically (they pad r/s to 64 hex digits). ccxt is skipped when the nonce or
// expiresAfter is not an 11-hex-digit number (its actionHash writes
// '00000' + hex(nonce)) or when the action holds integers beyond 2^53.
//
// User-signed actions: Python SDK helpers (signatureChainId 0x66eee) or
// user_signed_payload + sign_inner (any other wallet chain); @nktkas
// signUserSignedAction with its own *Types tables; ccxt signUserSignedAction when
// the chain is 0x66eee (its hard-coded domain chain id).
import ccxt from 'ccxt';
import { Wallet, getAddress, keccak256, concat, toBeHex } from 'ethers';
import { signL1Action, signUserSignedAction, createL1ActionHash } from '@nktkas/hyperliquid/signing';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import * as HLX from '@nktkas/hyperliquid/api/exchange';
import { FIXED_SECP256K1, seededSecp256k1, randToken } from '../lib/keys.mjs';
import { UNICODE_SAMPLES, longUnicode } from '../lib/gen.mjs';
import { stringify, RawNumber } from '../lib/json.mjs';
import { OracleDisagreement } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

const TWO53 = 2 ** 53;

function keyFor(rng, ctx) {
  if (rng.chance(0.35)) return { key: FIXED_SECP256K1[0], pub: true, desc: 'venues.md §0 test key 0x0123…0123' };
  const idx = rng.int(0, 5);
  return { key: ctx.cached(`secp-${idx}`, () => seededSecp256k1(ctx.seed, `hl-${idx}`)), pub: false, desc: `seeded secp256k1 hl-${idx}` };
}

const addr = (rng) => '0x' + rng.hex(20);
const maybeChecksum = (rng, a, p) => (rng.chance(p) ? getAddress(a) : a);

// float_to_wire style decimal: no exponent, no trailing zeros (plus a few odd but valid strings)
export function hlDecimal(rng) {
  if (rng.chance(0.15)) return rng.pick(['0', '1', '0.00000001', '100', '50000', '0.0147', '1670.1', '123456789', '0.1', '99999.9', '50000.0']);
  const ip = rng.weighted([[3, '0'], [6, String(rng.int(1, 99999))], [1, String(rng.int(100000, 2 ** 40))]]);
  let frac = '';
  const n = rng.weighted([[3, 0], [6, rng.int(1, 8)]]);
  for (let i = 0; i < n; i++) frac += String(rng.int(0, 9));
  frac = frac.replace(/0+$/, '');
  if (ip === '0' && !frac) return '0';
  return frac ? `${ip}.${frac}` : ip;
}

function bigish(rng, { allowBig = true } = {}) {
  return rng.weighted([
    [5, () => rng.int(0, 2 ** 31)], [3, () => rng.int(2 ** 32, TWO53 - 1)], [1, () => rng.pick([0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, TWO53 - 1])],
    [allowBig ? 0.7 : 0, () => (1n << 53n) + rng.bigBits(63) % ((1n << 64n) - (1n << 53n))],
    [allowBig ? 0.2 : 0, () => (1n << 64n) - 1n],
  ])();
}

function asset(rng) {
  return rng.weighted([[6, () => rng.int(0, 200)], [2, () => 10000 + rng.int(0, 400)], [1, () => 100000 + rng.int(1, 9) * 10000 + rng.int(0, 40)]])();
}

const cloid = (rng) => '0x' + rng.hex(16);

function orderType(rng) {
  if (rng.chance(0.65)) return { limit: { tif: rng.weighted([[3, 'Gtc'], [3, 'Ioc'], [3, 'Alo'], [0.5, 'FrontendMarket']]) } };
  return { trigger: { isMarket: rng.chance(0.5), triggerPx: hlDecimal(rng), tpsl: rng.pick(['tp', 'sl']) } };
}

function orderWire(rng) {
  const o = { a: asset(rng), b: rng.chance(0.5), p: hlDecimal(rng), s: hlDecimal(rng), r: rng.chance(0.3), t: orderType(rng) };
  if (rng.chance(0.4)) o.c = cloid(rng);
  return o;
}

function uniText(rng, max = 3) {
  let s = '';
  const n = rng.int(1, max);
  for (let i = 0; i < n; i++) s += rng.chance(0.5) ? rng.pick(UNICODE_SAMPLES) : randToken(rng, rng.int(1, 10));
  return s;
}

const L1 = {
  order: (rng) => {
    const a = { type: 'order', orders: Array.from({ length: rng.weighted([[6, 1], [3, 2], [1, rng.int(3, 6)], [0.3, rng.int(16, 40)]]) }, () => orderWire(rng)),
      grouping: rng.weighted([[6, 'na'], [2, 'normalTpsl'], [2, 'positionTpsl']]) };
    if (rng.chance(0.3)) a.builder = { b: addr(rng), f: rng.weighted([[4, rng.int(0, 100)], [1, rng.int(101, 1000)]]) };
    return a;
  },
  cancel: (rng) => ({ type: 'cancel', cancels: Array.from({ length: rng.chance(0.1) ? rng.int(15, 70) : rng.int(1, 4) }, () => ({ a: asset(rng), o: bigish(rng) })) }),
  cancelByCloid: (rng) => ({ type: 'cancelByCloid', cancels: Array.from({ length: rng.int(1, 4) }, () => ({ asset: asset(rng), cloid: cloid(rng) })) }),
  modify: (rng) => ({ type: 'modify', oid: rng.chance(0.7) ? bigish(rng) : cloid(rng), order: orderWire(rng) }),
  batchModify: (rng) => ({ type: 'batchModify', modifies: Array.from({ length: rng.int(1, 4) }, () => ({ oid: rng.chance(0.7) ? bigish(rng) : cloid(rng), order: orderWire(rng) })) }),
  scheduleCancel: (rng) => (rng.chance(0.4) ? { type: 'scheduleCancel' } : { type: 'scheduleCancel', time: bigish(rng) }),
  updateLeverage: (rng) => ({ type: 'updateLeverage', asset: asset(rng), isCross: rng.chance(0.5), leverage: rng.int(1, 100) }),
  updateIsolatedMargin: (rng) => ({ type: 'updateIsolatedMargin', asset: asset(rng), isBuy: rng.chance(0.5),
    ntli: rng.weighted([[4, () => rng.int(-(2 ** 40), 2 ** 40)], [1, () => rng.pick([-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(TWO53 - 1)])],
      [0.5, () => -(1n << 53n) - rng.bigBits(62)]])() }),
  twapOrder: (rng) => ({ type: 'twapOrder', twap: { a: asset(rng), b: rng.chance(0.5), s: hlDecimal(rng), r: rng.chance(0.5), m: rng.int(5, 1440), t: rng.chance(0.5) } }),
  twapCancel: (rng) => ({ type: 'twapCancel', a: asset(rng), t: bigish(rng) }),
  vaultTransfer: (rng) => ({ type: 'vaultTransfer', vaultAddress: addr(rng), isDeposit: rng.chance(0.5), usd: bigish(rng) }),
  noop: () => ({ type: 'noop' }),
  createSubAccount: (rng) => ({ type: 'createSubAccount', name: uniText(rng) }),
  setDisplayName: (rng) => ({ type: 'setDisplayName', displayName: rng.weighted([[1, () => ''], [7, () => uniText(rng)], [2, () => longUnicode(rng, 40, 70000)]])() }),
  setReferrer: (rng) => ({ type: 'setReferrer', code: randToken(rng, rng.int(1, 20)).toUpperCase() }),
  subAccountTransfer: (rng) => ({ type: 'subAccountTransfer', subAccountUser: addr(rng), isDeposit: rng.chance(0.5), usd: bigish(rng) }),
};
const L1_WEIGHTS = [[10, 'order'], [4, 'cancel'], [3, 'cancelByCloid'], [3, 'modify'], [3, 'batchModify'], [3, 'scheduleCancel'],
  [2, 'updateLeverage'], [3, 'updateIsolatedMargin'], [2, 'twapOrder'], [2, 'twapCancel'], [2, 'vaultTransfer'], [1, 'noop'],
  [1.5, 'createSubAccount'], [1, 'setDisplayName'], [1, 'setReferrer'], [1, 'subAccountTransfer']];

function hasBig(x) {
  if (typeof x === 'bigint') return true;
  if (Array.isArray(x)) return x.some(hasBig);
  if (x && typeof x === 'object') return Object.values(x).some(hasBig);
  return false;
}

// freshness is the service's business: any uint64 nonce is signed (0 included,
// as in the Python SDK's own test vectors)
function nonceL1(rng) {
  return rng.weighted([[17, () => rng.int(1600000000000, 1900000000000)],
    [1, () => rng.pick([0, 1, 2 ** 32 - 1, 2 ** 32, TWO53 - 1])], [1, () => rng.int(0, TWO53 - 1)],
    [0.6, () => (1n << 53n) + rng.bigBits(63)], [0.2, () => (1n << 64n) - 1n]])();
}

// connectionId from @msgpack/msgpack (a fourth msgpack encoder) per venues.md §5.1 step 2
// (@msgpack/msgpack writes JS numbers beyond 32 bits as float64; Python ints are
// msgpack ints, so integers beyond int32/uint32 go in as BigInt -> int64/uint64)
function bigInts(x) {
  if (typeof x === 'number' && Number.isInteger(x) && (x > 0xffffffff || x < -0x80000000)) return BigInt(x);
  if (Array.isArray(x)) return x.map(bigInts);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, bigInts(v)]));
  return x;
}
function connectionIdMsgpackJs(action, nonce, vault, expires) {
  const u64 = (x) => toBeHex(BigInt(x), 8);
  const parts = [msgpackEncode(bigInts(action), { useBigInt64: true }), u64(nonce), vault ? concat(['0x01', vault.toLowerCase()]) : '0x00'];
  if (expires !== undefined) parts.push('0x00', u64(expires));
  return keccak256(concat(parts));
}

const ccxtOk = (n) => n === undefined || (typeof n === 'number' && n.toString(16).length === 11);

function toHexBig(x) { return BigInt(x); }
export function sameSig(a, b) {
  return toHexBig(a.r) === toHexBig(b.r) && toHexBig(a.s) === toHexBig(b.s) && Number(a.v) === Number(b.v);
}

const ccxtCache = new Map();
function ccxtHl(key, testnet) {
  const k = `${key}/${testnet}`;
  if (!ccxtCache.has(k)) {
    const ex = new ccxt.hyperliquid({ privateKey: key, walletAddress: new Wallet(key).address });
    ex.options.sandboxMode = testnet;
    ccxtCache.set(k, ex);
  }
  return ccxtCache.get(k);
}

function finishHl(c, js, py) {
  if (py.error) throw new OracleDisagreement(`python SDK oracle failed: ${py.error}`);
  for (const [name, sig] of Object.entries(js)) {
    if (!sameSig(sig, py)) {
      throw new OracleDisagreement(`hyperliquid: ${name} disagrees with the Python SDK\n  python: ${JSON.stringify(py)}\n  ${name}: ${JSON.stringify(sig)}\n  request: ${c.requestText}`);
    }
  }
  const body = { action: c.postedAction, nonce: c.request.nonce, signature: { r: py.r, s: py.s, v: py.v } };
  if (c.request.vault_address != null) body.vaultAddress = c.request.vault_address;
  if (c.request.expires_after != null) body.expiresAfter = c.request.expires_after;
  c.expect = { text: stringify(body) };
  c.info += `; oracles: python${Object.keys(js).map((n) => '+' + n).join('')}`;
}

function requestObject(rng, fields) {
  // sigil must not depend on the order of the request's top-level keys
  const keys = rng.chance(0.2) ? rng.shuffle(Object.keys(fields)) : Object.keys(fields);
  const o = {};
  for (const k of keys) if (fields[k] !== undefined) o[k] = fields[k];
  return o;
}

export const hyperliquid = {
  label: 'hyperliquid',
  async makeCase(rng, i, ctx) {
    const { key, pub, desc } = keyFor(rng, ctx);
    const mainnet = rng.chance(0.5);
    const type = rng.weighted(L1_WEIGHTS);
    const action = L1[type](rng);
    const nonce = nonceL1(rng);
    if (rng.chance(NEG_RATE)) {
      const base = { venue: 'hyperliquid', network: mainnet ? 'mainnet' : 'testnet', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc };
      // a checksummed address with one letter's case flipped (always has a letter: retry)
      let bad = null;
      while (!bad) {
        const cs = getAddress(addr(rng));
        const k = cs.slice(2).search(/[a-fA-F]/);
        if (k >= 0) {
          const ch = cs[k + 2];
          bad = cs.slice(0, k + 2) + (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) + cs.slice(k + 3);
        }
      }
      return rng.pick([
        () => refusal({ ...base, request: { action, nonce, vault_address: bad } }, 'bad_address', 'vault_address with a bad EIP-55 checksum'),
        () => refusal({ ...base, request: { action, nonce, vault_address: '0x' + rng.hex(rng.pick([19, 21])) } }, 'bad_address', 'vault_address not 20 bytes'),
        () => refusal({ ...base, request: { action: { type: 'updateLeverage', asset: 1, isCross: true, leverage: new RawNumber(rng.pick(['1.5', '1e2', '10.0'])) }, nonce } }, null, 'a number with a fraction or exponent in an L1 action'),
      ])();
    }
    let vault;
    if (type !== 'vaultTransfer' && rng.chance(0.35)) vault = maybeChecksum(rng, addr(rng), 0.15);
    let expires;
    if (rng.chance(0.35)) {
      expires = typeof nonce === 'number' && nonce > 1e12 && nonce < 1e13 && rng.chance(0.8)
        ? nonce + rng.int(1000, 600000)
        : rng.weighted([[3, () => rng.int(0, TWO53 - 1)], [1, () => rng.pick([0, 1, 2 ** 32])], [1, () => (1n << 64n) - 1n]])();
    }
    const request = requestObject(rng, { action, nonce, vault_address: vault ?? (rng.chance(0.1) ? null : undefined),
      expires_after: expires ?? (rng.chance(0.1) ? null : undefined) });
    const wallet = new Wallet(key);
    const h1 = createL1ActionHash({ action, nonce, vaultAddress: vault, expiresAfter: expires });
    const h2 = connectionIdMsgpackJs(action, nonce, vault, expires);
    if (h1 !== h2) throw new OracleDisagreement(`hyperliquid connectionId: @nktkas ${h1} vs @msgpack/msgpack ${h2} for ${stringify(request)}`);
    const js = {};
    js['@nktkas/hyperliquid'] = await signL1Action({ wallet, action, nonce, isTestnet: !mainnet, vaultAddress: vault, expiresAfter: expires });
    if (!hasBig(action) && ccxtOk(nonce) && ccxtOk(expires)) {
      js.ccxt = ccxtHl(key, !mainnet).signL1Action(action, nonce, vault ? vault.slice(2).toLowerCase() : undefined, expires);
    }
    const c = {
      venue: 'hyperliquid', network: mainnet && rng.chance(0.2) ? undefined : (mainnet ? 'mainnet' : 'testnet'),
      credFile: { private_key: key }, credsPublic: pub, credsDesc: desc, request, postedAction: action,
      asciiRequest: rng.chance(0.15), info: `L1 ${type}${vault ? ' +vault' : ''}${expires !== undefined ? ' +expiresAfter' : ''} ${mainnet ? 'mainnet' : 'testnet'}`,
      compare: 'hl',
    };
    c.py = { kind: 'l1', key, action, vault: vault ?? null, nonce, expires: expires ?? null, mainnet };
    c.finish = (py) => finishHl(c, js, py);
    return c;
  },
};

// ---- user-signed actions ----
const T = (fields) => fields.map(([name, type]) => ({ name, type }));
export const USER_TYPES = {
  usdSend: ['HyperliquidTransaction:UsdSend', T([['hyperliquidChain', 'string'], ['destination', 'string'], ['amount', 'string'], ['time', 'uint64']]), HLX.UsdSendTypes],
  spotSend: ['HyperliquidTransaction:SpotSend', T([['hyperliquidChain', 'string'], ['destination', 'string'], ['token', 'string'], ['amount', 'string'], ['time', 'uint64']]), HLX.SpotSendTypes],
  withdraw3: ['HyperliquidTransaction:Withdraw', T([['hyperliquidChain', 'string'], ['destination', 'string'], ['amount', 'string'], ['time', 'uint64']]), HLX.Withdraw3Types],
  approveAgent: ['HyperliquidTransaction:ApproveAgent', T([['hyperliquidChain', 'string'], ['agentAddress', 'address'], ['agentName', 'string'], ['nonce', 'uint64']]), HLX.ApproveAgentTypes],
  approveBuilderFee: ['HyperliquidTransaction:ApproveBuilderFee', T([['hyperliquidChain', 'string'], ['maxFeeRate', 'string'], ['builder', 'address'], ['nonce', 'uint64']]), HLX.ApproveBuilderFeeTypes],
  usdClassTransfer: ['HyperliquidTransaction:UsdClassTransfer', T([['hyperliquidChain', 'string'], ['amount', 'string'], ['toPerp', 'bool'], ['nonce', 'uint64']]), HLX.UsdClassTransferTypes],
  sendAsset: ['HyperliquidTransaction:SendAsset', T([['hyperliquidChain', 'string'], ['destination', 'string'], ['sourceDex', 'string'], ['destinationDex', 'string'], ['token', 'string'], ['amount', 'string'], ['fromSubAccount', 'string'], ['nonce', 'uint64']]), HLX.SendAssetTypes],
  tokenDelegate: ['HyperliquidTransaction:TokenDelegate', T([['hyperliquidChain', 'string'], ['validator', 'address'], ['wei', 'uint64'], ['isUndelegate', 'bool'], ['nonce', 'uint64']]), HLX.TokenDelegateTypes],
  // beyond the brief's list: further user-signed actions sigil supports
  convertToMultiSigUser: ['HyperliquidTransaction:ConvertToMultiSigUser', T([['hyperliquidChain', 'string'], ['signers', 'string'], ['nonce', 'uint64']]), HLX.ConvertToMultiSigUserTypes],
  userDexAbstraction: ['HyperliquidTransaction:UserDexAbstraction', T([['hyperliquidChain', 'string'], ['user', 'address'], ['enabled', 'bool'], ['nonce', 'uint64']]), HLX.UserDexAbstractionTypes],
  userSetAbstraction: ['HyperliquidTransaction:UserSetAbstraction', T([['hyperliquidChain', 'string'], ['user', 'address'], ['abstraction', 'string'], ['nonce', 'uint64']]), HLX.UserSetAbstractionTypes],
  cDeposit: ['HyperliquidTransaction:CDeposit', T([['hyperliquidChain', 'string'], ['wei', 'uint64'], ['nonce', 'uint64']]), HLX.CDepositTypes],
  cWithdraw: ['HyperliquidTransaction:CWithdraw', T([['hyperliquidChain', 'string'], ['wei', 'uint64'], ['nonce', 'uint64']]), HLX.CWithdrawTypes],
  linkStakingUser: ['HyperliquidTransaction:LinkStakingUser', T([['hyperliquidChain', 'string'], ['user', 'address'], ['isFinalize', 'bool'], ['nonce', 'uint64']]), HLX.LinkStakingUserTypes],
  userPortfolioMargin: ['HyperliquidTransaction:UserPortfolioMargin', T([['hyperliquidChain', 'string'], ['user', 'address'], ['enabled', 'bool'], ['nonce', 'uint64']]), HLX.UserPortfolioMarginTypes],
};
const MAIN_USER = ['usdSend', 'spotSend', 'withdraw3', 'approveAgent', 'approveBuilderFee', 'usdClassTransfer', 'sendAsset', 'tokenDelegate'];
// Our table must equal @nktkas's (the Python side checks against the SDK's constants).
for (const [t, [primary, fields, nk]] of Object.entries(USER_TYPES)) {
  if (JSON.stringify(nk) !== JSON.stringify({ [primary]: fields })) throw new Error(`EIP-712 types for ${t} differ from @nktkas/hyperliquid`);
}

function timeMs(rng) {
  return rng.weighted([[18, () => rng.int(1600000000000, 1900000000000)], [1, () => rng.pick([0, 1, 2 ** 32, TWO53 - 1])],
    [0.7, () => (1n << 53n) + rng.bigBits(63)], [0.3, () => (1n << 64n) - 1n]])();
}

const TOKENS = ['PURR:0xc4bf3f870c0e9465323c0b6ed28096c2', 'USDC:0x6d1e7cde53ba9467b783cb7c530ce054', 'HYPE:0x0d01dc56dcaaca66ad901c959b4011ec'];

function userAction(rng, type, chain, sigChain) {
  const t = timeMs(rng);
  const amount = hlDecimal(rng);
  const base = { type, signatureChainId: sigChain, hyperliquidChain: chain };
  switch (type) {
    case 'usdSend': case 'withdraw3':
      return { ...base, destination: maybeChecksum(rng, addr(rng), 0.2), amount, time: t };
    case 'spotSend':
      return { ...base, destination: maybeChecksum(rng, addr(rng), 0.2), token: rng.chance(0.8) ? rng.pick(TOKENS) : `${uniText(rng, 1)}:0x${rng.hex(16)}`, amount, time: t };
    case 'approveAgent': {
      const a = { ...base, agentAddress: maybeChecksum(rng, addr(rng), 0.2) };
      const nm = rng.weighted([[5, 'name'], [3, 'absent'], [1, 'empty']]);
      if (nm === 'name') a.agentName = rng.chance(0.7) ? randToken(rng, rng.int(1, 16)) : uniText(rng, 2);
      if (nm === 'empty') a.agentName = '';
      a.nonce = t;
      return a;
    }
    case 'approveBuilderFee':
      return { ...base, maxFeeRate: rng.chance(0.5) ? rng.pick(['0.001%', '0.01%', '0.1%', '1%']) : `${hlDecimal(rng)}%`, builder: maybeChecksum(rng, addr(rng), 0.2), nonce: t };
    case 'usdClassTransfer':
      return { ...base, amount: rng.chance(0.2) ? `${amount} subaccount:0x${rng.hex(20)}` : amount, toPerp: rng.chance(0.5), nonce: t };
    case 'sendAsset':
      return { ...base, destination: maybeChecksum(rng, addr(rng), 0.2), sourceDex: rng.pick(['', 'spot', 'test', 'xyz']), destinationDex: rng.pick(['', 'spot', 'test', 'abc']),
        token: rng.pick(TOKENS), amount, fromSubAccount: rng.chance(0.6) ? '' : addr(rng), nonce: t };
    case 'tokenDelegate':
      return { ...base, validator: maybeChecksum(rng, addr(rng), 0.2), wei: bigish(rng), isUndelegate: rng.chance(0.5), nonce: t };
    case 'convertToMultiSigUser': {
      // signers: JSON text, as the SDK builds it (sorted lowercase users, threshold)
      const users = Array.from({ length: rng.int(1, 4) }, () => addr(rng)).sort();
      const signers = rng.chance(0.2) ? 'null' : JSON.stringify({ authorizedUsers: users, threshold: rng.int(1, users.length) });
      return { ...base, signers, nonce: t };
    }
    case 'userDexAbstraction': case 'userPortfolioMargin':
      return { ...base, user: maybeChecksum(rng, addr(rng), 0.2), enabled: rng.chance(0.5), nonce: t };
    case 'userSetAbstraction':
      return { ...base, user: maybeChecksum(rng, addr(rng), 0.2), abstraction: rng.pick(['unifiedAccount', 'portfolioMargin', 'disabled', 'dexAbstraction']), nonce: t };
    case 'cDeposit': case 'cWithdraw':
      return { ...base, wei: bigish(rng), nonce: t };
    case 'linkStakingUser':
      return { ...base, user: maybeChecksum(rng, addr(rng), 0.2), isFinalize: rng.chance(0.5), nonce: t };
    default: throw new Error(type);
  }
}

export const hyperliquidUser = {
  label: 'hyperliquid-user',
  async makeCase(rng, i, ctx) {
    const { key, pub, desc } = keyFor(rng, ctx);
    const mainnet = rng.chance(0.5);
    const type = rng.chance(0.85) ? rng.pick(MAIN_USER) : rng.pick(Object.keys(USER_TYPES).filter((k) => !MAIN_USER.includes(k)));
    const sigChain = rng.weighted([[6, '0x66eee'], [2, '0xa4b1'], [1, () => rng.pick(['0x1', '0x2105', '0x89', '0x38'])], [0.5, () => '0x' + rng.int(1, 2 ** 32).toString(16)]]);
    const chainIdHex = typeof sigChain === 'function' ? sigChain() : sigChain;
    let action = userAction(rng, type, mainnet ? 'Mainnet' : 'Testnet', chainIdHex);
    // key order of a user-signed action does not enter the signature
    if (rng.chance(0.2)) action = Object.fromEntries(rng.shuffle(Object.entries(action)));
    const [primaryType, fields, nkTypes] = USER_TYPES[type];
    const nonce = action.time ?? action.nonce;
    if (rng.chance(NEG_RATE)) {
      const base = { venue: 'hyperliquid', network: mainnet ? 'mainnet' : 'testnet', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc };
      return rng.pick([
        () => refusal({ ...base, network: mainnet ? 'testnet' : 'mainnet', request: { action, nonce } }, 'bad_field', 'hyperliquidChain does not match --network'),
        () => refusal({ ...base, request: { action, nonce, vault_address: addr(rng) } }, 'bad_field', 'vault_address on a user-signed action'),
        () => refusal({ ...base, request: { action: { ...action, note: 'unsigned' }, nonce } }, null, 'a member of a user-signed action that is not signed'),
        () => refusal({ ...base, request: { action, nonce: typeof nonce === 'bigint' ? nonce - 1n : (nonce > 0 ? nonce - 1 : 1) } }, 'bad_field', 'request.nonce differs from the action\'s time/nonce'),
      ])();
    }
    const request = requestObject(rng, { action, nonce });
    const wallet = new Wallet(key);
    const js = {};
    js['@nktkas/hyperliquid'] = await signUserSignedAction({ wallet, action, types: nkTypes });
    const emptyAgentName = type === 'approveAgent' && action.agentName === undefined;
    if (chainIdHex === '0x66eee') {
      const msg = {};
      for (const f of fields) msg[f.name] = f.name === 'agentName' && emptyAgentName ? '' : action[f.name];
      js.ccxt = ccxtHl(key, !mainnet).signUserSignedAction({ [primaryType]: fields }, msg);
    }
    const c = {
      venue: 'hyperliquid', network: mainnet && rng.chance(0.2) ? undefined : (mainnet ? 'mainnet' : 'testnet'),
      credFile: { private_key: key }, credsPublic: pub, credsDesc: desc, request, postedAction: action,
      asciiRequest: rng.chance(0.15), info: `user-signed ${type} signatureChainId ${chainIdHex} ${mainnet ? 'Mainnet' : 'Testnet'}${emptyAgentName ? ' (no agentName)' : ''}`,
      compare: 'hl',
    };
    c.py = { kind: 'user', key, action, primaryType, types: fields, mainnet, emptyAgentName };
    c.finish = (py) => finishHl(c, js, py);
    return c;
  },
};
