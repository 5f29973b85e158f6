// Test helpers: the node run.sh started, fresh registries, revert decoding and
// a gas table. Not a test file (node --test picks up *.test.mjs only).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BaseError, ContractFunctionRevertedError, bytesToHex } from 'viem';
import { anvilKeys, connect, deployRegistry } from '../lib/registry.mjs';

function env(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run these tests through contracts/run.sh`);
    return v;
}

/// The fixture run.sh wrote, a connection to its node, and wallets for
/// anvil's dev accounts `first`..`first+count-1` (files use disjoint ranges
/// so node --test may run them in parallel without nonce races).
export async function setup(first, count) {
    const fixture = JSON.parse(readFileSync(env('SIGIL_REGISTRY_FIXTURE'), 'utf8'));
    const keys = anvilKeys(env('SIGIL_ANVIL_CONFIG'));
    const conn = await connect(fixture.rpc);
    const wallets = keys.slice(first, first + count).map((k) => conn.wallet(k));
    return { fixture, ...conn, wallets };
}

/// A registry of its own for one test; `from` pays for it.
export async function freshRegistry(pub, from) {
    return (await deployRegistry(pub, from)).address;
}

/// Random 48 bytes as 0x-hex.
export const randomMeasurement = () => bytesToHex(randomBytes(48));

/// Runs `action` (a promise-returning function) and checks that it reverts with
/// the custom error `errorName` and exactly `args` (decoded with the ABI).
export async function expectRevert(action, errorName, args) {
    let err;
    try {
        await action();
    } catch (e) {
        err = e;
    }
    assert.ok(err, `expected a revert with ${errorName}, got success`);
    assert.ok(err instanceof BaseError, `expected a viem error, got ${err}`);
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    assert.ok(reverted, `expected a contract revert with ${errorName}, got: ${err.shortMessage ?? err.message}`);
    assert.equal(reverted.data?.errorName, errorName, `revert reason: ${reverted.shortMessage}`);
    assert.deepEqual(reverted.data.args, args);
}

/// Gas figures collected while testing, printed once at the end.
const gas = new Map();
export function recordGas(label, amount) {
    gas.set(label, BigInt(amount));
}
export function printGas(title) {
    const width = Math.max(...[...gas.keys()].map((k) => k.length));
    const lines = [...gas].map(([k, v]) => `  ${k.padEnd(width)}  ${v.toString().padStart(9)}`);
    process.stdout.write(`${title}\n${lines.join('\n')}\n`);
}
