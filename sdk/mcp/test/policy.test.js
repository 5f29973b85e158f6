// Policy denials through place_order: a key provisioned here (SDK provision,
// like `sigil seal`) with a restrictive policy, then loosened by a signed
// policy update; and keys that bind a client key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, provision, SigilClient, signPolicy, verifyReceipt } from '@sigil/sdk';
import { assertNoSecret, connect, fixture, K, sha256hex, stackEnv, verifyOpts } from './harness.js';

const sdk = new SigilClient({ url: fixture.gateway, token: fixture.token });
const credentials = { api_key: 'mcp-policy-key', secret: 'mcp-policy-secret-0123456789' };
const policy = { version: 1, tenant: fixture.tenant, venue: 'binance', network: 'mainnet', actions: ['order', 'cancel'],
  not_after: fixture.not_after, symbols: { BTCUSDT: { max_qty: '0.01', sides: ['buy'] } } };
let keyId;
let mcp;

before(async () => {
  const res = await provision(sdk, { venue: 'binance', network: 'mainnet', credentials, policy, ownerKey: fixture.owner_seed,
    clientPubkey: null, root: fixture.root_pem, measurement: fixture.measurement });
  keyId = res.key_id;
  mcp = await connect();
});
after(async () => {
  assert.deepEqual(mcp.fetched(), []);
  assert.ok(!mcp.stderr().includes(credentials.secret));
  assertNoSecret(assert, mcp.stderr(), 'server stderr');
  await mcp.close();
});

const order = (extra = {}) => ({ key_id: keyId, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.01', price: '30000', ...extra });

test('within the policy: signed and allowed', async () => {
  const res = await mcp.call('place_order', order());
  assert.ok(!res.isError, res.content[0].text);
  assert.equal(res.structuredContent.receipt.policy_hash, sha256hex(canonicalize(policy)));
});

test('policy denials: readable reason, the request, and a deny receipt that verifies', async () => {
  const cases = [
    [order({ quantity: '1' }), 'policy: BTCUSDT quantity 1 over max_qty 0.01'],
    [order({ side: 'sell' }), /^policy: .*side/],
    [order({ symbol: 'ETHUSDT' }), 'policy: symbol ETHUSDT not allowed'],
  ];
  for (const [args, reason] of cases) {
    const res = await mcp.call('place_order', args);
    assert.equal(res.isError, true, JSON.stringify(args));
    const { error, request, receipt } = res.structuredContent;
    assert.equal(error.code, 'policy_denied');
    assert.equal(error.status, 422);
    if (typeof reason === 'string') assert.equal(error.message, reason);
    else assert.match(error.message, reason);
    assert.equal(receipt.decision, 'deny');
    assert.equal(receipt.reason, `policy_denied: ${error.message}`);
    assert.equal(receipt.key_id, keyId);
    assert.equal(receipt.action, 'order');
    assert.equal(receipt.request_hash, sha256hex(canonicalize(request)));
    assert.equal(receipt.output_hash, undefined);
    assert.ok(request.body.includes(`symbol=${args.symbol}&side=${args.side.toUpperCase()}`));
    // readable: the first line says what and why, the receipt follows
    const [first] = res.content[0].text.split('\n');
    assert.equal(first, `policy_denied (HTTP 422): ${error.message}`);
    assert.match(res.content[0].text, /"decision": "deny"/);
    await verifyReceipt(receipt, verifyOpts(sdk));
    const viaTool = await mcp.call('verify_receipt', { receipt });
    assert.equal(viaTool.structuredContent.decision, 'deny');
  }
  // a withdrawal is not an order: sign_request gets the policy's action denial
  const ts = Date.now();
  const w = await mcp.call('sign_request', { key_id: keyId, request: { method: 'POST', path: '/sapi/v1/capital/withdraw/apply',
    body: `coin=BTC&address=bc1q&amount=1&timestamp=${ts}`, timestamp: ts } });
  assert.equal(w.structuredContent.error.message, 'policy: action withdraw not allowed');
});

test('a signed policy update (version 2) lifts the cap: the same order is then allowed', async () => {
  const loose = { ...policy, version: 2, symbols: { BTCUSDT: { max_qty: '5', sides: ['buy', 'sell'] } } };
  await sdk.updatePolicy(keyId, canonicalize(loose), signPolicy(loose, fixture.owner_seed, keyId, fixture.tenant));
  const res = await mcp.call('place_order', order({ quantity: '1', side: 'sell' }));
  assert.ok(!res.isError, res.content[0].text);
  assert.equal(res.structuredContent.receipt.policy_hash, sha256hex(canonicalize(loose)));
});

test('client-signed keys: with SIGIL_CLIENT_KEY_FILE both kinds of key sign; without it, bad_signature with a receipt', async () => {
  const ts = () => Date.now();
  const req = () => { const t = ts(); return { method: 'GET', path: '/api/v3/account', query: `timestamp=${t}`, timestamp: t }; };
  const withKey = await connect({ env: stackEnv({ SIGIL_CLIENT_KEY_FILE: fixture.client_key_file }) });
  try {
    for (const k of [K.binance_client, K.binance, K.binance_client, K.binance]) {
      const res = await withKey.call('sign_request', { key_id: k.key_id, request: req() });
      assert.ok(!res.isError, res.content[0].text);
      assert.equal(res.structuredContent.receipt.decision, 'allow');
    }
    const o = await withKey.call('place_order', { key_id: K.binance_client.key_id, symbol: 'BTCUSDT', side: 'buy',
      type: 'limit', quantity: '0.01', price: '30000' });
    assert.ok(!o.isError, o.content[0].text);
    assertNoSecret(assert, withKey.stderr(), 'server stderr');
  } finally {
    await withKey.close();
  }
  const res = await mcp.call('sign_request', { key_id: K.binance_client.key_id, request: req() });
  assert.equal(res.isError, true);
  assert.equal(res.structuredContent.error.code, 'bad_signature');
  assert.equal(res.structuredContent.receipt.decision, 'deny');
  await verifyReceipt(res.structuredContent.receipt, verifyOpts(sdk));
});
