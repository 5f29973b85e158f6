// Refusal cases: requests docs/CLI.md says sigil must refuse (exit 2, one-line
// {"error":{"code","message"}} on stderr, with the documented stable code).
// About 5% of each venue's cases.
export const NEG_RATE = 0.05;

export function refusal(base, code, why) {
  return { ...base, compare: 'error', expect: { code, why }, info: `refusal: ${why}` };
}

// A CEX request (binance/bybit/okx/kucoin) broken in one documented way.
export function cexRefusal(rng, base, { venue, jsonBody }) {
  const ok = { ...base.request };
  const kinds = [
    ['ts-low', 'out_of_range', 'timestamp below 10^12 ms (not Unix milliseconds)', () => ({ ...ok, timestamp: rng.pick([0, 1, 999999999999, 1700000000]) })],
    ['ts-high', 'out_of_range', 'timestamp of 10^14 ms or more (microseconds?)', () => ({ ...ok, timestamp: rng.pick([100000000000000, 1700000000000000]) })],
    ['dup', 'duplicate_key', 'query parameter repeated once case-folded', () => ({ ...ok, method: 'GET', body: '', query: 'symbol=BTCUSDT&SYMBOL=ETHUSDT' })],
    ['dup-enc', 'duplicate_key', 'query parameter repeated once decoded', () => ({ ...ok, method: 'GET', body: '', query: 'symbol=BTCUSDT&%73ymbol=ETHUSDT' })],
    ['pct', 'bad_encoding', 'malformed percent-encoding in the query', () => ({ ...ok, method: 'GET', body: '', query: rng.pick(['a=%zz', 'a=%4', 'a=b%']) })],
    ['raw', 'bad_field', 'raw non-ASCII / space in the query', () => ({ ...ok, method: 'GET', body: '', query: rng.pick(['a=b c', 'symbol=测试']) })],
    ['get-body', 'bad_field', 'a GET with a body', () => ({ ...ok, method: 'GET', query: '', body: jsonBody ? '{"a":"1"}' : 'a=1' })],
  ];
  if (venue === 'binance') {
    kinds.push(['rw', 'out_of_range', 'recv_window outside 1..60000', () => ({ ...ok, recv_window: rng.pick([0, 60001]) })]);
  }
  if (venue === 'bybit') {
    kinds.push(['rw', 'out_of_range', 'recv_window 0', () => ({ ...ok, recv_window: 0 })]);
    kinds.push(['post-query', null, 'bybit POST with a query (it would travel unsigned)', () => ({ ...ok, method: 'POST', query: 'a=1', body: '{"b":"2"}' })]);
  }
  if (venue === 'okx' || venue === 'kucoin' || venue === 'kucoinfutures') {
    kinds.push(['no-rw', null, `${venue} has no recv_window`, () => ({ ...ok, recv_window: 5000 })]);
  }
  if (jsonBody) {
    kinds.push(['dupjson', 'duplicate_key', 'duplicate key in the JSON body', () => ({ ...ok, method: 'POST', query: '', body: '{"symbol":"BTCUSDT","symbol":"ETHUSDT"}' })]);
    kinds.push(['badjson', 'bad_json', 'body is not strict JSON', () => ({ ...ok, method: 'POST', query: '', body: rng.pick(['{"a":1,}', "{'a':1}", '{"a":01}', '{"a":1} x']) })]);
  }
  const [, code, why, make] = rng.pick(kinds);
  if ((venue === 'kucoin' || venue === 'kucoinfutures') && rng.chance(0.15)) {
    return refusal({ ...base, network: 'testnet' }, null, `${venue} has no testnet (--network testnet)`);
  }
  return refusal({ ...base, request: make() }, code, why);
}
