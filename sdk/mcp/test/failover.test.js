// SIGIL_URL with several gateways: the configuration reads the list, and the
// server's requests move past a gateway that refuses connections (the SDK's
// failover, sdk/typescript/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { closedUrl } from '../../typescript/test/fixture.js';
import { connect, fixture, hmac, K, stackEnv } from './harness.js';

const base = { SIGIL_TOKEN: 'sgl_x' };

test('SIGIL_URL: one URL or a comma-separated list, each http(s)', () => {
  assert.deepEqual(loadConfig({ ...base, SIGIL_URL: 'https://a.example' }).urls, ['https://a.example']);
  assert.deepEqual(loadConfig({ ...base, SIGIL_URL: 'http://a:1, https://b.example' }).urls,
    ['http://a:1', 'https://b.example']);
  for (const bad of [undefined, '', 'http://a,', 'http://a,ftp://b', ',http://a', 'a.example']) {
    assert.throws(() => loadConfig({ ...base, SIGIL_URL: bad }), /^Error: SIGIL_URL: /, String(bad));
  }
});

test('a refused first gateway: list_keys and sign_request go to the next one', async () => {
  const mcp = await connect({ env: stackEnv({ SIGIL_URL: `${await closedUrl()},${fixture.gateway}` }) });
  try {
    const res = await mcp.call('list_keys');
    assert.equal(res.isError, undefined, JSON.stringify(res.content));
    const ids = res.structuredContent.keys.map((k) => k.key_id);
    assert.ok(ids.includes(K.binance.key_id), ids.join(','));
    const ts = Date.now();
    const req = { method: 'GET', path: '/api/v3/account', query: `timestamp=${ts}`, timestamp: ts };
    const signed = await mcp.call('sign_request', { key_id: K.binance.key_id, request: req });
    assert.equal(signed.isError, undefined, JSON.stringify(signed.content));
    assert.equal(signed.structuredContent.signed.query,
      `${req.query}&signature=${hmac(K.binance.credentials.secret, req.query)}`);
  } finally {
    await mcp.close();
  }
});
