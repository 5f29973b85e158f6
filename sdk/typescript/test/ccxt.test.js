// The ccxt drop-in: a wrapped instance with no secret sends exactly what ccxt
// holding the secret sends (URL, method, headers, body), clock and ids frozen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import ccxt from 'ccxt';
import { canonicalize, sigilWrap } from '@sigil/sdk';
import { client, fixture } from './fixture.js';

const NOW = Date.now(); // within the policy's skew window; the same for both instances

class Captured extends Error {
  constructor(req) {
    super('captured');
    this.req = req;
  }
}

function freeze(ex) {
  ex.milliseconds = () => NOW;
  ex.uuid = () => 'a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d';
  ex.uuid22 = () => 'sigilfixeduuid22abcdef';
  ex.uuid16 = () => 'sigilfixeduuid16';
  return ex;
}

function credentials(ex, key) {
  const c = key.credentials;
  if (c.private_key) {
    ex.privateKey = c.private_key;
    ex.walletAddress = key.address;
  } else {
    ex.apiKey = c.api_key;
    ex.secret = c.secret;
    if (c.passphrase) ex.password = c.passphrase;
  }
}

const HL_MARKET = {
  id: '0', symbol: 'BTC/USDC:USDC', base: 'BTC', quote: 'USDC', settle: 'USDC', baseId: '0',
  quoteId: 'USDC', settleId: 'USDC', type: 'swap', spot: false, margin: false, swap: true,
  future: false, option: false, active: true, contract: true, linear: true, inverse: false,
  contractSize: 1, precision: { amount: 0.00001, price: 0.1 },
  limits: { amount: {}, price: {}, cost: {}, leverage: {} }, info: { szDecimals: 5, maxLeverage: 40 },
};

// venue name in the fixture → calls made on each instance (ccxt's own methods)
const CASES = {
  binance: [(e) => e.privateGetAccount({}),
    (e) => e.privatePostOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.01',
      price: '30000', timeInForce: 'GTC' }),
    (e) => e.privateDeleteOrder({ symbol: 'BTCUSDT', orderId: 12345 })],
  binanceusdm: [(e) => e.fapiPrivateV2GetAccount({}),
    (e) => e.fapiPrivatePostOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', quantity: '0.002',
      price: '90000', timeInForce: 'GTC' })],
  bybit: [(e) => e.privateGetV5AccountWalletBalance({ accountType: 'UNIFIED' }),
    (e) => e.privatePostV5OrderCreate({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy',
      orderType: 'Limit', qty: '0.01', price: '30000' })],
  okx: [(e) => e.privateGetAccountBalance({ ccy: 'BTC' }),
    (e) => e.privatePostTradeOrder({ instId: 'BTC-USDT', tdMode: 'cash', side: 'buy',
      ordType: 'limit', sz: '0.01', px: '30000' })],
  kucoinfutures: [(e) => e.futuresPrivateGetAccountOverview({ currency: 'USDT' }),
    (e) => e.futuresPrivatePostOrders({ clientOid: 'sigil-1', symbol: 'XBTUSDTM', side: 'buy',
      type: 'limit', size: 1, price: '30000', leverage: '5' })],
  hyperliquid: [(e) => e.createOrder('BTC/USDC:USDC', 'limit', 'buy', 0.001, 30000),
    (e) => e.cancelAllOrdersAfter(60000),
    (e) => e.createOrder('BTC/USDC:USDC', 'limit', 'sell', 0.002, 95000,
      { vaultAddress: `0x${'1f'.repeat(20)}`, expiresAfter: NOW + 60000 }),
    (e) => e.withdraw('USDC', 10, `0x${'2e'.repeat(20)}`)], // user-signed (withdraw3)
  aster: [(e) => e.fapiPrivateGetV3Account({}),
    (e) => e.fapiPrivatePostV3Order({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.01',
      price: '30000', timeInForce: 'GTC' }),
    (e) => e.fapiPrivateDeleteV3Order({ symbol: 'BTCUSDT', orderId: 12345 })],
};

/** Every request the call sends (each send fails with Captured; ccxt may swallow some). */
// requests that must have been reached (not cut short by a missing market or currency)
const REACHED = {
  hyperliquid: ['"type":"order"', '"type":"scheduleCancel"', '"vaultAddress"', '"type":"withdraw3"', '"type":"approveBuilderFee"'],
};

async function capture(ex, call) {
  ex.captured = [];
  try {
    await call(ex);
  } catch (e) {
    if (!(e instanceof Captured)) throw e;
  }
  if (ex.captured.length === 0) throw new Error('no request was sent');
  return ex.captured;
}

// independent of the wrapper's own detection: a signature parameter, member or header
const carriesSignature = (r) => /signature/.test(`${r.url}${r.body ?? ''}`) ||
  Object.keys(r.headers).some((h) => /-SIGN$/i.test(h));

const byText = (reqs) => reqs.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

// Hyperliquid: the wrapper posts Sigil's `signed` text (tested byte for byte
// below); ccxt's own body has the same members in its order and the vault
// address without 0x. Compared here as members, vault address with 0x.
function comparable(name, r) {
  if (name !== 'hyperliquid' || !r.url.endsWith('/exchange')) return r;
  const b = JSON.parse(r.body);
  if (typeof b.vaultAddress === 'string') b.vaultAddress = `0x${b.vaultAddress.replace(/^0x/, '')}`.toLowerCase();
  return { ...r, body: canonicalize(b) };
}

function instance(key) {
  const ex = freeze(new ccxt[key.ccxt]({ enableRateLimit: false }));
  if (key.ccxt === 'hyperliquid') ex.setMarkets([HL_MARKET]);
  ex.fetch = async (url, method, headers, body) => {
    const req = { url, method, headers: { ...(headers ?? {}) }, body };
    ex.captured.push(req);
    throw new Captured(req);
  };
  return ex;
}

for (const [name, calls] of Object.entries(CASES)) {
  test(`ccxt drop-in ${name}: same request as ccxt holding the secret`, async () => {
    const key = fixture.keys[name];
    const c = client();
    const signedBy = [];
    let sent = 0;
    for (const [i, call] of calls.entries()) {
      const plain = instance(key);
      credentials(plain, key);
      const wrapped = instance(key);
      if (key.credentials.api_key) wrapped.apiKey = key.credentials.api_key; // public half only
      await sigilWrap(wrapped, c, { keyId: key.key_id, onSigned: (r) => signedBy.push(r) });
      const held = JSON.stringify([wrapped.secret, wrapped.privateKey, wrapped.password]);
      for (const k of ['secret', 'private_key', 'passphrase']) {
        if (key.credentials[k]) assert.equal(held.includes(key.credentials[k]), false, `wrapped holds ${k}`);
      }
      // ccxt sends some requests concurrently (hyperliquid: builder fee,
      // referrer and an /info query before the first order); a signed one
      // waits for Sigil, so compare the requests in a fixed order.
      const want = byText((await capture(plain, call)).map((r) => comparable(name, r)));
      const got = byText((await capture(wrapped, call)).map((r) => comparable(name, r)));
      assert.deepEqual(got, want, `${name} call ${i}`);
      got.forEach((g, j) => assert.deepEqual(Object.keys(g.headers), Object.keys(want[j].headers),
        `${name} call ${i}: header order`));
      sent += got.filter(carriesSignature).length;
    }
    assert.equal(signedBy.length, sent, 'every request was signed by Sigil');
    for (const marker of REACHED[name] ?? []) {
      assert.ok(signedBy.some((r) => JSON.stringify(r.signed).includes(marker)), `${name}: ${marker} was signed`);
    }
    signedBy.forEach((r) => assert.equal(r.receipt.decision, 'allow'));
  });
}

test('ccxt drop-in hyperliquid: the action is hashed in ccxt\'s key order, not sorted', async () => {
  const key = fixture.keys.hyperliquid;
  const wrapped = instance(key);
  let sent;
  await sigilWrap(wrapped, client(), { keyId: key.key_id, onSigned: (r) => { sent = r; } });
  const got = (await capture(wrapped, CASES.hyperliquid[0])).at(-1);
  const action = JSON.parse(got.body).action;
  assert.deepEqual(Object.keys(action), ['type', 'orders', 'grouping']);
  assert.deepEqual(Object.keys(action.orders[0]), ['a', 'b', 'p', 's', 'r', 't']);
  assert.equal(sent.signed.signature.r, JSON.parse(got.body).signature.r);
});

/**
 * A hyperliquid instance whose fetch answers like the venue (order: resting
 * with oid 77738308; other actions: ok; /info userAbstraction: "default")
 * and records what reached it.
 */
function mockedHyperliquid(key) {
  const ex = freeze(new ccxt.hyperliquid({ enableRateLimit: false }));
  ex.setMarkets([HL_MARKET]);
  ex.sent = [];
  ex.fetch = async (url, method, headers, body) => {
    ex.sent.push({ url, method, headers: { ...(headers ?? {}) }, body });
    if (url.endsWith('/info')) return 'default';
    const action = JSON.parse(body).action;
    if (action.type === 'order') {
      return { status: 'ok', response: { type: 'order', data: { statuses: [{ resting: { oid: 77738308 } }] } } };
    }
    return { status: 'ok', response: { type: 'default' } };
  };
  return ex;
}

for (const vault of [undefined, `0x${'1f'.repeat(20)}`]) {
  test(`ccxt drop-in hyperliquid: the body posted is Sigil's signed text byte for byte (${vault ? 'vault' : 'no vault'}), ccxt parses the answer`, async () => {
    const key = fixture.keys.hyperliquid;
    const ex = mockedHyperliquid(key);
    const signed = [];
    await sigilWrap(ex, client(), { keyId: key.key_id, onSigned: (r) => signed.push(r) });
    const order = await ex.createOrder('BTC/USDC:USDC', 'limit', 'buy', 0.001, 30000,
      vault ? { vaultAddress: vault } : {});
    assert.equal(order.id, '77738308');
    assert.deepEqual(order.info, { resting: { oid: 77738308 } });
    // scheduleCancel: ccxt's own body puts `nonce` before `action`
    assert.deepEqual(await ex.cancelAllOrdersAfter(60000), { status: 'ok', response: { type: 'default' } });
    const posts = ex.sent.filter((r) => r.url.endsWith('/exchange'));
    // ccxt approves its builder fee and sets its referrer before the order
    assert.deepEqual(posts.map((r) => JSON.parse(r.body).action.type).sort(),
      ['approveBuilderFee', 'order', 'scheduleCancel', 'setReferrer']);
    assert.equal(posts.length, signed.length, 'every /exchange POST was signed by Sigil');
    for (const post of posts) {
      const res = signed.find((r) => r.signedText === post.body);
      assert.ok(res, `the body is a signed text verbatim: ${post.body}`);
      assert.equal(createHash('sha256').update(post.body, 'utf8').digest('hex'), res.receipt.output_hash);
      assert.equal(res.receipt.decision, 'allow');
      assert.deepEqual(post.headers, { 'Content-Type': 'application/json' });
      assert.equal(post.method, 'POST');
    }
    const body = JSON.parse(posts.find((r) => JSON.parse(r.body).action.type === 'order').body);
    assert.equal(body.vaultAddress, vault); // with 0x, as Hyperliquid documents it; absent without a vault
    assert.deepEqual(body.action.orders[0], { a: 0, b: true, p: '30000', s: '0.001', r: false, t: { limit: { tif: 'Gtc' } } });
  });
}

test('ccxt drop-in aster: the signer is the sealed key\'s address', async () => {
  const key = fixture.keys.aster;
  const wrapped = instance(key);
  wrapped.options.signerAddress = '0x000000000000000000000000000000000000dEaD';
  await sigilWrap(wrapped, client(), { keyId: key.key_id });
  const [got] = await capture(wrapped, CASES.aster[1]);
  const params = new URLSearchParams(got.body);
  assert.equal(params.get('signer'), key.address.toLowerCase());
  assert.equal(params.get('user'), key.address.toLowerCase());
  assert.match(params.get('signature'), /^0x[0-9a-f]{130}$/);
});

test('ccxt drop-in: a key of another venue is refused', async () => {
  const ex = instance(fixture.keys.bybit);
  ex.apiKey = fixture.keys.bybit.credentials.api_key;
  await assert.rejects(sigilWrap(ex, client(), { keyId: fixture.keys.okx.key_id }), /is for okx/);
  await assert.rejects(sigilWrap(ex, client(), { keyId: 'f'.repeat(32) }), /not found/);
  await sigilWrap(ex, client(), { keyId: fixture.keys.bybit.key_id });
  await assert.rejects(sigilWrap(ex, client(), { keyId: fixture.keys.bybit.key_id }), /wrapped already/);
  const noKey = instance(fixture.keys.okx);
  await assert.rejects(sigilWrap(noKey, client(), { keyId: fixture.keys.okx.key_id }), /apiKey/);
});

test('ccxt drop-in: a policy denial reaches the caller with its receipt; nothing is sent', async () => {
  const key = fixture.keys.binance;
  const ex = instance(key);
  ex.apiKey = key.credentials.api_key;
  await sigilWrap(ex, client(), { keyId: key.key_id });
  ex.captured = [];
  await assert.rejects(ex.sapiPostCapitalWithdrawApply({ coin: 'BTC', address: 'bc1qsigiltest', amount: '1' }),
    (e) => e.code === 'policy_denied' && e.receipt?.decision === 'deny');
  assert.equal(ex.captured.length, 0);
});
