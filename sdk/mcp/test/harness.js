// The live stack (sdk/stack_fixture.py, started by run-tests.sh) and an MCP
// client connected over stdio to a fresh server process.
import { createHmac, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..');
export const SERVER = join(ROOT, 'src', 'server.js');
export const GUARD = join(HERE, 'guard.mjs');

const path = process.env.SIGIL_FIXTURE;
if (!path) throw new Error('SIGIL_FIXTURE is not set: run sdk/mcp/run-tests.sh BIN_DIR');
export const fixture = JSON.parse(readFileSync(path, 'utf8'));
export const K = fixture.keys;

/** The server's environment for the fixture's stack (overridable per test). */
export function stackEnv(extra = {}) {
  return { PATH: process.env.PATH, SIGIL_URL: fixture.gateway, SIGIL_TOKEN: fixture.token,
    SIGIL_ROOT: fixture.root_file, SIGIL_MEASUREMENT: fixture.measurement, ...extra };
}

/** Every credential string of the fixture: none may appear in tool output or server logs. */
export const SECRETS = Object.values(K).flatMap((k) => Object.entries(k.credentials)
  .filter(([name]) => name !== 'api_key').map(([, v]) => v))
  .concat([fixture.token, fixture.client_seed, fixture.owner_seed]);

/**
 * A server process with the test guard preloaded and an MCP client on its
 * stdio. env: the server's whole environment (default stackEnv()); allow:
 * extra origins it may fetch. Returns {client, call, fetched, stderr, close}.
 */
export async function connect({ env = stackEnv(), allow = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-mcp-test-'));
  const fetchLog = join(dir, 'fetch.log');
  const gateways = (env.SIGIL_URL || '').split(',').filter(Boolean).map((u) => new URL(u.trim()).origin);
  const origins = [...gateways, ...allow];
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', GUARD, SERVER],
    env: { ...env, SIGIL_TEST_FETCH_ALLOW: origins.join(','), SIGIL_TEST_FETCH_LOG: fetchLog },
    cwd: ROOT, stderr: 'pipe' });
  const errText = [];
  transport.stderr.on('data', (d) => errText.push(d.toString()));
  const client = new Client({ name: 'sigil-mcp-test', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    call: (name, args = {}) => client.callTool({ name, arguments: args }),
    /** venue calls the guard refused, one "METHOD origin/path" per line */
    fetched: () => (existsSync(fetchLog) ? readFileSync(fetchLog, 'utf8').split('\n').filter(Boolean) : []),
    stderr: () => errText.join(''),
    close: async () => {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts no fixture secret is in a text (tool output, logs). */
export function assertNoSecret(assert, text, what) {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} contains a secret`);
}

export const hmac = (key, msg, enc = 'hex') => createHmac('sha256', key).update(msg).digest(enc);
export const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
export const verifyOpts = (client) => ({ root: fixture.root_pem, measurement: fixture.measurement, client });
