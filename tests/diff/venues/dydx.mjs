// dYdX v4 (Cosmos SDK SIGN_MODE_DIRECT), following shared/vectors/venues/dydx.json.
//
// Oracle: @dydxprotocol/v4-client-js 3.6.0 — Composer.composeMsgPlaceOrder /
// composeMsgCancelOrder and LocalWallet.signTransaction (the client's own
// TxBody with the accountplus TxExtension, AuthInfo, SignDoc and TxRaw).
// Cross-check: the TxRaw is decoded with cosmjs-types, its SignDoc rebuilt
// with cosmjs-types and signed again with @noble/curves secp256k1 (RFC 6979,
// low-S), and the decoded message must carry exactly the generated fields.
// Cases: short-term (good_til_block), long-term and conditional orders
// (good_til_block_time, triggers), cancels, permissioned keys (another owner,
// 1-3 authenticator ids), memos (unicode), fees with coins, builder codes,
// order router addresses, uint64 quantums/subticks up to 2^64-1, account
// numbers and sequences up to 2^53-1 (timestamp nonces), both chains.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { FIXED_SECP256K1, seededSecp256k1 } from '../lib/keys.mjs';
import { agree } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'dydx';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '..', 'harness.mjs'));
const V4 = path.join(HERE, '..', 'node_modules', '@dydxprotocol', 'v4-client-js', 'build', 'cjs', 'src');
const { LocalWallet } = require('@dydxprotocol/v4-client-js');
// The composer is not in the package's exports map: loaded by file.
const { Composer } = require(path.join(V4, 'clients', 'modules', 'composer.js'));
const Long = require('long');
const { TxRaw, TxBody, SignDoc } = require('cosmjs-types/cosmos/tx/v1beta1/tx');
// The client's compiled copy of its protobuf codegen (the v4-proto package ships TypeScript).
const { MsgPlaceOrder, MsgCancelOrder } = require(path.join(V4, '..', 'node_modules', '@dydxprotocol', 'v4-proto', 'src', 'codegen', 'dydxprotocol', 'clob', 'tx.js'));

const CHAINS = { mainnet: 'dydx-mainnet-1', testnet: 'dydx-testnet-4' };
const KEY1 = '0x1111111111111111111111111111111111111111111111111111111111111111';
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 2 ** 32 - 1;
const SAFE = 2 ** 53 - 1;

const composer = new Composer();
const wallets = new Map();
async function wallet(key) {
  if (!wallets.has(key)) wallets.set(key, await LocalWallet.fromPrivateKey(key, 'dydx'));
  return wallets.get(key);
}

function u64(rng) {
  return rng.weighted([[4, () => BigInt(rng.int(1, 10 ** 9))], [2, () => BigInt(rng.int(1, SAFE))],
    [1, () => U64_MAX], [2, () => 1n + BigInt('0x' + rng.hex(8)) % U64_MAX]])();
}
const u32 = (rng) => rng.weighted([[3, () => rng.int(1, 100000)], [2, () => rng.int(1, U32_MAX)], [1, () => U32_MAX]])();
const safeInt = (rng) => rng.weighted([[3, () => 0], [3, () => rng.int(1, 10 ** 6)], [2, () => rng.int(1600000000000, 1900000000000)], [1, () => SAFE]])();

function memo(rng) {
  const parts = ['', 'sigil', 'dYdX v4 ✓', 'héllo wörld', '注文', '"quoted" \\ back', 'emoji 🚀', 'tab\there', 'x'.repeat(rng.int(1, 200))];
  let s = rng.pick(parts);
  while (Buffer.byteLength(s) > 256) s = s.slice(0, -1);
  return s;
}

function fee(rng) {
  if (rng.chance(0.7)) return { amount: [], gas: 1000000 };
  const denoms = ['uusdc', 'adydx', 'ibc/8E27BA2D5493AF5636760E354E46004562C46AB7EC0CC4C1CA14E9E20E2545B5', 'uatom'];
  const n = rng.int(0, 2);
  const amount = Array.from({ length: n }, () => ({ denom: rng.pick(denoms), amount: String(rng.chance(0.2) ? BigInt('0x' + rng.hex(16)) : BigInt(rng.int(1, 10 ** 9))) }));
  return { amount, gas: rng.pick([1000000, 200000, rng.int(1, SAFE)]) };
}

async function randomAddress(rng, ctx) {
  const idx = rng.int(0, 7);
  const key = ctx.cached(`dydx-other-${idx}`, () => seededSecp256k1(ctx.seed, `dydx-other-${idx}`));
  return (await wallet(key)).address;
}

// One generated order: the sigil request member and the composer arguments.
async function makeOrder(rng, ctx, owner, kind) {
  const flags = rng.weighted([[5, 0], [3, 64], [2, 32]]);
  const id = { owner, subaccount_number: rng.pick([0, 0, 1, rng.int(0, 128000)]), client_id: rng.chance(0.1) ? 0 : u32(rng),
    clob_pair_id: rng.pick([0, 1, rng.int(0, 300), u32(rng)]), order_flags: flags };
  if (flags === 0) id.good_til_block = u32(rng);
  else id.good_til_block_time = u32(rng);
  if (kind === 'cancel_order') return id;
  const o = { ...id, side: rng.int(1, 2), quantums: u64(rng), subticks: u64(rng) };
  if (rng.chance(0.6)) o.time_in_force = rng.int(0, 3);
  if (rng.chance(0.5)) o.reduce_only = rng.chance(0.5);
  if (rng.chance(0.3)) o.client_metadata = rng.chance(0.3) ? 0 : u32(rng);
  if (flags === 32) {
    o.condition_type = rng.int(1, 2);
    o.conditional_order_trigger_subticks = u64(rng);
  }
  if (rng.chance(0.15)) {
    o.builder_code = { builder_address: await randomAddress(rng, ctx) };
    if (rng.chance(0.8)) o.builder_code.fee_ppm = rng.pick([0, 1, 100, 1000, u32(rng)]);
  }
  if (rng.chance(0.1)) o.order_router_address = await randomAddress(rng, ctx);
  return o;
}

const L = (v) => Long.fromString(String(v ?? 0), true);

function compose(kind, o) {
  const gtb = o.good_til_block ?? 0, gtbt = o.good_til_block_time ?? 0;
  if (kind === 'cancel_order') {
    return composer.composeMsgCancelOrder(o.owner, o.subaccount_number, o.client_id, o.clob_pair_id, o.order_flags, gtb, gtbt);
  }
  const builder = o.builder_code ? { builderAddress: o.builder_code.builder_address, feePpm: o.builder_code.fee_ppm ?? 0 } : undefined;
  return composer.composeMsgPlaceOrder(o.owner, o.subaccount_number, o.client_id, o.clob_pair_id, o.order_flags, gtb, gtbt,
    o.side, L(o.quantums), L(o.subticks), o.time_in_force ?? 0, o.reduce_only ?? false, o.client_metadata ?? 0,
    o.condition_type ?? 0, L(o.conditional_order_trigger_subticks), undefined, builder, o.order_router_address ?? '');
}

// cosmjs-types decode + SignDoc + @noble/curves, and the message fields.
function crossCheck(txBytes, key, chainId, accountNumber, kind, o) {
  const raw = TxRaw.decode(txBytes);
  const doc = SignDoc.encode(SignDoc.fromPartial({ bodyBytes: raw.bodyBytes, authInfoBytes: raw.authInfoBytes, chainId,
    accountNumber: BigInt(accountNumber) })).finish();
  const sig = secp256k1.sign(doc, Buffer.from(key.slice(2), 'hex'), { prehash: true, lowS: true, format: 'compact' });
  agree('dydx noble signature over the rebuilt SignDoc', Buffer.from(sig).toString('hex'), Buffer.from(raw.signatures[0]).toString('hex'), { chainId });
  const body = TxBody.decode(raw.bodyBytes);
  const any = body.messages[0];
  const m = (kind === 'place_order' ? MsgPlaceOrder : MsgCancelOrder).decode(any.value);
  const oid = kind === 'place_order' ? m.order.orderId : m.orderId;
  agree('dydx decoded owner', oid.subaccountId.owner, o.owner, {});
  agree('dydx decoded client id', oid.clientId, o.client_id, {});
  if (kind === 'place_order') agree('dydx decoded quantums', m.order.quantums.toString(), String(o.quantums), {});
}

export async function makeCase(rng, i, ctx) {
  let key, pub, desc;
  const kr = rng.float();
  if (kr < 0.2) [key, pub, desc] = [FIXED_SECP256K1[0], true, 'venues.md §0 test key 0x0123…0123'];
  else if (kr < 0.3) [key, pub, desc] = [KEY1, true, 'venues.md §7 permissioned key 0x1111…1111'];
  else {
    const idx = rng.int(0, 5);
    [key, pub, desc] = [ctx.cached(`dydx-${idx}`, () => seededSecp256k1(ctx.seed, `dydx-${idx}`)), false, `seeded secp256k1 dydx-${idx}`];
  }
  const w = await wallet(key);
  const network = rng.pick(['mainnet', 'testnet']);
  const chainId = CHAINS[network];
  const permissioned = rng.chance(0.25);
  const owner = permissioned ? await randomAddress(rng, ctx) : w.address;
  const authenticators = permissioned ? Array.from({ length: rng.int(1, 3) }, () => rng.chance(0.8) ? rng.int(0, 1000) : rng.int(0, SAFE)) : [];
  const kind = rng.chance(0.8) ? 'place_order' : 'cancel_order';
  const o = await makeOrder(rng, ctx, owner, kind);
  const accountNumber = safeInt(rng), sequence = safeInt(rng);
  const f = fee(rng);
  const m = memo(rng);
  const request = { chain_id: chainId, account_number: accountNumber, sequence };
  if (authenticators.length || rng.chance(0.2)) request.authenticators = authenticators;
  if (m !== '' || rng.chance(0.2)) request.memo = m;
  if (f.amount.length || f.gas !== 1000000 || rng.chance(0.3)) request.fee = f;
  if (rng.chance(0.3)) request.timestamp = rng.int(1600000000000, 1900000000000);
  request[kind] = o;
  const base = { venue: 'dydx', network, credFile: { private_key: key }, credsPublic: pub, credsDesc: desc };

  if (rng.chance(NEG_RATE)) {
    const bad = (mut) => { const r = structuredClone(request); mut(r); return r; };
    const other = network === 'mainnet' ? CHAINS.testnet : CHAINS.mainnet;
    return rng.pick([
      () => refusal({ ...base, request: bad((r) => { r.chain_id = other; }) }, 'bad_field', 'chain_id of the other network'),
      () => refusal({ ...base, request: bad((r) => { r[kind].order_flags = 128; }) }, 'bad_field', 'TWAP order flags are not supported'),
      () => refusal({ ...base, request: bad((r) => { r[kind].surprise = 1; }) }, 'unknown_field', 'unknown order member'),
      () => refusal({ ...base, request: bad((r) => { r[kind].client_id = 2 ** 32; }) }, 'out_of_range', 'client_id beyond uint32'),
      () => refusal({ ...base, request: bad((r) => { delete r.authenticators; r[kind].owner = 'dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6q'; }) }, 'bad_address', 'owner with a bad bech32 checksum'),
      () => refusal({ ...base, request: bad((r) => { r.memo = 'm'.repeat(257); }) }, 'out_of_range', 'memo over 256 bytes'),
    ])();
  }

  const msg = compose(kind, o);
  const tx = await w.signTransaction([msg], { sequence, accountNumber, chainId, authenticators: authenticators.map((a) => Long.fromNumber(a, true)) },
    { amount: f.amount, gas: String(f.gas) }, m);
  const txBytes = Buffer.from(tx);
  crossCheck(txBytes, key, chainId, accountNumber, kind, o);
  const signature = Buffer.from(TxRaw.decode(txBytes).signatures[0]).toString('base64');
  const info = `${kind} flags ${o.order_flags}${permissioned ? ` permissioned (${authenticators.length} auth)` : ''}${request.fee ? ' fee' : ''}${m ? ' memo' : ''} ${chainId}`;
  return {
    ...base, request, info, compare: 'fields',
    expect: { tx_bytes: txBytes.toString('base64'), txhash: createHash('sha256').update(txBytes).digest('hex').toUpperCase(), signature },
  };
}
