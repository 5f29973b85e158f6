// Preloaded into the server under test (node --import): every fetch() to an
// origin not in SIGIL_TEST_FETCH_ALLOW (the gateway, a local capture server)
// is logged to SIGIL_TEST_FETCH_LOG and fails, so no test ever reaches a venue
// and a test can tell that a venue call was attempted.
import { appendFileSync } from 'node:fs';

const allow = new Set((process.env.SIGIL_TEST_FETCH_ALLOW ?? '').split(',').filter(Boolean));
const log = process.env.SIGIL_TEST_FETCH_LOG;
const real = globalThis.fetch;

globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if (allow.has(url.origin)) return real(input, init);
  if (log) appendFileSync(log, `${init?.method ?? 'GET'} ${url.origin}${url.pathname}\n`);
  throw new TypeError(`test guard: network call to ${url.origin} refused`);
};
