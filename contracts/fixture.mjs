#!/usr/bin/env node
// Deploys a registry to a local node and leaves it in a known state for the
// client tests (tests/registry/, C) and test/fixture.test.mjs, then writes
// the fixture file describing it (format: contracts/README.md).
//
//   node fixture.mjs --rpc URL --anvil-config FILE --out FILE
//
// State: the canonical owner has `active` registered and `deprecated`
// registered-then-deprecated. The other owner registers `other_owner_only`,
// squats on `deprecated` after the canonical owner deprecated it (the attack
// the first registry fell to), and registers and deprecates `active`. None of
// that changes the canonical owner's answers, which is what clients must show.
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { anvilKeys, connect, deployRegistry, plainHex, read, send } from './lib/registry.mjs';

const { values: opt } = parseArgs({
    options: { rpc: { type: 'string' }, 'anvil-config': { type: 'string' }, out: { type: 'string' } },
});
if (!opt.rpc || !opt['anvil-config'] || !opt.out) {
    process.stderr.write('usage: node fixture.mjs --rpc URL --anvil-config FILE --out FILE\n');
    process.exit(2);
}

// anvil's dev accounts 1 and 2 (0 is left to deploy/registry's own test).
const keys = anvilKeys(opt['anvil-config']);
const canonicalKey = keys[1];
const otherKey = keys[2];

const sha384 = (label) => `0x${createHash('sha384').update(`sigil-registry-fixture/${label}`).digest('hex')}`;
const sha256 = (label) => `0x${createHash('sha256').update(`sigil-registry-fixture/${label}`).digest('hex')}`;
const M = { active: sha384('active'), deprecated: sha384('deprecated'), other_owner_only: sha384('other_owner_only') };

const { chain, pub, wallet } = await connect(opt.rpc);
const canonical = wallet(canonicalKey);
const other = wallet(otherKey);
const { address } = await deployRegistry(pub, canonical);

const entries = {};
async function register(w, name, label) {
    const buildHash = sha256(`build/${label}`);
    const description = `fixture ${label} (${name})`;
    await send(pub, w, address, 'register', [M[label], buildHash, description]);
    entries[label] ??= { build_hash: buildHash, description }; // the first registrant's
}

await register(canonical, 'canonical', 'active');
await register(canonical, 'canonical', 'deprecated');
await send(pub, canonical, address, 'deprecate', [M.deprecated]);
await register(other, 'other', 'other_owner_only');
await register(other, 'other', 'deprecated');
await register(other, 'other', 'active');
await send(pub, other, address, 'deprecate', [M.active]);

// The file promises these answers: check them before anyone relies on them.
const expect = [
    [canonical, 'active', true],
    [canonical, 'deprecated', false],
    [canonical, 'other_owner_only', false],
    [other, 'active', false],
    [other, 'deprecated', true],
    [other, 'other_owner_only', true],
];
for (const [w, label, want] of expect) {
    const got = await read(pub, address, 'isActive', [w.account.address, M[label]]);
    if (got !== want) throw new Error(`fixture: isActive(${w.account.address}, ${label}) = ${got}, want ${want}`);
}

const fixture = {
    rpc: opt.rpc,
    chain_id: chain.id,
    contract: address,
    owners: {
        canonical: { address: canonical.account.address, private_key: canonicalKey },
        other: { address: other.account.address, private_key: otherKey },
    },
    measurements: Object.fromEntries(Object.entries(M).map(([k, v]) => [k, plainHex(v)])),
    // The first registrant's build hash and description: the canonical owner's,
    // except for other_owner_only (the other owner's).
    entries,
};
writeFileSync(`${opt.out}.tmp`, `${JSON.stringify(fixture, null, 2)}\n`);
renameSync(`${opt.out}.tmp`, opt.out);
process.stdout.write(`fixture: registry ${address} on chain ${chain.id}, ${opt.out}\n`);
