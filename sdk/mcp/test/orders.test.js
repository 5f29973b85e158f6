// place_order / cancel_order for binance spot and USD-M, bybit, okx and
// hyperliquid: the venue request built, signed with the sealed secret
// (checked here independently), the receipt verified with the SDK, and no
// venue ever called unless send is true (then only a local capture server).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalize, SigilClient, verifyReceipt } from '@sigil/sdk';
import { ArgumentError, buildRequest } from '../src/orders.js';
import { assertNoSecret, connect, fixture, hmac, K, sha256hex, stackEnv, verifyOpts } from './harness.js';

const sdk = new SigilClient({ url: fixture.gateway, token: fixture.token });
const outputs = [];
let mcp;

async function call(name, args) {
  const res = await mcp.call(name, args);
  outputs.push(JSON.stringify(res));
  return res;
}

async function signedOk(name, args) {
  const res = await call(name, args);
  assert.ok(!res.isError, res.content[0].text);
  const out = res.structuredContent;
  assert.equal(out.sent, false);
  assert.equal(out.venue_response, undefined);
  assert.equal(out.receipt.decision, 'allow');
  assert.equal(out.receipt.key_id, args.key_id);
  assert.equal(out.receipt.request_hash, sha256hex(canonicalize(out.request)));
  assert.equal((await verifyReceipt(out.receipt, verifyOpts(sdk))).seq, out.receipt.seq);
  assert.equal(out.receipt_check.verified, true);
  return out;
}

/** The seq of the tenant's last audit record. */
async function auditTail() {
  let since = 0;
  for (;;) {
    const page = await sdk.audit({ since, limit: 1000 });
    if (page.next === null) return page.records.length ? page.records.at(-1).seq : since;
    since = page.next;
  }
}

before(async () => {
  mcp = await connect();
});
after(async () => {
  assert.deepEqual(mcp.fetched(), [], 'no venue was called');
  assertNoSecret(assert, outputs.join('\n'), 'tool output');
  assertNoSecret(assert, mcp.stderr(), 'server stderr');
  await mcp.close();
});

test('binance spot: limit order and cancel, form body and query signed with the sealed secret', async () => {
  const cred = K.binance.credentials;
  const o = await signedOk('place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
    quantity: '0.01', price: '30000', client_order_id: 'mcp-1' });
  assert.equal(o.venue, 'binance');
  assert.equal(o.market, 'spot');
  assert.equal(o.action, 'order');
  const ts = o.request.timestamp;
  assert.deepEqual(o.request, { method: 'POST', path: '/api/v3/order', timestamp: ts,
    body: `symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=30000&timeInForce=GTC&newClientOrderId=mcp-1&timestamp=${ts}` });
  assert.equal(o.signed.body, `${o.request.body}&signature=${hmac(cred.secret, o.request.body)}`);
  assert.equal(o.signed.headers['X-MBX-APIKEY'], cred.api_key);

  const c = await signedOk('cancel_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', order_id: '12345' });
  assert.equal(c.action, 'cancel');
  assert.equal(c.request.method, 'DELETE');
  assert.equal(c.request.query, `symbol=BTCUSDT&orderId=12345&timestamp=${c.request.timestamp}`);
  assert.equal(c.signed.query, `${c.request.query}&signature=${hmac(cred.secret, c.request.query)}`);

  const maker = await signedOk('place_order', { key_id: K.binance.key_id, symbol: 'ETHUSDT', side: 'sell', type: 'limit',
    quantity: '1', price: '4000.5', time_in_force: 'POST_ONLY' });
  assert.match(maker.request.body, /^symbol=ETHUSDT&side=SELL&type=LIMIT_MAKER&quantity=1&price=4000\.5&timestamp=\d+$/);
});

test('binance USD-M: reduce-only market order and cancel by client id on /fapi/v1', async () => {
  const cred = K.binanceusdm.credentials;
  const o = await signedOk('place_order', { key_id: K.binanceusdm.key_id, market: 'usdm', symbol: 'BTCUSDT',
    side: 'sell', type: 'market', quantity: '0.5', reduce_only: true });
  assert.equal(o.request.path, '/fapi/v1/order');
  assert.equal(o.request.body, `symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.5&reduceOnly=true&timestamp=${o.request.timestamp}`);
  assert.equal(o.signed.body, `${o.request.body}&signature=${hmac(cred.secret, o.request.body)}`);
  const c = await signedOk('cancel_order', { key_id: K.binanceusdm.key_id, market: 'usdm', symbol: 'BTCUSDT', client_order_id: 'abc' });
  assert.equal(c.request.path, '/fapi/v1/order');
  assert.equal(c.request.query, `symbol=BTCUSDT&origClientOrderId=abc&timestamp=${c.request.timestamp}`);
});

test('bybit: linear limit order and cancel, V5 JSON bodies and X-BAPI-SIGN', async () => {
  const cred = K.bybit.credentials;
  const o = await signedOk('place_order', { key_id: K.bybit.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
    quantity: '0.01', price: '30000', time_in_force: 'IOC' });
  assert.equal(o.market, 'linear');
  assert.equal(o.request.path, '/v5/order/create');
  assert.deepEqual(JSON.parse(o.request.body), { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit',
    qty: '0.01', price: '30000', timeInForce: 'IOC' });
  const h = o.signed.headers;
  assert.equal(h['X-BAPI-API-KEY'], cred.api_key);
  assert.equal(h['X-BAPI-TIMESTAMP'], String(o.request.timestamp));
  assert.equal(h['X-BAPI-SIGN'], hmac(cred.secret, `${o.request.timestamp}${cred.api_key}5000${o.request.body}`));
  const spot = await signedOk('place_order', { key_id: K.bybit.key_id, market: 'spot', symbol: 'ETHUSDT', side: 'buy',
    type: 'market', quantity: '0.2' });
  assert.deepEqual(JSON.parse(spot.request.body), { category: 'spot', symbol: 'ETHUSDT', side: 'Buy', orderType: 'Market',
    qty: '0.2', marketUnit: 'baseCoin' });
  const c = await signedOk('cancel_order', { key_id: K.bybit.key_id, symbol: 'BTCUSDT', order_id: 'f00d' });
  assert.equal(c.action, 'cancel');
  assert.deepEqual(JSON.parse(c.request.body), { category: 'linear', symbol: 'BTCUSDT', orderId: 'f00d' });
  assert.equal(c.signed.headers['X-BAPI-SIGN'], hmac(cred.secret, `${c.request.timestamp}${cred.api_key}5000${c.request.body}`));
});

test('okx: swap order and cancel, OK-ACCESS-SIGN; the passphrase never leaves the server', async () => {
  const cred = K.okx.credentials;
  const o = await signedOk('place_order', { key_id: K.okx.key_id, symbol: 'BTC-USDT-SWAP', side: 'sell', type: 'limit',
    quantity: '2', price: '31000.1', reduce_only: true, client_order_id: 'mcp2' });
  assert.deepEqual(JSON.parse(o.request.body), { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'sell', ordType: 'limit',
    sz: '2', px: '31000.1', reduceOnly: true, clOrdId: 'mcp2' });
  const iso = new Date(o.request.timestamp).toISOString();
  const h = o.signed.headers;
  assert.equal(h['OK-ACCESS-TIMESTAMP'], iso);
  assert.equal(h['OK-ACCESS-SIGN'], hmac(cred.secret, `${iso}POST/api/v5/trade/order${o.request.body}`, 'base64'));
  assert.match(h['OK-ACCESS-PASSPHRASE'], /^\[redacted/);
  const spot = await signedOk('place_order', { key_id: K.okx.key_id, symbol: 'ETH-USDT', side: 'buy', type: 'market', quantity: '0.1' });
  assert.deepEqual(JSON.parse(spot.request.body), { instId: 'ETH-USDT', tdMode: 'cash', side: 'buy', ordType: 'market',
    sz: '0.1', tgtCcy: 'base_ccy' });
  const c = await signedOk('cancel_order', { key_id: K.okx.key_id, symbol: 'BTC-USDT-SWAP', order_id: '590908157585625111' });
  assert.deepEqual(JSON.parse(c.request.body), { instId: 'BTC-USDT-SWAP', ordId: '590908157585625111' });
  assert.equal(c.action, 'cancel');
});

/** Runs fn(offline) where offline(request) is `sigil sign` of the fixture key `name`'s credentials. */
async function withOfflineSigner(name, fn) {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-mcp-offline-'));
  const credFile = join(dir, 'cred.json');
  writeFileSync(credFile, JSON.stringify(K[name].credentials), { mode: 0o600 });
  const offline = (request) => JSON.parse(execFileSync(fixture.sigil, ['sign', '--venue', K[name].venue, '--credentials', credFile],
    { input: JSON.stringify(request), encoding: 'utf8' }));
  try {
    await fn(offline);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('hyperliquid: order (SDK member order, wire decimals), vault order, cancel — the same signature as sigil sign offline', () =>
  withOfflineSigner('hyperliquid', async (offline) => {
    const o = await signedOk('place_order', { key_id: K.hyperliquid.key_id, symbol: '0', side: 'buy', type: 'limit',
      quantity: '0.0100', price: '30000.0', time_in_force: 'POST_ONLY' });
    assert.equal(JSON.stringify(o.request.action),
      '{"type":"order","orders":[{"a":0,"b":true,"p":"30000","s":"0.01","r":false,"t":{"limit":{"tif":"Alo"}}}],"grouping":"na"}');
    assert.ok(Math.abs(o.request.nonce - Date.now()) < 600000);
    assert.deepEqual(o.signed, offline(o.request));
    assert.match(o.signed.signature.r, /^0x[0-9a-f]+$/);

    const vault = '0x' + '1f'.repeat(20);
    const v = await signedOk('place_order', { key_id: K.hyperliquid.key_id, symbol: '1', side: 'sell', type: 'market',
      quantity: '2', price: '1500', reduce_only: true, vault_address: vault });
    assert.equal(JSON.stringify(v.request.action.orders[0]), '{"a":1,"b":false,"p":"1500","s":"2","r":true,"t":{"limit":{"tif":"Ioc"}}}');
    assert.equal(v.signed.vaultAddress, vault);
    assert.deepEqual(v.signed, offline(v.request));

    const c = await signedOk('cancel_order', { key_id: K.hyperliquid.key_id, symbol: '0', order_id: '77' });
    assert.deepEqual(c.request.action, { type: 'cancel', cancels: [{ a: 0, o: 77 }] });
    assert.equal(c.action, 'cancel');
    assert.deepEqual(c.signed, offline(c.request));
    const cloid = '0x' + 'ab'.repeat(16);
    const cc = await signedOk('cancel_order', { key_id: K.hyperliquid.key_id, symbol: '0', client_order_id: cloid });
    assert.deepEqual(cc.request.action, { type: 'cancelByCloid', cancels: [{ asset: 0, cloid }] });
  }));

test('kucoinfutures: order in lots and cancel by path, KC-API-SIGN; the passphrase header redacted', async () => {
  const cred = K.kucoinfutures.credentials;
  const o = await signedOk('place_order', { key_id: K.kucoinfutures.key_id, symbol: 'XBTUSDTM', side: 'buy', type: 'limit',
    quantity: '3', price: '30000', leverage: 5, time_in_force: 'POST_ONLY', client_order_id: 'kc-1' });
  assert.equal(o.request.path, '/api/v1/orders');
  assert.equal(o.request.body, JSON.stringify({ clientOid: 'kc-1', side: 'buy', symbol: 'XBTUSDTM', type: 'limit', leverage: 5,
    size: 3, price: '30000', timeInForce: 'GTC', postOnly: true }));
  const h = o.signed.headers;
  assert.equal(h['KC-API-KEY'], cred.api_key);
  assert.equal(h['KC-API-SIGN'], hmac(cred.secret, `${o.request.timestamp}POST/api/v1/orders${o.request.body}`, 'base64'));
  assert.match(h['KC-API-PASSPHRASE'], /^\[redacted/);
  const m = await signedOk('place_order', { key_id: K.kucoinfutures.key_id, symbol: 'XBTUSDTM', side: 'sell', type: 'market',
    quantity: '1', reduce_only: true });
  const mb = JSON.parse(m.request.body);
  assert.match(mb.clientOid, /^[0-9a-f-]{36}$/);
  assert.deepEqual({ ...mb, clientOid: null }, { clientOid: null, side: 'sell', symbol: 'XBTUSDTM', type: 'market', leverage: 1,
    size: 1, reduceOnly: true });
  const c = await signedOk('cancel_order', { key_id: K.kucoinfutures.key_id, symbol: 'XBTUSDTM', order_id: '5bd6e9286d99522a52e458de' });
  assert.deepEqual(c.request, { method: 'DELETE', path: '/api/v1/orders/5bd6e9286d99522a52e458de', timestamp: c.request.timestamp });
  assert.equal(c.action, 'cancel');
  assert.equal(c.signed.headers['KC-API-SIGN'], hmac(cred.secret, `${c.request.timestamp}DELETE${c.request.path}`, 'base64'));
  const cc = await signedOk('cancel_order', { key_id: K.kucoinfutures.key_id, symbol: 'XBTUSDTM', client_order_id: 'kc-1' });
  assert.equal(cc.request.path, '/api/v1/orders/client-order/kc-1');
  assert.equal(cc.request.query, 'symbol=XBTUSDTM');
});

test('aster: V3 order and cancel (nonce in µs, signer appended by Sigil) — the same signature as sigil sign offline', () =>
  withOfflineSigner('aster', async (offline) => {
    const o = await signedOk('place_order', { key_id: K.aster.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
      quantity: '0.01', price: '30000' });
    assert.deepEqual(Object.keys(o.request), ['method', 'path', 'query', 'nonce']);
    assert.equal(o.request.query, 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=30000&timeInForce=GTC');
    assert.ok(Math.abs(o.request.nonce / 1000 - Date.now()) < 600000);
    assert.equal(o.signed.query.split('&signature=')[0],
      `${o.request.query}&nonce=${o.request.nonce}&signer=${K.aster.address}`);
    assert.deepEqual(o.signed, offline(o.request));
    const c = await signedOk('cancel_order', { key_id: K.aster.key_id, symbol: 'BTCUSDT', order_id: '99' });
    assert.equal(c.request.method, 'DELETE');
    assert.equal(c.request.query, 'symbol=BTCUSDT&orderId=99');
    assert.ok(c.request.nonce > o.request.nonce);
    assert.deepEqual(c.signed, offline(c.request));
  }));

test('buildRequest: a venue without order builders points to sign_request', () => {
  assert.throws(() => buildRequest('order', 'kraken', { symbol: 'XBTUSD', side: 'buy', type: 'market', quantity: '1' }),
    (e) => e instanceof ArgumentError && /support binance, bybit, okx, hyperliquid, kucoinfutures, aster \(use sign_request/.test(e.message));
});

test('argument mistakes are readable bad_arguments errors, nothing signed', async () => {
  const since = await auditTail();
  const base = { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1' };
  const cases = [
    [base, /price: required/],
    [{ ...base, type: 'market', price: '1' }, /market order takes no price/],
    [{ ...base, price: '1', reduce_only: true }, /spot has no reduce-only/],
    [{ ...base, price: '1', market: 'linear' }, /binance has spot, usdm/],
    [{ ...base, price: '1', margin_mode: 'cross' }, /margin_mode: not an argument for binance/],
    [{ ...base, key_id: K.okx.key_id, symbol: 'BTC-USDT-SWAP', price: '1', market: 'spot' }, /okx takes no market/],
    [{ ...base, key_id: K.hyperliquid.key_id, symbol: 'BTC', price: '1' }, /asset index/],
    [{ ...base, key_id: K.hyperliquid.key_id, symbol: '0', type: 'market' }, /hyperliquid orders always carry a limit price/],
    [{ ...base, key_id: K.hyperliquid.key_id, symbol: '0', price: '1', time_in_force: 'FOK' }, /FOK is not available on hyperliquid/],
    [{ ...base, key_id: K.kucoinfutures.key_id, symbol: 'XBTUSDTM', quantity: '0.5', price: '1' }, /whole lots/],
    [{ ...base, type: 'market', time_in_force: 'IOC' }, /time_in_force: only for limit orders/],
    [{ ...base, price: '1', leverage: 3 }, /leverage: not an argument for binance/],
  ];
  for (const [args, msg] of cases) {
    const res = await call('place_order', args);
    assert.equal(res.isError, true, JSON.stringify(args));
    assert.equal(res.structuredContent.error.code, 'bad_arguments', res.content[0].text);
    assert.match(res.structuredContent.error.message, msg);
  }
  const both = await call('cancel_order', { key_id: K.bybit.key_id, symbol: 'BTCUSDT', order_id: '1', client_order_id: 'x' });
  assert.match(both.structuredContent.error.message, /exactly one of order_id and client_order_id/);
  const none = await call('cancel_order', { key_id: K.bybit.key_id, symbol: 'BTCUSDT' });
  assert.equal(none.structuredContent.error.code, 'bad_arguments');
  const unknown = await call('place_order', { ...base, key_id: 'f'.repeat(32), price: '1' });
  assert.equal(unknown.structuredContent.error.code, 'not_found');
  assert.deepEqual((await sdk.audit({ since })).records, [], 'no signing request reached the gateway');
});

test('send: true delivers exactly the signed request (to a local capture server standing in for the venue)', async () => {
  const seen = [];
  const venue = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.setHeader('Content-Type', 'application/json');
      res.end('{"orderId":4242,"status":"NEW"}');
    });
  });
  await new Promise((resolve) => venue.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${venue.address().port}`;
  const s = await connect({ env: stackEnv({ SIGIL_VENUE_URLS: JSON.stringify({ 'binance/spot': url, hyperliquid: url }) }), allow: [url] });
  try {
    const res = await s.call('place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
      quantity: '0.01', price: '30000', send: true });
    assert.ok(!res.isError, res.content[0].text);
    const out = res.structuredContent;
    assert.equal(out.sent, true);
    assert.deepEqual(out.venue_response, { url: `${url}/api/v3/order`, status: 200, body: { orderId: 4242, status: 'NEW' } });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/api/v3/order');
    assert.equal(seen[0].body, out.signed.body);
    assert.equal(seen[0].headers['x-mbx-apikey'], K.binance.credentials.api_key);
    assert.equal(seen[0].headers['content-type'], 'application/x-www-form-urlencoded');

    const hl = await s.call('cancel_order', { key_id: K.hyperliquid.key_id, symbol: '0', order_id: '5', send: true });
    assert.ok(!hl.isError, hl.content[0].text);
    assert.equal(seen.length, 2);
    assert.equal(seen[1].url, '/exchange');
    assert.deepEqual(JSON.parse(seen[1].body), hl.structuredContent.signed);
    // the signed text verbatim: the receipt's output_hash covers the bytes the venue got
    assert.equal(sha256hex(seen[1].body), hl.structuredContent.receipt.output_hash);
    assert.deepEqual(s.fetched(), []);
  } finally {
    await s.close();
    venue.close();
  }
});

test('the guard works: send: true to a real venue is refused by the test guard, reported with the receipt', async () => {
  const s = await connect();
  try {
    const res = await s.call('place_order', { key_id: K.bybit.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
      quantity: '0.01', price: '30000', send: true });
    assert.equal(res.isError, true);
    assert.equal(res.structuredContent.error.code, 'venue_unreachable');
    assert.match(res.structuredContent.error.message, /api\.bybit\.com.*signed/);
    assert.equal(res.structuredContent.receipt.decision, 'allow');
    assert.deepEqual(s.fetched(), ['POST https://api.bybit.com/v5/order/create']);
  } finally {
    await s.close();
  }
});
