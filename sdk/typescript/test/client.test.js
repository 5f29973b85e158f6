// SigilClient against the live stack: every route, typed errors, idempotent
// retries, timeouts, client-signed requests, policy updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  BadRequestError, BadSignatureError, ConflictError, DeniedError, NotFoundError, PolicyDeniedError, StaleRequestError,
  SigilClient, SigilError, TimeoutError, UnauthorizedError, UnavailableError, canonicalize,
  clientMessage, ed25519PublicKey, receiptHash, signPolicy, verifyReceipt,
} from '@sigil/sdk';
import { client, fixture } from './fixture.js';

const K = fixture.keys;
const order = (ts = Date.now()) => ({ method: 'POST', path: '/api/v3/order',
  body: `symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=30000&timeInForce=GTC&timestamp=${ts}`,
  timestamp: ts });
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const hmacHex = (key, msg) => createHmac('sha256', key).update(msg).digest('hex');

test('health, readiness and metrics', async () => {
  const c = client();
  assert.deepEqual(await c.health(), { status: 'ok', mode: 'dev' });
  const ready = await c.ready();
  assert.equal(ready.status, 'ready');
  assert.match(ready.boot_id, /^[0-9a-f]{32}$/);
  assert.match(await c.metrics(), /sigil_http_requests_total/);
});

test('listKeys returns the fixture\'s keys with their venues', async () => {
  const keys = await client().listKeys();
  for (const k of Object.values(K)) {
    const found = keys.find((x) => x.key_id === k.key_id);
    assert.ok(found, k.key_id);
    assert.equal(found.venue, k.venue);
    if (found.policy_version === 1) assert.equal(found.policy_hash, sha256hex(canonicalize(k.policy)));
  }
});

test('sign: the signed request is the HMAC of the sealed secret, the receipt verifies', async () => {
  const c = client();
  const req = order();
  const res = await c.sign(K.binance.key_id, req);
  const want = hmacHex(K.binance.credentials.secret, req.body);
  assert.equal(res.signed.body, `${req.body}&signature=${want}`);
  assert.equal(res.signed.headers['X-MBX-APIKEY'], K.binance.credentials.api_key);
  assert.equal(res.action, 'order');
  assert.equal(res.receipt.request_hash, sha256hex(canonicalize(req)));
  const signedText = res.text.slice(res.text.indexOf('"signed":') + 9, res.text.indexOf(',"receipt":'));
  assert.equal(res.receipt.output_hash, sha256hex(signedText));
  const ok = await verifyReceipt(res.receipt, { root: fixture.root_pem, measurement: fixture.measurement, client: c });
  assert.equal(ok.seq, res.receipt.seq);
});

test('typed errors mirror the API codes', async () => {
  const c = client();
  await assert.rejects(new SigilClient({ url: fixture.gateway, token: `sgl_${'0'.repeat(16)}_${'0'.repeat(64)}` }).listKeys(),
    (e) => e instanceof UnauthorizedError && e.code === 'unauthorized' && e.status === 401);
  await assert.rejects(c.sign('0'.repeat(32), order()), (e) => e instanceof NotFoundError && e.status === 404);
  await assert.rejects(c.getBootDocument('0'.repeat(32)), NotFoundError);
  await assert.rejects(c.request('POST', '/v1/sign', { body: '{"key_id":"x","request":{},"extra":1}' }),
    (e) => e instanceof BadRequestError && e.code === 'unknown_field');
  // a withdrawal: the policy lists no destinations
  const ts = Date.now();
  await assert.rejects(c.sign(K.binance.key_id, { method: 'POST', path: '/sapi/v1/capital/withdraw/apply',
    body: `coin=BTC&address=bc1qxyz&amount=1&timestamp=${ts}`, timestamp: ts }), (e) => {
    assert.ok(e instanceof PolicyDeniedError, e.message);
    assert.equal(e.code, 'policy_denied');
    assert.equal(e.receipt.decision, 'deny');
    assert.match(e.receipt.reason, /^policy_denied: /);
    return true;
  });
  // an hour-old timestamp: outside the enclave's skew window
  await assert.rejects(c.sign(K.binance.key_id, order(Date.now() - 3600 * 1000)),
    (e) => e instanceof StaleRequestError && e instanceof DeniedError && e.status === 422 && e.receipt?.decision === 'deny');
  // a key with a client key, without a client signature; and a client member for a key without one
  await assert.rejects(c.sign(K.binance_client.key_id, order()),
    (e) => e instanceof BadSignatureError && e.status === 403 && e.receipt?.decision === 'deny');
  await assert.rejects(c.sign(K.binance.key_id, order(), { clientKey: fixture.client_seed }),
    (e) => e instanceof BadRequestError && e.code === 'bad_request');
  // Idempotency-Key reused with another body
  const idem = randomBytes(8).toString('hex');
  await c.sign(K.bybit.key_id, { method: 'GET', path: '/v5/account/wallet-balance', query: 'accountType=UNIFIED', timestamp: Date.now() }, { idempotencyKey: idem });
  await assert.rejects(c.sign(K.bybit.key_id, { method: 'GET', path: '/v5/account/wallet-balance', query: 'accountType=SPOT', timestamp: Date.now() }, { idempotencyKey: idem }),
    (e) => e instanceof ConflictError && e.status === 409);
  assert.ok(new ConflictError('conflict', 'x') instanceof SigilError);
});

test('client-signed requests: signed by the bound client key, replay refused', async () => {
  const c = client({ clientKey: fixture.client_seed });
  const ts = Date.now();
  const req = { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts };
  const nonce = `n${randomBytes(12).toString('hex')}`;
  const res = await c.sign(K.binance_client.key_id, req, { nonce, timestamp: ts });
  assert.equal(res.receipt.decision, 'allow');
  // the message layout of docs/POLICY.md, built independently here
  const h = createHash('sha256').update(canonicalize(req)).digest();
  const lp = (s) => Buffer.concat([Buffer.from([0, 0, 0, Buffer.byteLength(s)]), Buffer.from(s)]);
  const ts8 = Buffer.alloc(8);
  ts8.writeBigUInt64BE(BigInt(ts));
  assert.deepEqual(Buffer.from(clientMessage(K.binance_client.key_id, req, ts, nonce)),
    Buffer.concat([Buffer.from('sigil-request-v1\0'), lp(K.binance_client.key_id), h, ts8, lp(nonce)]));
  assert.equal(Buffer.from(ed25519PublicKey(Buffer.from(fixture.client_seed, 'hex'))).toString('hex'), fixture.client_pubkey);
  await assert.rejects(c.sign(K.binance_client.key_id, req, { nonce, timestamp: ts }),
    (e) => e instanceof BadSignatureError && /replay/.test(e.message));
  await assert.rejects(c.sign(K.binance_client.key_id, req, { clientKey: randomBytes(32) }), BadSignatureError);
});

/**
 * A proxy to the gateway that loses the response of the first POST /v1/sign
 * it forwards: 'drop' closes the connection; 'hold' keeps the response until
 * the next request arrives (the client's timeout fires first).
 */
async function droppingProxy(mode = 'drop') {
  let release = null;
  const target = new URL(fixture.gateway);
  const seen = [];
  let dropped = false;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, idem: req.headers['idempotency-key'], body: body.toString() });
      if (release) {
        release();
        release = null;
      }
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: target.host } }, (r) => {
        const parts = [];
        r.on('data', (c) => parts.push(c));
        r.on('end', () => {
          if (!dropped && req.url === '/v1/sign') {
            dropped = true;
            if (mode === 'drop') {
              req.socket.destroy(); // the gateway signed; the client never hears of it
              return;
            }
            release = () => req.socket.destroy();
            return;
          }
          res.writeHead(r.statusCode, r.headers);
          res.end(Buffer.concat(parts));
        });
      });
      up.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}

for (const mode of ['drop', 'hold']) test(`a retry after a lost response (${mode}) reuses the Idempotency-Key: one signature, one receipt`, async () => {
  const proxy = await droppingProxy(mode);
  try {
    const c = new SigilClient({ url: proxy.url, token: fixture.token, retries: 2, retryDelayMs: 10,
      timeoutMs: mode === 'hold' ? 500 : 30000 });
    const before = await client().audit({ since: 0, limit: 1000 });
    const since = before.records.at(-1)?.seq ?? 0;
    const res = await c.sign(K.okx.key_id, { method: 'GET', path: '/api/v5/account/balance',
      query: 'ccy=BTC', timestamp: Date.now() });
    const signs = proxy.seen.filter((s) => s.url === '/v1/sign');
    assert.ok(signs.length >= 2, 'the retry reached the gateway');
    signs.forEach((s) => {
      assert.equal(s.idem, signs[0].idem);
      assert.equal(s.body, signs[0].body);
    });
    const after = (await client().audit({ since, limit: 1000 })).records.filter((r) => r.op === 'sign');
    assert.equal(after.length, 1, 'one audit record');
    assert.equal(after[0].receipt.seq, res.receipt.seq, 'the receipt of the only signature');
    assert.equal(receiptHash(after[0].receipt), receiptHash(res.receipt));
  } finally {
    proxy.server.close();
  }
});

test('without retries a lost response is an error; a silent server is a timeout', async () => {
  const proxy = await droppingProxy();
  const silent = http.createServer(() => {});
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const c = new SigilClient({ url: proxy.url, token: fixture.token, retries: 0 });
    await assert.rejects(c.sign(K.okx.key_id, { method: 'GET', path: '/api/v5/account/balance', timestamp: Date.now() }),
      UnavailableError);
    const s = new SigilClient({ url: `http://127.0.0.1:${silent.address().port}`, token: fixture.token,
      retries: 1, retryDelayMs: 1, timeoutMs: 200 });
    await assert.rejects(s.listKeys(), (e) => e instanceof TimeoutError && e.code === 'timeout');
  } finally {
    proxy.server.close();
    silent.closeAllConnections();
    silent.close();
  }
});

test('attestation, boot archive and audit routes', async () => {
  const c = client();
  const nonce = randomBytes(32);
  const att = await c.getAttestation(nonce);
  assert.equal(att.nonce, nonce.toString('hex'));
  assert.equal(att.measurement, fixture.measurement);
  const boot = await c.getBootDocument(att.boot_id);
  assert.equal(boot.boot_id, att.boot_id);
  const page = await c.audit({ limit: 2 });
  assert.ok(page.records.length <= 2);
  assert.ok(page.records.every((r) => /^[0-9a-f]{64}$/.test(r.hash)));
});

test('policy update signed by the owner; a lower version is denied; delete', async () => {
  const c = client();
  const key = K.kucoinfutures;
  const v = (await c.listKeys()).find((k) => k.key_id === key.key_id).policy_version;
  const policy = { ...key.policy, version: v + 1, actions: ['order', 'cancel', 'read'] };
  const text = JSON.stringify(policy);
  const res = await c.updatePolicy(key.key_id, text, signPolicy(policy, fixture.owner_seed, key.key_id));
  assert.equal(res.version, v + 1);
  assert.equal(res.policy_hash, sha256hex(canonicalize(policy)));
  assert.equal(res.receipt.action, 'policy_update');
  await assert.rejects(c.updatePolicy(key.key_id, key.policy, signPolicy(key.policy, fixture.owner_seed, key.key_id)),
    PolicyDeniedError);
  await assert.rejects(c.updatePolicy(key.key_id, { ...policy, version: v + 2 }, signPolicy(policy, fixture.owner_seed, key.key_id)),
    BadSignatureError);
  // restore an every-action policy for the other tests
  const back = { ...key.policy, version: v + 2 };
  await c.updatePolicy(key.key_id, back, signPolicy(back, fixture.owner_seed, key.key_id));
  await assert.rejects(c.deleteKey('f'.repeat(32)), NotFoundError);
});

test('every error code of docs/API.md maps to the error class of its status', async () => {
  const { readFileSync } = await import('node:fs');
  const { errorClass } = await import('@sigil/sdk');
  const doc = readFileSync(new URL('../../../docs/API.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| (\d{3}) \| (.+) \|$/gm)].filter(([, status]) => status !== '405');
  assert.ok(rows.length >= 12, 'the status table was found');
  let codes = 0;
  for (const [, status, cell] of rows) {
    const byStatus = errorClass(undefined, Number(status));
    for (const [, code] of cell.matchAll(/`([a-z_]+)`/g)) {
      const cls = errorClass(code, Number(status));
      assert.ok(cls === byStatus || cls.prototype instanceof byStatus, `${status} ${code} → ${cls.name}`);
      assert.notEqual(cls, SigilError, code);
      codes++;
    }
  }
  assert.ok(codes >= 30, `${codes} codes`);
});
