// SIGIL_CLIENT_KEY_FILE and GET /v1/keys `client_key`: a key that says true is
// client-signed, one that says false is signed without, each in one
// attempt; a key whose row predates the column (client_key null, set here
// in the store) is tried with the client key and signed again without when
// the enclave refuses it, idempotently under a caller's Idempotency-Key.
// Two keys provisioned here, so the fixture's keys stay as they are.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { provision, SigilClient } from '@sigil/sdk';
import { connect, fixture, hmac, sha256hex, stackEnv } from './harness.js';

const sdk = new SigilClient({ url: fixture.gateway, token: fixture.token });
const policy = { version: 1, tenant: fixture.tenant, venue: 'binance', network: 'mainnet', actions: ['*'],
  not_after: fixture.not_after };
const keys = {
  bound: { credentials: { api_key: 'mcp-ck-bound', secret: 'mcp-client-key-bound-secret-0123' }, clientPubkey: fixture.client_pubkey },
  plain: { credentials: { api_key: 'mcp-ck-plain', secret: 'mcp-client-key-plain-secret-4567' }, clientPubkey: null },
};
let mcp;

before(async () => {
  for (const k of Object.values(keys)) {
    k.keyId = (await provision(sdk, { venue: 'binance', network: 'mainnet', credentials: k.credentials, policy,
      ownerKey: fixture.owner_seed, clientPubkey: k.clientPubkey, root: fixture.root_pem, measurement: fixture.measurement })).key_id;
  }
  mcp = await connect({ env: stackEnv({ SIGIL_CLIENT_KEY_FILE: fixture.client_key_file }) });
});
after(async () => {
  await mcp.close();
});

let n = 0;
function account() {
  const ts = Date.now() + n++; // a distinct request text per call
  return { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts };
}

async function lastSeq() {
  let since = 0;
  for (;;) {
    const page = await sdk.audit({ since, limit: 1000 });
    if (page.next === null) return page.records.at(-1)?.seq ?? since;
    since = page.next;
  }
}

/** The statuses of the sign rows of one request text since `since`, in order. */
async function rowsOf(since, request) {
  const out = [];
  for (let at = since; ;) {
    const page = await sdk.audit({ since: at, limit: 1000 });
    out.push(...page.records.filter((r) => r.op === 'sign' && r.request_hash === sha256hex(JSON.stringify(request))));
    if (page.next === null) return out.map((r) => r.status);
    at = page.next;
  }
}

async function signOk(k, request, extra = {}) {
  const res = await mcp.call('sign_request', { key_id: k.keyId, request, ...extra });
  assert.ok(!res.isError, res.content[0].text);
  const out = res.structuredContent;
  assert.equal(out.receipt.decision, 'allow');
  assert.equal(out.signed.query, `${request.query}&signature=${hmac(k.credentials.secret, request.query)}`);
  return out;
}

const listed = async (keyId) => (await sdk.listKeys()).find((k) => k.key_id === keyId);

test('client_key true / false from GET /v1/keys: one attempt each, client-signed only where bound', async () => {
  assert.equal((await listed(keys.bound.keyId)).client_key, true);
  assert.equal((await listed(keys.plain.keyId)).client_key, false);
  for (const k of [keys.plain, keys.bound, keys.plain]) {
    const since = await lastSeq();
    const req = account();
    await signOk(k, req);
    // no refused probe before it: exactly the one allowed row
    assert.deepEqual(await rowsOf(since, req), [200], k.keyId);
  }
  // place_order (key info from the listing it reads anyway) on the bound key
  const o = await mcp.call('place_order', { key_id: keys.bound.keyId, symbol: 'BTCUSDT', side: 'buy', type: 'limit',
    quantity: '0.01', price: '30000' });
  assert.ok(!o.isError, o.content[0].text);
  assert.equal(o.structuredContent.receipt.decision, 'allow');
});

test('client_key null (a row from before the column): tried with the client key, then without, idempotently', async () => {
  const db = join(fixture.home, 'sigil.db');
  execFileSync('python3', ['-c', `import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
c.executemany("UPDATE keys SET client_key = NULL WHERE key_id = ?", [(k,) for k in sys.argv[2:]])
c.commit()`, db, keys.bound.keyId, keys.plain.keyId]);
  for (const k of [keys.bound, keys.plain]) assert.equal((await listed(k.keyId)).client_key ?? null, null);

  // a fresh server: nothing learnt about the keys yet
  const fresh = await connect({ env: stackEnv({ SIGIL_CLIENT_KEY_FILE: fixture.client_key_file }) });
  try {
    const call = async (k, request, extra) => {
      const res = await fresh.call('sign_request', { key_id: k.keyId, request, ...extra });
      assert.ok(!res.isError, res.content[0].text);
      assert.equal(res.structuredContent.receipt.decision, 'allow');
      return res.structuredContent;
    };
    let since = await lastSeq();
    const bound = account();
    await call(keys.bound, bound);
    assert.deepEqual(await rowsOf(since, bound), [200], 'a bound key: the client-signed attempt is the only one');

    since = await lastSeq();
    const plain = account();
    const idem = `mcp-ck-${Date.now()}`;
    const first = await call(keys.plain, plain, { idempotency_key: idem });
    assert.deepEqual(await rowsOf(since, plain), [400, 200], 'refused with the client signature, then signed without');
    // the same call again (an agent's retry): the stored answers, nothing signed twice
    const again = await call(keys.plain, plain, { idempotency_key: idem });
    assert.equal(again.receipt.signature, first.receipt.signature);
    assert.deepEqual(await rowsOf(since, plain), [400, 200]);
    // learnt: the next request of that key goes without a client signature at once
    since = await lastSeq();
    const next = account();
    await call(keys.plain, next);
    assert.deepEqual(await rowsOf(since, next), [200]);
  } finally {
    await fresh.close();
  }
});
