// Several gateway URLs (the Python SDK's semantics, sdk/python/tests/test_failover.py):
// a refused connection, a lost answer or a 502/503/504 moves a request to the
// next gateway with the same Idempotency-Key, signed once (one audit record);
// an "in progress" 409 (a dead gateway's reservation) is waited out; other
// 4xx are final. Scripted failures on the fixture's gateway, then a second
// real gateway on the same store killed (SIGKILL) mid-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BadRequestError, ConflictError, NotFoundError, SigilClient, UnavailableError, verifyReceipt,
} from '@sigil/sdk';
import { client, closedUrl, fixture } from './fixture.js';

const KEY = fixture.keys.binance;
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const hmacHex = (key, msg) => createHmac('sha256', key).update(msg).digest('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let qty = 0;
/** A binance order with a quantity no other request of this file has (its audit rows are its own). */
function order() {
  qty++;
  const ts = Date.now();
  return { method: 'POST', path: '/api/v3/order', query: '',
    body: `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.${String(qty).padStart(4, '0')}7&price=0.1&timestamp=${ts}`,
    timestamp: ts };
}

/** Every audit record of the token after `since`, following `next`. */
async function auditAfter(since) {
  const c = client();
  const out = [];
  for (let at = since; ;) {
    const page = await c.audit({ since: at, limit: 1000 });
    out.push(...page.records);
    if (page.next === null || page.records.length === 0) return out;
    at = page.next;
  }
}

const lastSeq = async () => (await auditAfter(0)).at(-1)?.seq ?? 0;

/** The sign rows of one request (by the hash of its text as sent). */
const rowsOf = (records, request) => records.filter((r) => r.op === 'sign' &&
  r.request_hash === sha256hex(JSON.stringify(request)));

/** The request was signed with the sealed secret (computed here) and its receipt verifies. */
async function checkSigned(res, request) {
  assert.equal(res.receipt.decision, 'allow');
  assert.equal(res.signed.body, `${request.body}&signature=${hmacHex(KEY.credentials.secret, request.body)}`);
  assert.equal(res.receipt.output_hash, sha256hex(res.signedText));
  await verifyReceipt(res.receipt, { root: fixture.root_pem, measurement: fixture.measurement, client: client() });
}

/**
 * A fetch for gateways named http://gw-N.test (all the fixture's gateway):
 * script[i] (an Error to throw, or a function returning a Response) answers
 * the i-th exchange, then the real gateway; `lose` loses the answer of
 * those exchanges (the gateway did the work). Records {gw, idem} per call.
 */
function scripted(script = [], lose = new Set()) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    const m = /^http:\/\/gw-(\d+)\.test(\/.*)$/.exec(url);
    const i = calls.push({ gw: Number(m[1]), idem: init.headers['Idempotency-Key'] }) - 1;
    const step = script[i];
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step();
    const res = await fetch(fixture.gateway + m[2], init);
    if (lose.has(i)) {
      await res.text();
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    }
    return res;
  };
  return { calls, fetchImpl };
}

const GW = ['http://gw-0.test', 'http://gw-1.test'];
const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
const answer = (status, code, message) => () => new Response(JSON.stringify({ error: { code, message } }),
  { status, headers: { 'Content-Type': 'application/json' } });
const IN_PROGRESS = answer(409, 'conflict', 'Idempotency-Key: a request with this key is in progress');

test('url or urls: a list of gateways, normalised; bad lists refused', () => {
  const live = fixture.gateway;
  assert.deepEqual(new SigilClient({ url: live }).urls, [live]);
  const c = new SigilClient({ url: [`${live}/`, 'http://127.0.0.2:1'] });
  assert.deepEqual(c.urls, [live, 'http://127.0.0.2:1']);
  assert.equal(c.url, live);
  assert.equal(new SigilClient({ urls: [live] }).url, live);
  assert.throws(() => new SigilClient({ url: live, urls: [live] }), /url or urls/);
  assert.throws(() => new SigilClient({ url: ['ftp://x'] }), TypeError);
  assert.throws(() => new SigilClient({ url: [] }), TypeError);
  assert.throws(() => new SigilClient({ urls: [live, 7] }), TypeError);
});

test('a refused gateway: the request moves on and later calls stay on the next one', async () => {
  const since = await lastSeq();
  const c = new SigilClient({ url: [await closedUrl(), fixture.gateway], token: fixture.token, retries: 0 });
  const req = order();
  const res = await c.sign(KEY.key_id, req);
  await checkSigned(res, req);
  assert.equal(c.url, fixture.gateway);
  // a request without an Idempotency-Key moves on a refused connection too (it was never sent)
  const c2 = new SigilClient({ url: [await closedUrl(), fixture.gateway], token: fixture.token, retries: 0 });
  const req2 = order();
  const raw = await c2.request('POST', '/v1/sign', { body: JSON.stringify({ key_id: KEY.key_id, request: req2 }) });
  assert.equal(raw.status, 200);
  const rows = await auditAfter(since);
  assert.equal(rowsOf(rows, req).length, 1);
  assert.equal(rowsOf(rows, req2).length, 1);
});

test('a lost answer: the next gateway returns the stored answer for the same key, signed once', async () => {
  const since = await lastSeq();
  const { calls, fetchImpl } = scripted([], new Set([0]));
  const c = new SigilClient({ url: GW, token: fixture.token, retries: 0, fetch: fetchImpl });
  const req = order();
  const res = await c.sign(KEY.key_id, req);
  assert.deepEqual(calls.map((x) => x.gw), [0, 1]);
  assert.ok(calls.every((x) => x.idem === res.idempotencyKey));
  await checkSigned(res, req);
  const rows = rowsOf(await auditAfter(since), req);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].receipt.signature, res.receipt.signature);
  assert.equal(c.url, GW[1]);
});

test('502, 503 and 504 move to the next gateway; other 4xx are final', async () => {
  for (const [status, code] of [[502, 'protocol_error'], [503, 'unavailable'], [504, 'timeout']]) {
    const since = await lastSeq();
    const { calls, fetchImpl } = scripted([answer(status, code, 'pair failed')]);
    const c = new SigilClient({ url: GW, token: fixture.token, retries: 0, fetch: fetchImpl });
    const req = order();
    const res = await c.sign(KEY.key_id, req);
    assert.deepEqual(calls.map((x) => x.gw), [0, 1], String(status));
    assert.equal(calls[0].idem, calls[1].idem);
    await checkSigned(res, req);
    assert.equal(rowsOf(await auditAfter(since), req).length, 1);
  }
  for (const [status, code, Cls] of [[400, 'bad_request', BadRequestError], [404, 'not_found', NotFoundError],
    [409, 'conflict', ConflictError]]) {
    const { calls, fetchImpl } = scripted([answer(status, code, 'final')]);
    const c = new SigilClient({ url: GW, token: fixture.token, retries: 2, fetch: fetchImpl });
    await assert.rejects(c.sign(KEY.key_id, order()), Cls);
    assert.equal(calls.length, 1, `${status} is final`);
  }
  // a 409 "in progress" on the first attempt: another caller's request with this key, final too
  const { calls, fetchImpl } = scripted([IN_PROGRESS]);
  await assert.rejects(new SigilClient({ url: GW, token: fixture.token, fetch: fetchImpl }).sign(KEY.key_id, order()),
    ConflictError);
  assert.equal(calls.length, 1);
});

test('"in progress" after a failover is waited out, at least 250 ms between polls', async () => {
  const since = await lastSeq();
  const { calls, fetchImpl } = scripted([reset(), IN_PROGRESS, IN_PROGRESS]);
  const at = [];
  const timed = (url, init) => {
    at.push(performance.now());
    return fetchImpl(url, init);
  };
  const c = new SigilClient({ url: GW, token: fixture.token, retries: 0, retryDelayMs: 1, fetch: timed });
  const req = order();
  const res = await c.sign(KEY.key_id, req);
  assert.deepEqual(calls.map((x) => x.gw), [0, 1, 1, 1]);
  assert.equal(new Set(calls.map((x) => x.idem)).size, 1);
  // a lower bound the client enforces (setTimeout never fires early), not a speed measurement
  for (const i of [2, 3]) assert.ok(at[i] - at[i - 1] >= 249, `poll ${i}: ${at[i] - at[i - 1]} ms`);
  await checkSigned(res, req);
  assert.equal(rowsOf(await auditAfter(since), req).length, 1);
  // ... but only for inProgressWaitMs
  const busy = scripted([reset(), ...Array(50).fill(IN_PROGRESS)]);
  const short = new SigilClient({ url: GW, token: fixture.token, retries: 0, inProgressWaitMs: 600, fetch: busy.fetchImpl });
  await assert.rejects(short.sign(KEY.key_id, order()), (e) => e instanceof ConflictError && /in progress/.test(e.message));
  assert.ok(busy.calls.length >= 3 && busy.calls.length <= 5, `${busy.calls.length} calls`);
});

test('every gateway down: UnavailableError after trying each', async () => {
  const c = new SigilClient({ url: [await closedUrl(), await closedUrl()], token: fixture.token, retries: 0 });
  await assert.rejects(c.listKeys(), UnavailableError);
});

/** A second sigil-gateway on the fixture's store and enclave; resolves to {url, proc, close}. */
async function secondGateway() {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-ts-gw-'));
  const ready = join(dir, 'gateway.ready');
  const proc = spawn(fixture.gateway_argv[0], [...fixture.gateway_argv.slice(1), '--ready-file', ready],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  proc.stderr.on('data', (d) => log.push(d.toString()));
  const close = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let url = null;
    for (let i = 0; i < 600 && url === null; i++) {
      if (proc.exitCode !== null) throw new Error(`the second gateway exited (${proc.exitCode}): ${log.join('')}`);
      try {
        url = JSON.parse(readFileSync(ready, 'utf8')).url;
      } catch {
        await sleep(100);
      }
    }
    const c = new SigilClient({ url, retries: 0 });
    for (let i = 0; ; i++) {
      try {
        await c.ready();
        break;
      } catch (e) {
        if (i >= 600) throw e;
        await sleep(100);
      }
    }
    return { url, proc, close };
  } catch (e) {
    close();
    throw e;
  }
}

test('a gateway killed mid-run: every request signed once, on the other gateway', { timeout: 300000 }, async () => {
  const since = await lastSeq();
  const a = await secondGateway();
  try {
    const seen = []; // {url, idem, outcome}
    const recording = async (url, init) => {
      const entry = { url, idem: init.headers['Idempotency-Key'], outcome: null };
      seen.push(entry);
      try {
        const r = await fetch(url, init);
        entry.outcome = r.status;
        return r;
      } catch (e) {
        entry.outcome = e?.cause?.code ?? e?.name;
        throw e;
      }
    };
    const c = new SigilClient({ url: [a.url, fixture.gateway], token: fixture.token, retries: 1, fetch: recording });
    const WORKERS = 4;
    const PER_WORKER = 10;
    const KILL_AFTER = 8; // signatures done when gateway A is killed
    const results = [];
    let done = 0;
    let killedAt = null;
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      for (let i = 0; i < PER_WORKER; i++) {
        const req = order();
        results.push({ req, res: await c.sign(KEY.key_id, req) });
        if (++done === KILL_AFTER) {
          killedAt = seen.length;
          a.proc.kill('SIGKILL');
        }
      }
    }));
    assert.equal(a.proc.signalCode ?? (await new Promise((resolve) => a.proc.once('exit', (_, sig) => resolve(sig)))), 'SIGKILL');
    assert.equal(results.length, WORKERS * PER_WORKER);
    assert.equal(c.url, fixture.gateway, 'later calls go to the surviving gateway');
    // requests to A after the kill failed in transport and went on to B with their key
    const failedOnA = seen.filter((s) => s.url.startsWith(a.url) && typeof s.outcome !== 'number');
    assert.ok(seen.slice(0, killedAt).some((s) => s.url.startsWith(a.url) && s.outcome === 200), 'A served before the kill');
    assert.ok(failedOnA.length >= 1, 'a request met the dead gateway');
    for (const f of failedOnA) {
      assert.ok(seen.some((s) => s.idem === f.idem && s.url.startsWith(fixture.gateway) && s.outcome === 200),
        `${f.idem} was answered by the other gateway`);
    }
    const records = await auditAfter(since);
    for (const { req, res } of results) {
      await checkSigned(res, req);
      const rows = rowsOf(records, req);
      const signed = rows.filter((r) => r.status === 200);
      assert.equal(signed.length, 1, `one signing record for ${res.idempotencyKey}`);
      assert.equal(signed[0].receipt.signature, res.receipt.signature);
      assert.equal(signed[0].output_hash, sha256hex(res.signedText));
      // besides it only the "in progress" answers, each audited
      const busy = seen.filter((s) => s.idem === res.idempotencyKey && s.outcome === 409).length;
      assert.equal(rows.filter((r) => r.status === 409).length, busy, `409 rows of ${res.idempotencyKey}`);
      assert.equal(rows.length, 1 + busy);
    }
    const waited = seen.filter((s) => s.outcome === 409).length;
    console.log(`# killed mid-run: ${failedOnA.length} requests met the dead gateway, ${waited} "in progress" answers waited out`);
  } finally {
    a.close();
  }
});
