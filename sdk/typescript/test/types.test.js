// The hand-written types (src/index.d.ts) compile, with a usage file, under the pinned typescript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sdk from '@sigil/sdk';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

test('tsc --noEmit accepts src/index.d.ts and test/types-check.ts', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('every runtime export is declared in src/index.d.ts', async () => {
  const { readFileSync } = await import('node:fs');
  const dts = readFileSync(join(ROOT, 'src/index.d.ts'), 'utf8');
  for (const name of Object.keys(sdk)) {
    assert.match(dts, new RegExp(`export (declare )?(class|function|const) ${name}\\b`), name);
  }
});
