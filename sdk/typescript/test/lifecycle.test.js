// Key lifecycle through the SDK against the live stack, each effect checked
// through the API: generated wallet keys (signatures recovered with ethers,
// independently of Sigil), disable/enable, credential rotation, rewrap and
// owner revocation (a verifying deny receipt afterwards). Keys provisioned
// here, so the fixture's keys stay as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import { Signature, ZeroAddress, getAddress, keccak256, verifyTypedData } from 'ethers';
import {
  BadSignatureError, ConflictError, PolicyDeniedError, RevokedError, canonicalize, provision, revocationMessage,
  rotateCredentials, signPolicy, signRevocation, verifyReceipt,
} from '@sigil/sdk';
import { client, fixture } from './fixture.js';

const sha256hex = (b) => createHash('sha256').update(b).digest('hex');
const hmacHex = (key, msg) => createHmac('sha256', key).update(msg).digest('hex');
const verifyOpts = (c) => ({ root: fixture.root_pem, measurement: fixture.measurement, client: c });
const policyFor = (venue, version = 1) => ({ version, tenant: fixture.tenant, venue, network: 'mainnet', actions: ['*'],
  not_after: fixture.not_after });
const common = { network: 'mainnet', ownerKey: fixture.owner_seed, root: fixture.root_pem, measurement: fixture.measurement };
const listed = async (c, keyId) => (await c.listKeys()).find((k) => k.key_id === keyId);

async function binanceKey(c, secret) {
  return provision(c, { ...common, venue: 'binance', policy: policyFor('binance'),
    credentials: { api_key: `lifecycle-${secret.slice(0, 6)}`, secret } });
}

/** A binance account read, signed; resolves to the SDK's result. */
function account(c, keyId) {
  const ts = Date.now();
  return c.sign(keyId, { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts });
}

/** msgpack of {"type":"cancel","cancels":[{"a":0,"o":oid}]} (oid < 128), encoded by hand. */
function cancelMsgpack(oid) {
  const str = (t) => [0xa0 | t.length, ...Buffer.from(t)];
  return Buffer.from([0x82, ...str('type'), ...str('cancel'), ...str('cancels'), 0x91, 0x82, ...str('a'), 0, ...str('o'), oid]);
}

/** The signer of a Hyperliquid L1 action (no vault, mainnet): the Agent typed data, recovered by ethers. */
function hyperliquidSigner(packed, nonce, sig) {
  const n = Buffer.alloc(8);
  n.writeBigUInt64BE(BigInt(nonce));
  const connectionId = keccak256(Buffer.concat([packed, n, Buffer.from([0])]));
  const pad = (h) => `0x${h.slice(2).padStart(64, '0')}`;
  return verifyTypedData({ name: 'Exchange', version: '1', chainId: 1337, verifyingContract: ZeroAddress },
    { Agent: [{ name: 'source', type: 'string' }, { name: 'connectionId', type: 'bytes32' }] },
    { source: 'a', connectionId }, Signature.from({ r: pad(sig.r), s: pad(sig.s), v: sig.v }));
}

test('generated keys (hyperliquid, aster): only the address leaves; signatures recover to it with ethers', async () => {
  const c = client();
  const hl = await provision(c, { ...common, venue: 'hyperliquid', policy: policyFor('hyperliquid'), generate: true });
  assert.match(hl.address, /^0x[0-9a-fA-F]{40}$/);
  assert.equal(hl.key_type, 'secp256k1');
  assert.equal(getAddress(hl.address), hl.address, 'EIP-55');
  const info = await listed(c, hl.key_id);
  assert.deepEqual([info.address, info.state, info.client_key], [hl.address, 'active', false]);
  for (const oid of [77, 5]) {
    const nonce = Date.now();
    const res = await c.sign(hl.key_id, { action: { type: 'cancel', cancels: [{ a: 0, o: oid }] }, nonce });
    assert.equal(hyperliquidSigner(cancelMsgpack(oid), nonce, res.signed.signature), hl.address);
    assert.equal(res.receipt.output_hash, sha256hex(res.signedText));
  }

  const aster = await provision(c, { ...common, venue: 'aster', policy: policyFor('aster'), generate: true });
  assert.notEqual(aster.address.toLowerCase(), hl.address.toLowerCase());
  const nonce = Date.now() * 1000;
  const res = await c.sign(aster.key_id, { method: 'POST', path: '/fapi/v3/order',
    query: 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=30000&timeInForce=GTC', nonce });
  const [msg, sig] = res.signed.query.split('&signature=');
  assert.match(msg, new RegExp(`signer=${aster.address}`, 'i'));
  assert.equal(verifyTypedData({ name: 'AsterSignTransaction', version: '1', chainId: 1666, verifyingContract: ZeroAddress },
    { Message: [{ name: 'msg', type: 'string' }] }, { msg }, sig), aster.address);

  // rotated to a new generated key: the listing's address changes, the new key signs
  const again = await rotateCredentials(c, hl.key_id, { ...common, venue: 'hyperliquid', policy: policyFor('hyperliquid', 2),
    generate: true });
  assert.notEqual(again.address, hl.address);
  assert.equal((await listed(c, hl.key_id)).address, again.address);
  const n2 = Date.now();
  const res2 = await c.sign(hl.key_id, { action: { type: 'cancel', cancels: [{ a: 0, o: 9 }] }, nonce: n2 });
  assert.equal(hyperliquidSigner(cancelMsgpack(9), n2, res2.signed.signature), again.address);

  // a CEX key cannot be generated: refused before anything is sent
  await assert.rejects(provision(c, { ...common, venue: 'binance', policy: policyFor('binance'), generate: true }),
    /cannot be generated/);
  await assert.rejects(provision(c, { ...common, venue: 'aster', policy: policyFor('aster'), generate: true,
    credentials: { private_key: `0x${'11'.repeat(32)}` } }), /not both/);
});

/** The query ends with the HMAC of the rest under this secret (computed here). */
function assertSignedWith(res, secret) {
  const unsigned = res.signed.query.split('&signature=')[0];
  assert.equal(res.signed.query, `${unsigned}&signature=${hmacHex(secret, unsigned)}`);
  assert.equal(res.receipt.decision, 'allow');
}

test('disable and enable: state in GET /v1/keys; a disabled key\'s sign is 409 key_disabled without a receipt', async () => {
  const c = client();
  const secret = 'lifecycle-disable-secret-0123456789';
  const { key_id: keyId } = await binanceKey(c, secret);
  assert.deepEqual(await c.disableKey(keyId), { key_id: keyId, state: 'disabled' });
  assert.equal((await listed(c, keyId)).state, 'disabled');
  await assert.rejects(account(c, keyId),
    (e) => e instanceof ConflictError && e.code === 'key_disabled' && e.status === 409 && e.receipt === null);
  assert.deepEqual(await c.disableKey(keyId), { key_id: keyId, state: 'disabled' }); // again: 200
  assert.deepEqual(await c.enableKey(keyId), { key_id: keyId, state: 'active' });
  assert.equal((await listed(c, keyId)).state, 'active');
  assertSignedWith(await account(c, keyId), secret);
});

test('rotate credentials: version above the key\'s, new secret signs; a replay and another owner are refused', async () => {
  const c = client();
  const { key_id: keyId } = await binanceKey(c, 'lifecycle-rotate-old-secret-000000');
  const newSecret = 'lifecycle-rotate-new-secret-111111';
  const opts = { ...common, venue: 'binance', policy: policyFor('binance', 2),
    credentials: { api_key: 'lifecycle-rotated', secret: newSecret } };
  const rotated = await rotateCredentials(c, keyId, opts);
  assert.equal(rotated.key_id, keyId);
  assert.equal(rotated.version, 2);
  assert.equal(rotated.receipt.action, 'rotate');
  assert.equal(rotated.policy_hash, sha256hex(canonicalize(opts.policy)));
  await verifyReceipt(rotated.receipt, verifyOpts(c));
  const info = await listed(c, keyId);
  assert.deepEqual([info.policy_version, info.policy_hash, info.state], [2, rotated.policy_hash, 'active']);
  const res = await account(c, keyId);
  assertSignedWith(res, newSecret);
  assert.equal(res.signed.headers['X-MBX-APIKEY'], 'lifecycle-rotated');
  // the same version again: a replayed rotation
  await assert.rejects(rotateCredentials(c, keyId, opts), PolicyDeniedError);
  // another owner key: forbidden
  await assert.rejects(rotateCredentials(c, keyId, { ...opts, policy: policyFor('binance', 3), ownerKey: '07'.repeat(32) }),
    (e) => e.status === 403);
});

test('rewrap: new blob, same policy and secret; audited as rewrap', async () => {
  const c = client();
  const secret = 'lifecycle-rewrap-secret-22222222';
  const imported = await binanceKey(c, secret);
  const keyId = imported.key_id;
  const res = await c.rewrapKey(keyId);
  assert.equal(res.key_id, keyId);
  assert.equal(res.policy_hash, imported.policy_hash);
  assert.equal(res.version, 1);
  assert.equal(res.receipt.action, 'rewrap');
  await verifyReceipt(res.receipt, verifyOpts(c));
  const info = await listed(c, keyId);
  assert.deepEqual([info.policy_hash, info.policy_version], [imported.policy_hash, 1]);
  assertSignedWith(await account(c, keyId), secret);
  let since = 0;
  let rows = [];
  for (;;) {
    const page = await c.audit({ since, limit: 1000 });
    rows = rows.concat(page.records.filter((r) => r.key_id === keyId && r.op === 'rewrap'));
    if (page.next === null) break;
    since = page.next;
  }
  assert.equal(rows.length, 1);
  assert.equal(rows[0].receipt.seq, res.receipt.seq);
});

test('revoke: the owner\'s signature over the documented message; then 410 with a verifying deny receipt', async () => {
  const c = client();
  const { key_id: keyId } = await binanceKey(c, 'lifecycle-revoke-secret-33333333');
  // the message of docs/POLICY.md "Revocation", built here independently
  const lp = (s) => Buffer.concat([Buffer.alloc(3), Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
  const message = Buffer.concat([Buffer.from('sigil-revoke-v1\0'), lp(fixture.tenant), lp(keyId)]);
  assert.deepEqual(Buffer.from(revocationMessage(fixture.tenant, keyId)), message);
  const sig = signRevocation(fixture.owner_seed, fixture.tenant, keyId);
  const ownerPub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from(fixture.owner_pubkey, 'hex')]), format: 'der', type: 'spki' });
  assert.ok(verify(null, message, ownerPub, Buffer.from(sig, 'hex')));

  // another owner's signature: 403 with a deny receipt, nothing changes
  await assert.rejects(c.revokeKey(keyId, signRevocation('09'.repeat(32), fixture.tenant, keyId)), (e) => {
    assert.ok(e instanceof BadSignatureError, e.message);
    assert.equal(e.receipt?.decision, 'deny');
    return true;
  });
  assert.equal((await listed(c, keyId)).state, 'active');
  await account(c, keyId);

  const res = await c.revokeKey(keyId, { ownerKey: fixture.owner_seed, tenant: fixture.tenant });
  assert.equal(res.key_id, keyId);
  assert.equal(res.state, 'revoked');
  assert.equal(res.receipt.action, 'revoke');
  assert.equal(res.receipt.decision, 'allow');
  assert.equal(res.receipt.request_hash, sha256hex(Buffer.from(sig, 'hex')));
  await verifyReceipt(res.receipt, verifyOpts(c));
  assert.equal((await listed(c, keyId)).state, 'revoked');

  const denied = await account(c, keyId).then(() => assert.fail('signed after revocation'), (e) => e);
  assert.ok(denied instanceof RevokedError, denied.message);
  assert.equal(denied.status, 410);
  assert.equal(denied.receipt.decision, 'deny');
  assert.equal(denied.receipt.key_id, keyId);
  const check = await verifyReceipt(denied.receipt, verifyOpts(c));
  assert.equal(check.decision, 'deny');
  await assert.rejects(c.disableKey(keyId), RevokedError);
  await assert.rejects(c.enableKey(keyId), RevokedError);
  await assert.rejects(c.revokeKey(keyId, sig), (e) => e instanceof RevokedError && e.receipt?.decision === 'deny');
  const v2 = policyFor('binance', 2);
  await assert.rejects(c.updatePolicy(keyId, v2, signPolicy(v2, fixture.owner_seed, keyId)), RevokedError);
});

test('wallet keys from credentials: dydx, eip191 and paradex are provisioned as secp256k1', async () => {
  // the enclave refuses a payload whose key_type does not match the credentials
  const c = client();
  for (const [venue, prefix] of [['dydx', 'dydx1'], ['eip191', '0x'], ['paradex', '0x']]) {
    const res = await provision(c, { ...common, venue, policy: policyFor(venue),
      credentials: { private_key: `0x${'04'.repeat(31)}2a` } });
    assert.equal(res.key_type, 'secp256k1', venue);
    assert.ok(res.address.startsWith(prefix), `${venue}: ${res.address}`);
    assert.equal((await listed(c, res.key_id)).venue, venue);
  }
});
