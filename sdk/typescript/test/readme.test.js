// The README's examples, extracted and run against the live stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fixture } from './fixture.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const README = readFileSync(join(HERE, '..', 'README.md'), 'utf8');
const KEY = fixture.keys.binance;

function example(tag) {
  const m = new RegExp('```js ' + tag + '\\n([\\s\\S]*?)```').exec(README);
  assert.ok(m, `README has a \`\`\`js ${tag} block`);
  return m[1];
}

function run(tag, extraArgs = [], extraEnv = {}) {
  // inside the package, so `@sigil/sdk` and `ccxt` resolve as for a user
  const file = join(HERE, `.readme-${tag}-${process.pid}.mjs`);
  writeFileSync(file, example(tag));
  try {
    return execFileSync(process.execPath, [...extraArgs, file], { encoding: 'utf8', env: { ...process.env,
      SIGIL_URL: fixture.gateway, SIGIL_TOKEN: fixture.token, SIGIL_KEY_ID: KEY.key_id,
      SIGIL_ROOT: fixture.root_file, SIGIL_MEASUREMENT: fixture.measurement, ...extraEnv } });
  } finally {
    rmSync(file, { force: true });
  }
}

test('README quickstart: ten lines, runs, signs with the sealed secret, receipt verifies', () => {
  assert.equal(example('quickstart').trim().split('\n').length, 10);
  const out = run('quickstart').trim();
  const m = /^GET \/api\/v3\/account\?(timestamp=\d+)&signature=([0-9a-f]{64}) true$/.exec(out);
  assert.ok(m, out);
  assert.equal(m[2], createHmac('sha256', KEY.credentials.secret).update(m[1]).digest('hex'));
});

test('README ccxt example: the request ccxt sends is signed with the sealed secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-ts-readme-'));
  const capture = join(dir, 'requests.jsonl');
  try {
    writeFileSync(capture, '');
    run('ccxt', ['--import', join(HERE, 'offline-ccxt.mjs')],
      { SIGIL_CAPTURE: capture, BINANCE_API_KEY: KEY.credentials.api_key });
    const sent = readFileSync(capture, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(sent.length, 1);
    const [base, query] = sent[0].url.split('?');
    assert.equal(base, 'https://api.binance.com/api/v3/account');
    const [, unsigned, sig] = /^(.*)&signature=([0-9a-f]{64})$/.exec(query);
    assert.equal(sig, createHmac('sha256', KEY.credentials.secret).update(unsigned).digest('hex'));
    assert.equal(sent[0].headers['X-MBX-APIKEY'], KEY.credentials.api_key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
