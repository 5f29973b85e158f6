// Attestation and receipt verification (flipped bytes, wrong measurement,
// untrusted root, chain), the sealed box against libsodium, and provisioning
// of a fresh key through the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttestationError, ReceiptError, SigilClient, parseReceipt, provision, receiptCanonical,
  receiptHash, sealedBox, verifyAttestation, verifyReceipt,
} from '@sigil/sdk';
import { client, fixture, prng } from './fixture.js';

const K = fixture.keys;
const ROOT = fixture.root_pem;
const M = fixture.measurement;
const otherMeasurement = (m) => (m[0] === '0' ? '1' : '0') + m.slice(1);

function otherDevRoot() {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-ts-root-'));
  try {
    execFileSync(join(fixture.bin_dir, 'sigil-launch'), ['--state', dir, '--init'], { stdio: 'ignore' });
    return readFileSync(join(dir, 'root.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signOnce(c, key = K.binance) {
  const ts = Date.now();
  return c.sign(key.key_id, { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts });
}

test('attestation: a fresh document verifies; every flipped byte is refused', async () => {
  const c = client();
  const nonce = randomBytes(32);
  const att = await c.getAttestation(nonce);
  const doc = new Uint8Array(Buffer.from(att.document, 'base64'));
  const ok = verifyAttestation(doc, { root: ROOT, measurement: M, nonce });
  assert.equal(ok.bootId, att.boot_id);
  assert.equal(Buffer.from(ok.sealingKey).toString('hex'), att.sealing_key);
  assert.equal(Buffer.from(ok.receiptKey).toString('hex'), att.receipt_key);
  let refused = 0;
  for (let i = 0; i < doc.length; i++) {
    const bad = doc.slice();
    bad[i] ^= 0x01;
    assert.throws(() => verifyAttestation(bad, { root: ROOT, measurement: M, nonce }), AttestationError, `byte ${i}`);
    refused++;
  }
  const rnd = prng(1);
  for (let n = 0; n < 256; n++) {
    const bad = doc.slice();
    bad[Math.floor(rnd() * doc.length)] ^= 1 + Math.floor(rnd() * 255);
    assert.throws(() => verifyAttestation(bad, { root: ROOT, measurement: M, nonce }), AttestationError);
  }
  assert.equal(refused, doc.length);
});

test('attestation: wrong measurement, untrusted roots, wrong nonce, stale document are refused', async () => {
  const c = client();
  const nonce = randomBytes(32);
  const { document } = await c.getAttestation(nonce);
  const msg = (re) => (e) => e instanceof AttestationError && re.test(e.message);
  assert.throws(() => verifyAttestation(document, { root: ROOT, measurement: otherMeasurement(M), nonce }), msg(/measurement/));
  assert.throws(() => verifyAttestation(document, { root: otherDevRoot(), measurement: M, nonce }), msg(/chain/));
  assert.throws(() => verifyAttestation(document, { root: 'aws', measurement: M, nonce }), msg(/chain/));
  assert.throws(() => verifyAttestation(document, { root: ROOT, measurement: M, nonce: randomBytes(32) }), msg(/nonce/));
  assert.throws(() => verifyAttestation(document, { root: ROOT, measurement: M, nonce, time: Date.now() + 6 * 60 * 1000 }), msg(/older/));
  assert.equal(verifyAttestation(document, { root: ROOT, measurement: M, nonce }).measurement, M);
});

test('receipt: verifies offline; chain prev links consecutive receipts', async () => {
  const c = client();
  const r1 = (await signOnce(c)).receipt;
  const r2 = (await signOnce(c)).receipt;
  const { document } = await c.getBootDocument(r1.boot_id);
  const ok1 = await verifyReceipt(r1, { root: ROOT, measurement: M, document });
  assert.equal(ok1.hash, receiptHash(r1));
  if (r2.seq === r1.seq + 1) {
    assert.equal((await verifyReceipt(r2, { root: ROOT, measurement: M, document, prev: r1 })).seq, r1.seq + 1);
  }
  await assert.rejects(verifyReceipt(r1, { root: ROOT, measurement: M, document, prev: r2 }), ReceiptError);
});

test('receipt: every flipped byte of the wire text, wrong measurement and untrusted root are refused', async () => {
  const c = client();
  const res = await signOnce(c);
  const start = res.text.indexOf('"receipt":') + 10;
  const wire = Buffer.from(res.text.slice(start, -1));
  const { document } = await c.getBootDocument(res.receipt.boot_id);
  const opts = { root: ROOT, measurement: M, document };
  assert.equal((await verifyReceipt(wire.toString(), opts)).seq, res.receipt.seq);
  assert.equal((await verifyReceipt(new Uint8Array(wire), opts)).seq, res.receipt.seq);
  for (let i = 0; i < wire.length; i++) {
    const bad = Buffer.from(wire);
    bad[i] ^= 0x01;
    await assert.rejects(verifyReceipt(new Uint8Array(bad), opts), ReceiptError, `byte ${i}: ${bad.toString()}`);
  }
  const rnd = prng(2);
  for (let n = 0; n < 128; n++) {
    const bad = Buffer.from(wire);
    bad[Math.floor(rnd() * wire.length)] ^= 1 + Math.floor(rnd() * 255);
    await assert.rejects(verifyReceipt(new Uint8Array(bad), opts), ReceiptError);
  }
  await assert.rejects(verifyReceipt(res.receipt, { ...opts, measurement: otherMeasurement(M) }), ReceiptError);
  await assert.rejects(verifyReceipt(res.receipt, { ...opts, root: otherDevRoot() }), ReceiptError);
  await assert.rejects(verifyReceipt(res.receipt, { ...opts, root: 'aws' }), ReceiptError);
  // another boot's document (a document for the same measurement, another boot id) is refused
  await assert.rejects(verifyReceipt({ ...res.receipt, boot_id: 'ab'.repeat(16) }, opts), ReceiptError);
  await assert.rejects(verifyReceipt(`{"a":1,"a":1}`, opts), (e) => e.code === 'duplicate_key');
});

test('receipt: the worked example of docs/RECEIPTS.md', () => {
  const wire = '{"action":"order","boot_id":"00112233445566778899aabbccddeeff","decision":"allow","key_id":"0123456789abcdef0123456789abcdef","measurement":"' +
    'ab'.repeat(48) + '","mode":"dev","network":"mainnet","output_hash":"' + '33'.repeat(32) + '","policy_hash":"' + '22'.repeat(32) +
    '","prev":"' + '0'.repeat(64) + '","request_hash":"' + '11'.repeat(32) + '","seq":1,"tenant":"acme","time":1767225600000,"v":1,"venue":"binance",' +
    '"signature":"356da573698a6a27365fa03fffc87b5f49d6666c69420aec4351ac8a2099e9d9ce719024a8c90ff2e590b06cc0415c99e32711394b035af8b7f339181526f405"}';
  const r = parseReceipt(wire);
  const canon = receiptCanonical(r);
  assert.equal(canon.length, 659);
  assert.equal(receiptHash(wire), '59af6ef6a3f98edd78c5a0ce28a35380334f35faa5042b51c04300e5d637ce6b');
  const pub = createPublicKey({ format: 'der', type: 'spki', key: Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from('2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12', 'hex')]) });
  assert.ok(verify(null, Buffer.concat([Buffer.from('sigil-receipt-v1\0'), canon]), pub, Buffer.from(r.signature, 'hex')));
});

const SODIUM_OPEN = `
import ctypes, ctypes.util, sys
s = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23"); assert s.sodium_init() >= 0
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
s.crypto_box_seed_keypair(pk, sk, bytes.fromhex(sys.argv[1]))
if len(sys.argv) == 2: print(pk.raw.hex()); sys.exit(0)
c = bytes.fromhex(sys.argv[2]); m = ctypes.create_string_buffer(len(c) - 48)
if s.crypto_box_seal_open(m, c, ctypes.c_ulonglong(len(c)), pk, sk) != 0: sys.exit(3)
print(m.raw.hex())
`;

test('sealed box: libsodium\'s crypto_box_seal_open opens it; a flipped byte does not', () => {
  const seed = 'c0'.repeat(32);
  const py = (...args) => execFileSync('python3', ['-c', SODIUM_OPEN, seed, ...args]).toString().trim();
  const pk = new Uint8Array(Buffer.from(py(), 'hex'));
  const rnd = prng(3);
  const msg = Buffer.from(Array.from({ length: 300 }, () => Math.floor(rnd() * 256)));
  const sealed = sealedBox(msg, pk);
  assert.equal(sealed.length, msg.length + 48);
  assert.equal(py(Buffer.from(sealed).toString('hex')), msg.toString('hex'));
  const bad = Buffer.from(sealed);
  bad[100] ^= 1;
  assert.throws(() => py(bad.toString('hex')));
});

test('provisioning through the SDK: a fresh key signs with the sealed secret and the client key', async () => {
  const c = client();
  const credentials = { api_key: `sdk-${randomBytes(6).toString('hex')}`, secret: randomBytes(16).toString('hex') };
  const policy = { version: 1, tenant: fixture.tenant, venue: 'binance', network: 'mainnet',
    actions: ['order', 'cancel', 'read', 'other'], not_after: fixture.not_after };
  const opts = { venue: 'binance', network: 'mainnet', credentials, policy, ownerKey: fixture.owner_seed,
    clientPubkey: fixture.client_pubkey, root: ROOT, measurement: M };
  const before = (await c.listKeys()).length;
  await assert.rejects(provision(c, { ...opts, measurement: otherMeasurement(M) }), AttestationError);
  await assert.rejects(provision(c, { ...opts, root: otherDevRoot() }), AttestationError);
  assert.equal((await c.listKeys()).length, before, 'nothing imported after a failed verification');
  const res = await provision(c, opts);
  assert.match(res.key_id, /^[0-9a-f]{32}$/);
  assert.equal(res.receipt.action, 'import');
  await verifyReceipt(res.receipt, { root: ROOT, measurement: M, client: c });
  const signer = new SigilClient({ url: fixture.gateway, token: fixture.token, clientKey: fixture.client_seed });
  const ts = Date.now();
  const out = await signer.sign(res.key_id, { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts });
  const hmac = createHmac('sha256', credentials.secret).update(`timestamp=${ts}`).digest('hex');
  assert.equal(out.signed.query, `timestamp=${ts}&signature=${hmac}`);
  assert.equal(out.signed.headers['X-MBX-APIKEY'], credentials.api_key);
  await c.deleteKey(res.key_id);
});

test('receipt: the same verdicts and output as `sigil receipt verify` (the CLI)', async () => {
  const c = client();
  const allowed = await signOnce(c);
  let denied;
  await c.sign(K.binance.key_id, { method: 'POST', path: '/sapi/v1/capital/withdraw/apply',
    body: `coin=BTC&address=bc1qsigil&amount=1&timestamp=${Date.now()}`, timestamp: Date.now() }).catch((e) => { denied = e.receipt; });
  assert.ok(denied, 'a denial with a receipt');
  const { document } = await c.getBootDocument(allowed.receipt.boot_id);
  const dir = mkdtempSync(join(tmpdir(), 'sigil-ts-cli-'));
  const cli = (wire) => {
    writeFileSync(join(dir, 'r.json'), wire);
    try {
      return JSON.parse(execFileSync(join(fixture.bin_dir, 'sigil'), ['receipt', 'verify', '--receipt', join(dir, 'r.json'),
        '--measurement', M, '--trust-dev-root', fixture.root_file, '--attestation', join(dir, 'doc.bin')],
      { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
    } catch {
      return null;
    }
  };
  const sdk = (wire) => verifyReceipt(wire, { root: ROOT, measurement: M, document }).catch(() => null);
  try {
    writeFileSync(join(dir, 'doc.bin'), Buffer.from(document, 'base64'));
    const wires = [JSON.stringify(allowed.receipt), JSON.stringify(denied)];
    const rnd = prng(4);
    for (const w of wires.slice()) {
      for (let n = 0; n < 24; n++) {
        const bad = Buffer.from(w);
        bad[Math.floor(rnd() * bad.length)] ^= 1 << Math.floor(rnd() * 7); // stays ASCII
        wires.push(bad.toString());
      }
    }
    for (const [i, w] of wires.entries()) {
      const want = cli(w);
      const got = await sdk(w);
      assert.deepEqual(got, want, `wire ${i}: ${w}`);
      if (i < 2) assert.ok(got?.ok, 'the genuine receipts verify');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
