// The live stack of sdk/stack_fixture.py (run-tests.sh starts it and sets SIGIL_FIXTURE).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { SigilClient } from '@sigil/sdk';

const path = process.env.SIGIL_FIXTURE;
if (!path) throw new Error('SIGIL_FIXTURE is not set: run sdk/typescript/run-tests.sh BIN_DIR');
export const fixture = JSON.parse(readFileSync(path, 'utf8'));

export function client(extra = {}) {
  return new SigilClient({ url: fixture.gateway, token: fixture.token, timeoutMs: 30000, ...extra });
}

/** A URL where nothing listens (bound to port 0, then closed): connecting is refused. */
export async function closedUrl() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** The seed of the sampled tests: SIGIL_TEST_SEED, default 1. */
export const SEED = Number(process.env.SIGIL_TEST_SEED ?? 1);

/** A deterministic PRNG (mulberry32), seeded from SEED and a per-test stream number. */
export function prng(stream) {
  let a = (SEED * 0x9e3779b1 + stream) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
