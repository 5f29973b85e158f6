// The README's quickstart and MCP client configuration, extracted and run
// against the live stack; the configuration errors it promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { assertNoSecret, fixture, GUARD, hmac, K, ROOT, SERVER, stackEnv } from './harness.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function block(tag) {
  const m = new RegExp('```' + tag + '\\n([\\s\\S]*?)```').exec(README);
  assert.ok(m, `README has a \`\`\`${tag} block`);
  return m[1];
}

test('README quickstart: ten lines, runs, signs with the sealed secret, nothing sent', () => {
  const code = block('js quickstart');
  assert.equal(code.trim().split('\n').length, 10);
  const file = join(ROOT, `.quickstart-${process.pid}.mjs`); // in the package: imports resolve as for a user
  writeFileSync(file, code);
  const fetchLog = join(ROOT, `.quickstart-${process.pid}.fetch`);
  try {
    const out = execFileSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', env: { ...stackEnv(),
      SIGIL_KEY_ID: K.binance.key_id, NODE_OPTIONS: `--import=${GUARD}`,
      SIGIL_TEST_FETCH_ALLOW: new URL(fixture.gateway).origin, SIGIL_TEST_FETCH_LOG: fetchLog } });
    const m = /^allow true POST \/api\/v3\/order (symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0\.001&price=30000&timeInForce=GTC&timestamp=\d+)&signature=([0-9a-f]{64})\n$/.exec(out);
    assert.ok(m, out);
    assert.equal(m[2], hmac(K.binance.credentials.secret, m[1]));
    assert.throws(() => readFileSync(fetchLog), { code: 'ENOENT' }, 'no venue call');
  } finally {
    rmSync(file, { force: true });
    rmSync(fetchLog, { force: true });
  }
});

test('README mcpServers snippet: starts the server with the environment it documents', async () => {
  const config = JSON.parse(block('json mcp-config'));
  const entry = config.mcpServers.sigil;
  assert.equal(entry.command, 'node');
  assert.match(entry.args[0], /\/sdk\/mcp\/src\/server\.js$/);
  const values = { SIGIL_URL: fixture.gateway, SIGIL_TOKEN: fixture.token, SIGIL_ROOT: fixture.root_file,
    SIGIL_MEASUREMENT: fixture.measurement, SIGIL_CLIENT_KEY_FILE: fixture.client_key_file };
  assert.deepEqual(Object.keys(entry.env).sort(), Object.keys(values).sort());
  const configJs = readFileSync(join(ROOT, 'src', 'config.js'), 'utf8');
  for (const name of Object.keys(entry.env)) {
    assert.ok(configJs.includes(`env.${name}`), `${name}: read by src/config.js`);
    assert.ok(README.split('\n').some((l) => l.startsWith('| ') && l.includes(`\`${name}\``)), `${name}: in the README's table`);
  }
  const env = { ...Object.fromEntries(Object.keys(entry.env).map((k) => [k, values[k]])), PATH: process.env.PATH,
    NODE_OPTIONS: `--import=${GUARD}`, SIGIL_TEST_FETCH_ALLOW: new URL(fixture.gateway).origin };
  const transport = new StdioClientTransport({ command: entry.command, args: [SERVER, ...entry.args.slice(1)], env, stderr: 'pipe' });
  const client = new Client({ name: 'readme-config', version: '0.0.0' });
  await client.connect(transport);
  try {
    const keys = (await client.callTool({ name: 'list_keys', arguments: {} })).structuredContent.keys;
    assert.ok(keys.some((k) => k.key_id === K.binance_client.key_id));
    const att = await client.callTool({ name: 'get_attestation', arguments: {} });
    assert.equal(att.structuredContent.verified, true, att.content[0].text);
    // the client key file of the snippet signs for the key that binds it
    const o = await client.callTool({ name: 'place_order', arguments: { key_id: K.binance_client.key_id,
      symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.01', price: '30000' } });
    assert.ok(!o.isError, o.content[0].text);
    assert.equal(o.structuredContent.receipt_check.verified, true);
  } finally {
    await client.close();
  }
});

test('bad configuration: exit 2, one line naming the variable, no secret echoed', () => {
  const token = `sgl_${'a'.repeat(16)}_${'b'.repeat(64)}`;
  const cases = [
    [{}, /SIGIL_URL/],
    [{ SIGIL_URL: fixture.gateway }, /SIGIL_TOKEN/],
    [{ SIGIL_URL: fixture.gateway, SIGIL_TOKEN: token, SIGIL_MEASUREMENT: 'xyz' }, /SIGIL_MEASUREMENT/],
    [{ SIGIL_URL: fixture.gateway, SIGIL_TOKEN: token, SIGIL_ROOT: '/nonexistent/root.pem' }, /SIGIL_ROOT.*ENOENT/],
    [{ SIGIL_URL: fixture.gateway, SIGIL_TOKEN: token, SIGIL_CLIENT_KEY_FILE: fixture.root_file }, /SIGIL_CLIENT_KEY_FILE.*JSON/],
    [{ SIGIL_URL: fixture.gateway, SIGIL_TOKEN: token, SIGIL_VENUE_URLS: '{"bybit":"ftp://x"}' }, /SIGIL_VENUE_URLS\.bybit/],
  ];
  for (const [env, msg] of cases) {
    const r = spawnSync(process.execPath, [SERVER], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', input: '' });
    assert.equal(r.status, 2, JSON.stringify(env));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, msg);
    assert.ok(!r.stderr.includes('b'.repeat(64)));
    assertNoSecret(assert, r.stderr, 'stderr');
  }
});
