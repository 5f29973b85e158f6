// list_keys, sign_request, get_attestation, verify_receipt and input
// validation, through the MCP SDK's client over stdio against the live stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, receiptHash, SigilClient, verifyReceipt } from '@sigil/sdk';
import { assertNoSecret, connect, fixture, hmac, K, sha256hex, stackEnv, verifyOpts } from './harness.js';

let mcp;
const sdk = new SigilClient({ url: fixture.gateway, token: fixture.token });
const account = (ts = Date.now()) => ({ method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts });

before(async () => {
  mcp = await connect();
});
after(async () => {
  assertNoSecret(assert, mcp.stderr(), 'server stderr');
  assert.deepEqual(mcp.fetched(), []);
  await mcp.close();
});

test('tools/list: six tools, each with a description and a strict JSON schema', async () => {
  const { tools } = await mcp.client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(),
    ['cancel_order', 'get_attestation', 'list_keys', 'place_order', 'sign_request', 'verify_receipt']);
  for (const t of tools) {
    assert.ok(t.description.length > 80, t.name);
    assert.equal(t.inputSchema.type, 'object');
    assert.equal(t.inputSchema.additionalProperties, false, t.name);
  }
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  assert.equal(byName.list_keys.annotations.readOnlyHint, true);
  assert.equal(byName.place_order.annotations.destructiveHint, true);
  const place = byName.place_order.inputSchema;
  assert.deepEqual([...place.required].sort(), ['key_id', 'quantity', 'side', 'symbol', 'type']);
  assert.deepEqual(place.properties.side.enum, ['buy', 'sell']);
});

test('list_keys: the fixture\'s keys with their venues, nothing secret', async () => {
  const res = await mcp.call('list_keys');
  assert.ok(!res.isError);
  const { keys } = res.structuredContent;
  for (const k of Object.values(K)) {
    const found = keys.find((x) => x.key_id === k.key_id);
    assert.ok(found, k.key_id);
    assert.equal(found.venue, k.venue);
    assert.equal(found.network, 'mainnet');
  }
  assert.deepEqual(JSON.parse(res.content[0].text), res.structuredContent);
  assertNoSecret(assert, JSON.stringify(res), 'list_keys');
});

test('sign_request: the sealed secret\'s HMAC, the receipt verifies with the SDK', async () => {
  const req = account();
  const res = await mcp.call('sign_request', { key_id: K.binance.key_id, request: req });
  assert.ok(!res.isError, res.content[0].text);
  const out = res.structuredContent;
  assert.equal(out.action, 'other'); // GET /api/v3/account: no parameters (docs/POLICY.md)
  assert.equal(out.signed.query, `${req.query}&signature=${hmac(K.binance.credentials.secret, req.query)}`);
  assert.equal(out.signed.headers['X-MBX-APIKEY'], K.binance.credentials.api_key);
  assert.equal(out.receipt.decision, 'allow');
  assert.equal(out.receipt.request_hash, sha256hex(canonicalize(req)));
  const check = await verifyReceipt(out.receipt, verifyOpts(sdk));
  assert.equal(check.seq, out.receipt.seq);
  assert.deepEqual(out.receipt_check, { verified: true, seq: check.seq, hash: check.hash });
  assertNoSecret(assert, JSON.stringify(res), 'sign_request');
});

test('sign_request: the OKX WebSocket login message, its passphrase redacted, its signature the sealed secret\'s', async () => {
  const cred = K.okx.credentials;
  const t = Math.floor(Date.now() / 1000);
  const res = await mcp.call('sign_request', { key_id: K.okx.key_id, request: { op: 'login', timestamp: t } });
  assert.ok(!res.isError, res.content[0].text);
  const [arg] = res.structuredContent.signed.args;
  assert.equal(arg.apiKey, cred.api_key);
  assert.equal(arg.sign, hmac(cred.secret, `${t}GET/users/self/verify`, 'base64'));
  assert.match(arg.passphrase, /^\[redacted/);
  assert.equal(res.structuredContent.action, 'auth');
  assertNoSecret(assert, JSON.stringify(res), 'sign_request');
});

test('sign_request: an Idempotency-Key retry returns the first answer (one receipt)', async () => {
  const req = account();
  const a = await mcp.call('sign_request', { key_id: K.bybit.key_id, idempotency_key: `mcp-${req.timestamp}`,
    request: { method: 'GET', path: '/v5/account/wallet-balance', query: 'accountType=UNIFIED', timestamp: req.timestamp } });
  const b = await mcp.call('sign_request', { key_id: K.bybit.key_id, idempotency_key: `mcp-${req.timestamp}`,
    request: { method: 'GET', path: '/v5/account/wallet-balance', query: 'accountType=UNIFIED', timestamp: req.timestamp } });
  assert.ok(!a.isError && !b.isError);
  assert.deepEqual(b.structuredContent.receipt, a.structuredContent.receipt);
});

test('API errors are readable tool errors with their code', async () => {
  const unknown = await mcp.call('sign_request', { key_id: '0'.repeat(32), request: account() });
  assert.equal(unknown.isError, true);
  assert.equal(unknown.structuredContent.error.code, 'not_found');
  assert.equal(unknown.structuredContent.error.status, 404);
  assert.match(unknown.content[0].text, /^not_found \(HTTP 404\): /);
  const bad = await mcp.call('sign_request', { key_id: K.binance.key_id, request: { ...account(), colour: 'red' } });
  assert.equal(bad.isError, true);
  assert.equal(bad.structuredContent.error.code, 'unknown_field');
  assert.match(bad.structuredContent.error.message, /colour/);
  // a withdrawal: denied by policy (no destinations), with the deny receipt
  const ts = Date.now();
  const w = await mcp.call('sign_request', { key_id: K.binance.key_id, request: { method: 'POST',
    path: '/sapi/v1/capital/withdraw/apply', body: `coin=BTC&address=bc1qxyz&amount=1&timestamp=${ts}`, timestamp: ts } });
  assert.equal(w.isError, true);
  assert.equal(w.structuredContent.error.code, 'policy_denied');
  assert.equal(w.structuredContent.receipt.decision, 'deny');
  assert.equal(w.structuredContent.receipt.reason, `policy_denied: ${w.structuredContent.error.message}`);
  assert.match(w.content[0].text, /^policy_denied \(HTTP 422\): policy: .*\n.*receipt/);
  await verifyReceipt(w.structuredContent.receipt, verifyOpts(sdk));
});

test('a wrong token: unauthorized, the token not echoed', async () => {
  const other = await connect({ env: stackEnv({ SIGIL_TOKEN: `sgl_${'1'.repeat(16)}_${'2'.repeat(64)}` }) });
  try {
    const res = await other.call('list_keys');
    assert.equal(res.isError, true);
    assert.equal(res.structuredContent.error.code, 'unauthorized');
    assert.ok(!JSON.stringify(res).includes('2'.repeat(64)));
  } finally {
    await other.close();
  }
});

test('get_attestation: verified against the dev root, with our nonce', async () => {
  const nonce = 'ab'.repeat(20);
  const res = await mcp.call('get_attestation', { nonce });
  assert.ok(!res.isError, res.content[0].text);
  const a = res.structuredContent;
  assert.equal(a.verified, true);
  assert.equal(a.nonce, nonce);
  assert.equal(a.measurement, fixture.measurement);
  assert.equal(a.boot_id, (await sdk.ready()).boot_id);
  const random = await mcp.call('get_attestation');
  assert.match(random.structuredContent.nonce, /^[0-9a-f]{64}$/);
});

test('get_attestation fails on a wrong measurement, an untrusted root, or no configuration', async () => {
  const cases = [
    [{ SIGIL_MEASUREMENT: 'ab'.repeat(48) }, 'attestation_failed', /measurement/],
    [{ SIGIL_ROOT: 'aws' }, 'attestation_failed', /./],
    [{ SIGIL_ROOT: '', SIGIL_MEASUREMENT: '' }, 'not_configured', /SIGIL_ROOT/],
  ];
  for (const [env, code, msg] of cases) {
    const s = await connect({ env: stackEnv(env) });
    try {
      const res = await s.call('get_attestation', { nonce: '01' });
      assert.equal(res.isError, true, JSON.stringify(env));
      assert.equal(res.structuredContent.error.code, code, res.content[0].text);
      assert.match(res.structuredContent.error.message, msg);
    } finally {
      await s.close();
    }
  }
});

test('verify_receipt: a good receipt and its chain link; a flipped byte and a wrong link fail', async () => {
  const first = (await mcp.call('sign_request', { key_id: K.binance.key_id, request: account() })).structuredContent.receipt;
  const second = (await mcp.call('sign_request', { key_id: K.binance.key_id, request: account() })).structuredContent.receipt;
  const ok = await mcp.call('verify_receipt', { receipt: second });
  assert.ok(!ok.isError, ok.content[0].text);
  assert.equal(ok.structuredContent.ok, true);
  assert.equal(ok.structuredContent.seq, second.seq);
  assert.equal(ok.structuredContent.hash, receiptHash(second));
  const asText = await mcp.call('verify_receipt', { receipt: JSON.stringify(second) });
  assert.equal(asText.structuredContent.ok, true);
  if (second.seq === first.seq + 1) { // nothing else signed in between (one test at a time)
    const linked = await mcp.call('verify_receipt', { receipt: second, prev: first });
    assert.equal(linked.structuredContent.ok, true, linked.content[0].text);
    const byHash = await mcp.call('verify_receipt', { receipt: second, prev: receiptHash(first) });
    assert.equal(byHash.structuredContent.ok, true);
  }
  const wrongLink = await mcp.call('verify_receipt', { receipt: second, prev: second });
  assert.equal(wrongLink.isError, true);
  assert.match(wrongLink.structuredContent.error.message, /prev/);
  const sig = second.signature;
  const flipped = { ...second, signature: (sig[0] === '0' ? '1' : '0') + sig.slice(1) };
  const bad = await mcp.call('verify_receipt', { receipt: flipped });
  assert.equal(bad.isError, true);
  assert.equal(bad.structuredContent.error.code, 'bad_signature');
  const edited = await mcp.call('verify_receipt', { receipt: { ...second, action: 'withdraw' } });
  assert.equal(edited.isError, true);
});

test('schema validation: missing, malformed and unknown arguments are tool errors', async () => {
  const cases = [
    ['sign_request', { request: account() }, /key_id/],
    ['sign_request', { key_id: 'XYZ', request: account() }, /key_id/],
    ['sign_request', { key_id: K.binance.key_id, request: 'GET /' }, /request/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'long', type: 'limit', quantity: '1', price: '1' }, /side/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1e3', price: '1' }, /quantity/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0', price: '1' }, /quantity/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '007' }, /price/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '1', colour: 'red' }, /colour/],
    ['place_order', { key_id: K.binance.key_id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '1', send: 'yes' }, /send/],
    ['cancel_order', { key_id: K.binance.key_id }, /symbol/],
    ['get_attestation', { nonce: 'xyz' }, /nonce/],
    ['verify_receipt', {}, /receipt/],
  ];
  for (const [tool, args, msg] of cases) {
    const res = await mcp.call(tool, args);
    assert.equal(res.isError, true, `${tool} ${JSON.stringify(args)}`);
    assert.match(res.content[0].text, /Input validation error/);
    assert.match(res.content[0].text, msg, res.content[0].text);
  }
});
