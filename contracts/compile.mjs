#!/usr/bin/env node
// Compiles SigilMeasurementRegistry.sol with the pinned solcjs (npm `solc`,
// see package-lock.json) through its standard-JSON interface and writes
// build/SigilMeasurementRegistry.json: { contractName, compiler, settings,
// abi, bytecode, deployedBytecode, sourceSha256 }.
//
//   node compile.mjs [OUT_DIR]          (default: build/ beside this file)
//
// Any compiler error or warning fails the build (exit 1): the contract is small
// enough to keep warning-free, and a new warning after a compiler bump is worth
// a look before deploying.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';

const HERE = dirname(fileURLToPath(import.meta.url));
const NAME = 'SigilMeasurementRegistry';
const SOURCE = `${NAME}.sol`;
const outDir = resolve(process.argv[2] ?? join(HERE, 'build'));

// cancun: the newest EVM every chain we expect to deploy on (Ethereum, the
// OP-stack L2s such as Base) has run for a long time; anvil runs it too.
const SETTINGS = {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { [SOURCE]: { [NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
};

const source = readFileSync(join(HERE, SOURCE), 'utf8');
const input = { language: 'Solidity', sources: { [SOURCE]: { content: source } }, settings: SETTINGS };
const output = JSON.parse(solc.compile(JSON.stringify(input)));

const problems = output.errors ?? [];
for (const p of problems) process.stderr.write(p.formattedMessage ?? `${p.severity}: ${p.message}\n`);
if (problems.length > 0) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    process.stderr.write(`compile: ${errors} error(s), ${problems.length - errors} warning(s)/info: refusing to write output\n`);
    process.exit(1);
}

const c = output.contracts?.[SOURCE]?.[NAME];
if (!c || !c.evm?.bytecode?.object) {
    process.stderr.write(`compile: no bytecode for ${NAME}\n`);
    process.exit(1);
}

const artifact = {
    contractName: NAME,
    compiler: { name: 'solcjs', version: solc.version() },
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
    sourceSha256: createHash('sha256').update(source).digest('hex'),
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
};

mkdirSync(outDir, { recursive: true });
const out = join(outDir, `${NAME}.json`);
writeFileSync(`${out}.tmp`, `${JSON.stringify(artifact, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
process.stdout.write(
    `compile: ${out} (solc ${solc.version()}, ${(artifact.deployedBytecode.length - 2) / 2} bytes deployed)\n`,
);
