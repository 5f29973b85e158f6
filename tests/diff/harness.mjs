#!/usr/bin/env node
// Differential conformance harness: random cases per venue from a fixed seed,
// expected answers from independent libraries (ccxt, ethers, @nktkas/hyperliquid,
// the official hyperliquid-python-sdk, eth_account), compared with `sigil sign`.
// Usage: node harness.mjs --sigil BIN [--seed S] [--cases N] [--venues a,b]
//          [--python PY] [--jobs J] [--show K] [--strict] [--only label:index]
//          [--oracles-only]
// See README.md. Closing line: "<cases passed> passed, <cases failed> failed".
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync, rmSync, existsSync, mkdirSync, accessSync, copyFileSync, chmodSync, constants as FS } from 'node:fs';
import { createHash } from 'node:crypto';
import { Rng } from './lib/prng.mjs';
import { stringify } from './lib/json.mjs';
import { runProcess, mapPool } from './lib/pool.mjs';
import { compareOutput, loadDocumentedCodes } from './lib/compare.mjs';
import { OracleDisagreement } from './lib/cex.mjs';
import * as binance from './venues/binance.mjs';
import * as bybit from './venues/bybit.mjs';
import * as okx from './venues/okx.mjs';
import { kucoinfutures, kucoin } from './venues/kucoin.mjs';
import { hyperliquid, hyperliquidUser } from './venues/hyperliquid.mjs';
import * as aster from './venues/aster.mjs';
import * as eip712 from './venues/eip712.mjs';
import * as eip191 from './venues/eip191.mjs';
import * as deribit from './venues/deribit.mjs';
import * as bitfinex from './venues/bitfinex.mjs';
import * as binanceWs from './venues/binance_ws.mjs';
import * as kraken from './venues/kraken.mjs';
import * as bitget from './venues/bitget.mjs';
import * as gate from './venues/gate.mjs';
import * as coinbase from './venues/coinbase.mjs';
import * as dydx from './venues/dydx.mjs';
import * as paradex from './venues/paradex.mjs';
import { selfTest } from './selftest.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const GENERATORS = [binance, bybit, okx, kucoinfutures, kucoin, hyperliquid, hyperliquidUser, aster, eip712, eip191, deribit, bitfinex, binanceWs];
GENERATORS.push(kraken, bitget, gate, coinbase);
GENERATORS.push(dydx);
GENERATORS.push(paradex);

function parseArgs(argv) {
  const a = { seed: '1', cases: 300, venues: null, python: process.env.DIFF_PYTHON || 'python3', jobs: Math.max(2, os.cpus().length * 2),
    show: 3, strict: process.env.DIFF_STRICT === '1', only: null, oraclesOnly: false, sigil: null,
    shared: process.env.SIGIL_SHARED_DIR || path.resolve(REPO, '..', 'shared'), out: process.env.DIFF_OUT || path.join(REPO, 'build', 'diff-out') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--sigil') a.sigil = v();
    else if (k === '--seed') a.seed = v();
    else if (k === '--cases') a.cases = Number(v());
    else if (k === '--venues') a.venues = v().split(',').map((s) => s.trim()).filter(Boolean);
    else if (k === '--python') a.python = v();
    else if (k === '--jobs') a.jobs = Number(v());
    else if (k === '--show') a.show = Number(v());
    else if (k === '--strict') a.strict = true;
    else if (k === '--only') a.only = v();
    else if (k === '--oracles-only') a.oraclesOnly = true;
    else if (k === '--shared') a.shared = v();
    else if (k === '--out') a.out = v();
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.cases) || a.cases < 1) throw new Error('--cases must be a positive integer');
  if (process.env.DIFF_VENUES && !a.venues) a.venues = process.env.DIFF_VENUES.split(',').map((s) => s.trim()).filter(Boolean);
  return a;
}

function redactedCreds(c) {
  if (c.credsPublic) return c.credFile;
  const r = {};
  for (const [k, v] of Object.entries(c.credFile)) r[k] = (k === 'api_key' || k === 'key_type') ? v : `<${c.credsDesc}: derived from the seed, not printed>`;
  return r;
}

// Strings that must never appear in sigil's output.
function secretNeedles(cred) {
  const out = [];
  if (typeof cred.secret === 'string') {
    if (cred.secret.includes('PRIVATE KEY')) out.push(cred.secret.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '').slice(-40));
    else out.push(cred.secret);
  }
  if (typeof cred.private_key === 'string') out.push(cred.private_key.replace(/^0x/, ''));
  return out;
}

function commandLine(c, args) {
  return ['sigil', 'sign', '--venue', c.venue, '--credentials', 'CREDS.json', ...(c.network ? ['--network', c.network] : [])].join(' ');
}

async function runPython(args, jobs) {
  if (!jobs.length) return [];
  const input = jobs.map((j) => stringify(j)).join('\n') + '\n';
  const res = await runProcess(args.python, [path.join(HERE, 'oracle', 'py_oracle.py')], input, { timeoutMs: 600000 });
  if (res.code !== 0) throw new Error(`python oracle failed (${args.python}): exit ${res.code}\n${res.stderr}`);
  const lines = res.stdout.trim().split('\n').filter(Boolean);
  if (lines.length !== jobs.length) throw new Error(`python oracle answered ${lines.length} of ${jobs.length} jobs\n${res.stderr}`);
  return lines.map((l) => JSON.parse(l));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  if (!args.oraclesOnly) {
    if (!args.sigil) throw new Error('--sigil BIN is required (or --oracles-only)');
    try { accessSync(args.sigil, FS.X_OK); } catch { throw new Error(`sigil binary not found or not executable: ${args.sigil}`); }
  }
  const sharedDir = existsSync(args.shared) ? args.shared : null;
  loadDocumentedCodes(path.join(REPO, 'docs', 'CLI.md'));

  // 0. the oracles themselves against the committed known-answer vectors
  if (sharedDir && !args.only) {
    const st = await selfTest(sharedDir, args);
    console.log(`oracle self-test: ${st.checked} known-answer vectors reproduced (${st.skipped} skipped)`);
  } else if (!sharedDir) {
    console.log(`oracle self-test: skipped (no shared/ directory at ${args.shared})`);
  }

  // 1. generate the cases and their expected answers
  const ctxCache = new Map();
  const ctx = {
    seed: args.seed, sharedDir,
    keyRng: (label, idx) => new Rng(args.seed, 'key', label, idx),
    cached: (k, f) => { if (!ctxCache.has(k)) ctxCache.set(k, f()); return ctxCache.get(k); },
  };
  let gens = GENERATORS;
  if (args.venues) {
    const unknown = args.venues.filter((v) => !GENERATORS.some((g) => g.label === v));
    if (unknown.length) throw new Error(`unknown venue label(s): ${unknown.join(', ')}; known: ${GENERATORS.map((g) => g.label).join(', ')}`);
    gens = GENERATORS.filter((g) => args.venues.includes(g.label));
  }
  let only = null;
  if (args.only) {
    const [label, idx] = args.only.split(':');
    only = { label, idx: Number(idx) };
    gens = GENERATORS.filter((g) => g.label === label);
    if (!gens.length) throw new Error(`--only: unknown label ${label}`);
  }
  const cases = [];
  for (const g of gens) {
    const idxs = only ? [only.idx] : Array.from({ length: args.cases }, (_, i) => i);
    for (const i of idxs) {
      const rng = new Rng(args.seed, g.label, i);
      let c;
      try {
        c = await g.makeCase(rng, i, ctx);
      } catch (e) {
        if (e instanceof OracleDisagreement) {
          console.error(`ORACLE DISAGREEMENT in ${g.label} case ${i} (seed ${args.seed}):\n${e.message}`);
          process.exit(3);
        }
        throw new Error(`generator ${g.label} case ${i} (seed ${args.seed}): ${e.stack || e}`);
      }
      c.label = g.label;
      c.secretNeedles = secretNeedles(c.credFile);
      c.index = i;
      c.requestText = stringify(c.request, { asciiOnly: !!c.asciiRequest });
      cases.push(c);
    }
  }
  const pyCases = cases.filter((c) => c.py);
  const pyAnswers = await runPython(args, pyCases.map((c, k) => ({ id: k, ...c.py })));
  for (let k = 0; k < pyCases.length; k++) {
    const c = pyCases[k];
    try {
      c.finish(pyAnswers[k]);
    } catch (e) {
      console.error(`ORACLE DISAGREEMENT in ${c.label} case ${c.index} (seed ${args.seed}):\n${e.message}\n  request: ${c.requestText}`);
      process.exit(3);
    }
  }
  const tGen = Date.now() - t0;
  if (args.oraclesOnly) {
    for (const g of gens) console.log(`${g.label}: ${cases.filter((c) => c.label === g.label).length} cases generated, oracles agree`);
    console.log(`oracles only: ${cases.length} cases in ${(tGen / 1000).toFixed(1)}s`);
    return 0;
  }

  // 2. run sigil
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sigil-diff-'));
  // run a snapshot of the binary: a rebuild during the run must not change it under us
  const sigilBin = path.join(tmp, 'sigil');
  copyFileSync(args.sigil, sigilBin);
  chmodSync(sigilBin, 0o700);
  const credPaths = new Map();
  const credPath = (c) => {
    const text = JSON.stringify(c.credFile);
    const h = createHash('sha256').update(text).digest('hex').slice(0, 24);
    if (!credPaths.has(h)) {
      const p = path.join(tmp, `cred-${h}.json`);
      writeFileSync(p, text, { mode: 0o600 });
      credPaths.set(h, p);
    }
    return credPaths.get(h);
  };
  let results;
  try {
    results = await mapPool(cases, args.jobs, async (c) => {
      const argv = ['sign', '--venue', c.venue, '--credentials', credPath(c)];
      if (c.network) argv.push('--network', c.network);
      const res = await runProcess(sigilBin, argv, c.requestText, { timeoutMs: 5000 });
      return { res, cmp: compareOutput(c, res) };
    });
    if (only) {
      const dir = path.join(args.out, `case-${only.label}-${only.idx}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'request.json'), cases[0].requestText);
      writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify(cases[0].credFile), { mode: 0o600 });
      console.log(`case files written to ${dir} (credentials.json holds the key: do not share it)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // 3. report
  let passed = 0, failed = 0, cosmeticTotal = 0, shown = 0;
  const failures = [];
  for (const g of gens) {
    const mine = cases.map((c, k) => [c, results[k]]).filter(([c]) => c.label === g.label);
    let bad = 0, cosm = 0;
    const kinds = {};
    for (const [c, r] of mine) {
      const isFail = r.cmp.status === 'fail' || (args.strict && r.cmp.status === 'cosmetic');
      if (r.cmp.status === 'cosmetic') {
        cosm++;
        for (const n of r.cmp.notes.filter((x) => x.startsWith('cosmetic: '))) kinds[n] = (kinds[n] || 0) + 1;
      }
      if (isFail) { bad++; failures.push([c, r]); }
    }
    passed += mine.length - bad;
    failed += bad;
    cosmeticTotal += cosm;
    console.log(`${g.label}: ${mine.length} cases, ${bad} mismatches${cosm ? `, ${cosm} cosmetic differences${args.strict ? ' (counted as mismatches: --strict)' : ' (accepted)'}` : ''}`);
    for (const [n, k] of Object.entries(kinds)) console.log(`    ${k} x ${n}`);
  }
  const perLabelShown = {};
  for (const [c, r] of failures) {
    if (shown >= Math.max(args.show * 5, args.show)) break;
    if ((perLabelShown[c.label] = (perLabelShown[c.label] || 0) + 1) > args.show) continue;
    shown++;
    console.log(`\n--- MISMATCH ${c.label} case ${c.index} (seed ${args.seed}) — ${c.info}`);
    console.log(`  reproduce: tests/diff/run.sh SIGIL ${args.seed} (or: node tests/diff/harness.mjs --sigil SIGIL --seed ${args.seed} --only ${c.label}:${c.index})`);
    console.log(`  command:   ${commandLine(c)}`);
    console.log(`  credentials: ${JSON.stringify(redactedCreds(c))}`);
    console.log(`  request:   ${c.requestText}`);
    console.log(`  expected:  ${c.compare === 'hl' ? c.expect.text : c.compare === 'error' ? `refusal, exit 2, code ${c.expect.code ?? 'any documented'} (${c.expect.why})` : JSON.stringify(c.expect)}`);
    console.log(`  got (exit ${r.res.code}): ${r.res.stdout.trim() || '(no stdout)'}`);
    if (r.res.stderr.trim()) console.log(`  stderr:    ${r.res.stderr.trim().slice(0, 2000)}`);
    for (const n of r.cmp.notes) console.log(`  - ${n}`);
  }
  const cosmetics = cases.map((c, k) => [c, results[k]]).filter(([, r]) => r.cmp.status === 'cosmetic');
  if (cosmetics.length) {
    try {
      mkdirSync(args.out, { recursive: true });
      const f = path.join(args.out, `cosmetic-seed${args.seed}.jsonl`);
      writeFileSync(f, cosmetics.map(([c, r]) => JSON.stringify({ label: c.label, index: c.index, info: c.info, request: c.requestText,
        expected: c.compare === 'hl' ? c.expect.text : c.expect, stdout: r.res.stdout, notes: r.cmp.notes })).join('\n') + '\n');
      console.log(`cosmetic differences: ${f}`);
    } catch (e) {
      console.log(`(could not write the cosmetic file: ${e.message})`);
    }
  }
  if (failures.length) {
    try {
      mkdirSync(args.out, { recursive: true });
      const f = path.join(args.out, `mismatches-seed${args.seed}.jsonl`);
      writeFileSync(f, failures.map(([c, r]) => JSON.stringify({ label: c.label, index: c.index, venue: c.venue, network: c.network ?? null,
        info: c.info, credentials: redactedCreds(c), request: c.requestText, expected: c.compare === 'hl' ? c.expect.text : c.expect,
        exit: r.res.code, stdout: r.res.stdout, stderr: r.res.stderr, notes: r.cmp.notes })).join('\n') + '\n');
      console.log(`\nall ${failures.length} mismatches: ${f}`);
    } catch (e) {
      console.log(`(could not write the mismatch file: ${e.message})`);
    }
  }
  console.log(`\nseed ${args.seed}, ${args.cases} cases per venue, ${cases.length} cases, ${cosmeticTotal} cosmetic, ${((Date.now() - t0) / 1000).toFixed(1)}s (generation ${(tGen / 1000).toFixed(1)}s)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`harness error: ${e.stack || e}`);
  process.exit(2);
});
