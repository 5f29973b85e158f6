// The fixture file run.sh hands to the client tests says what is on chain:
// check every claim it makes, read-only, so a client failure points at the
// client and not at the fixture.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { getAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadArtifact, read } from '../lib/registry.mjs';
import { setup } from './helpers.mjs';

let fixture, pub;
before(async () => {
    ({ fixture, pub } = await setup(0, 0));
});

const hex96 = /^[0-9a-f]{96}$/;
const m = (label) => `0x${fixture.measurements[label]}`;

describe('fixture file', () => {
    it('has the promised shape', async () => {
        assert.equal(typeof fixture.rpc, 'string');
        assert.equal(fixture.chain_id, await pub.getChainId());
        assert.equal(fixture.contract, getAddress(fixture.contract));
        for (const who of ['canonical', 'other']) {
            const o = fixture.owners[who];
            assert.equal(privateKeyToAccount(o.private_key).address, o.address, `${who}: key and address agree`);
        }
        assert.notEqual(fixture.owners.canonical.address, fixture.owners.other.address);
        for (const label of ['active', 'deprecated', 'other_owner_only']) {
            assert.match(fixture.measurements[label], hex96, label);
        }
        assert.equal(new Set(Object.values(fixture.measurements)).size, 3);
    });

    it('points at the compiled registry', async () => {
        const code = await pub.getCode({ address: fixture.contract });
        assert.equal(code, loadArtifact().deployedBytecode);
    });

    it("matches the chain: the canonical owner's answers", async () => {
        const c = fixture.owners.canonical.address;
        const call = (fn, label) => read(pub, fixture.contract, fn, [c, m(label)]);
        assert.equal(await call('isActive', 'active'), true);
        assert.equal(await call('isActive', 'deprecated'), false);
        assert.equal(await call('isActive', 'other_owner_only'), false);

        const [exists, active, buildHash, description, registeredAt, deprecatedAt] = await call('getEntry', 'active');
        assert.deepEqual([exists, active, deprecatedAt], [true, true, 0n]);
        assert.equal(buildHash, fixture.entries.active.build_hash);
        assert.equal(description, fixture.entries.active.description);
        assert.ok(registeredAt > 0n);

        const dep = await call('getEntry', 'deprecated');
        assert.deepEqual(dep.slice(0, 4), [true, false, fixture.entries.deprecated.build_hash, fixture.entries.deprecated.description]);
        assert.ok(dep[5] >= dep[4] && dep[5] > 0n);

        assert.equal((await call('getEntry', 'other_owner_only'))[0], false);
        assert.equal(await read(pub, fixture.contract, 'historyLength', [c]), 2n);
        assert.equal((await read(pub, fixture.contract, 'historyAt', [c, 0n]))[0], m('active'));
        assert.equal((await read(pub, fixture.contract, 'historyAt', [c, 1n]))[0], m('deprecated'));
    });

    it("matches the chain: the other owner's answers differ", async () => {
        const o = fixture.owners.other.address;
        const call = (label) => read(pub, fixture.contract, 'isActive', [o, m(label)]);
        assert.equal(await call('other_owner_only'), true);
        assert.equal(await call('deprecated'), true); // squatted after the canonical owner deprecated it
        assert.equal(await call('active'), false); // registered and deprecated by the other owner
        assert.equal(await read(pub, fixture.contract, 'historyLength', [o]), 3n);
    });
});
