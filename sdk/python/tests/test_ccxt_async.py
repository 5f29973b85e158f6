"""ccxt drop-in for ccxt.async_support: for each of the seven venues, a wrapped
async instance holding NO secret sends exactly the request (URL, method,
headers, body) that the async instance holding the secret sends. Requests are
captured by replacing the instance's `fetch` (nothing leaves the machine); the
clock and ccxt's random ids are frozen as in test_ccxt_dropin. Every instance
is opened and closed (`async with`: a real aiohttp session each), and any
warning fails a test."""
import asyncio
import contextlib
import gc
import json
import threading
import time

import ccxt.async_support as accxt
import pytest
from test_ccxt_dropin import CALLS, VAULT, _freeze, _hl_responses

import sigil_sdk
from sigil_sdk import errors
from sigil_sdk.aio import AsyncClient
from sigil_sdk.ccxt import SigilCcxtError, sigil_wrap, sigil_wrap_async

pytestmark = pytest.mark.filterwarnings("error")
HL_OPTS = {"fetchMarkets": {"types": ["swap"]}}


@pytest.fixture(autouse=True)
def collect_garbage():
    """An instance left open warns ("Unclosed client session") when collected:
    collect in each test's teardown so that the warning fails that test."""
    yield
    gc.collect()


@pytest.fixture
def now_ms():
    return int(time.time() * 1000)


def _freeze_async(ex, now_ms, captured, responses):
    """test_ccxt_dropin's frozen clock and ids, with a coroutine fetch."""
    capture = _freeze(ex, now_ms, captured, responses).fetch

    async def fetch(url, method="GET", headers=None, body=None):
        await asyncio.sleep(0)
        return capture(url, method, headers, body)

    ex.fetch = fetch
    return ex


# fixture credential -> ccxt config member
CCXT_CREDENTIAL = {"api_key": "apiKey", "secret": "secret", "passphrase": "password",
                   "private_key": "privateKey"}


def _configs(key, options):
    """(config with the secret, config without it: only the public apiKey)."""
    ref = {CCXT_CREDENTIAL[k]: v for k, v in key["credentials"].items()}
    wrapped = {k: v for k, v in ref.items() if k == "apiKey"}
    if key["ccxt"] == "hyperliquid":
        ref["walletAddress"] = key["address"]
    for cfg in (ref, wrapped):
        cfg["options"] = json.loads(json.dumps(options or {}))
    return ref, wrapped


@contextlib.asynccontextmanager
async def _opened(*exchanges):
    """Opens each instance's aiohttp session and closes them all on exit;
    checks they are closed."""
    sessions = []
    async with contextlib.AsyncExitStack() as stack:
        for ex in exchanges:
            await stack.enter_async_context(ex)
            sessions.append(ex.session)
        yield exchanges
    assert all(s is not None and s.closed for s in sessions)
    assert all(ex.session is None for ex in exchanges)


async def _pair(stack, client, name, now_ms, responses=None, options=None):
    """(reference async ccxt with the secret, wrapped one without it, captures)."""
    key = stack["keys"][name]
    cls = getattr(accxt, key["ccxt"])
    ref_cfg, wrapped_cfg = _configs(key, options)
    ref_cap, wr_cap = [], []
    responses = responses if responses is not None else {}
    ref = _freeze_async(cls(ref_cfg), now_ms, ref_cap, responses)
    wrapped = _freeze_async(cls(wrapped_cfg), now_ms, wr_cap, responses)
    assert not wrapped.secret and not wrapped.password and not wrapped.privateKey
    await sigil_wrap_async(wrapped, client, key_id=key["key_id"])
    assert not wrapped.secret and not wrapped.password and not wrapped.privateKey
    return ref, wrapped, ref_cap, wr_cap


def _secret(stack, name):
    cred = stack["keys"][name]["credentials"]
    return cred.get("secret") or cred["private_key"][2:]


@pytest.fixture(scope="module")
def aclient(client):
    return AsyncClient(client)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_cex_requests_identical(stack, aclient, name, now_ms):
    async def main():
        ref, wrapped, ref_cap, wr_cap = await _pair(stack, aclient, name, now_ms)
        async with _opened(ref, wrapped):
            for method, params in CALLS[name]:
                await getattr(ref, method)(dict(params))
                await getattr(wrapped, method)(dict(params))
            # what ccxt records as the last request is what was sent
            assert wrapped.last_request_url == wr_cap[-1]["url"]
            assert wrapped.last_request_body == wr_cap[-1]["body"]
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    assert len(ref_cap) == len(CALLS[name]) == len(wr_cap)
    for want, got in zip(ref_cap, wr_cap):
        assert got == want
    assert _secret(stack, name) not in json.dumps(wr_cap)


def test_sync_client_is_accepted(stack, client, now_ms):
    """sigil_wrap (not async) on an async instance with a blocking Client."""
    key = stack["keys"]["bybit"]
    method, params = CALLS["bybit"][0]

    async def main(wrapped, ref):
        async with _opened(ref, wrapped):
            await getattr(ref, method)(dict(params))
            await getattr(wrapped, method)(dict(params))

    ref_cfg, wrapped_cfg = _configs(key, None)
    ref_cap, wr_cap = [], []
    ref = _freeze_async(accxt.bybit(ref_cfg), now_ms, ref_cap, {})
    wrapped = sigil_wrap(_freeze_async(accxt.bybit(wrapped_cfg), now_ms, wr_cap, {}),
                         client, key_id=key["key_id"])
    asyncio.run(main(wrapped, ref))
    assert len(wr_cap) == 1 and wr_cap == ref_cap


async def _hl_flow(ex):
    await ex.load_markets()
    await ex.create_order("BTC/USDC:USDC", "limit", "buy", 0.01, 30000)
    await ex.create_order("ETH/USDC:USDC", "limit", "sell", 0.5, 2100,
                          {"clientOrderId": "0x" + "ab" * 16, "reduceOnly": True})
    await ex.cancel_order("77", "BTC/USDC:USDC")


def _actions(captured, kind=None):
    posts = [json.loads(c["body"]) for c in captured if '"action"' in (c["body"] or "")]
    return [p for p in posts if kind in (None, p["action"]["type"])]


def test_hyperliquid_requests_identical(stack, aclient, now_ms):
    async def main():
        ref, wrapped, ref_cap, wr_cap = await _pair(stack, aclient, "hyperliquid", now_ms,
                                                    responses=_hl_responses, options=HL_OPTS)
        async with _opened(ref, wrapped):
            # the wrapped instance first: its requests' times (the frozen clock)
            # must be fresh for Sigil; ccxt ignores a failed builder-fee approval
            await _hl_flow(wrapped)
            await _hl_flow(ref)
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    posts = [p["action"]["type"] for p in _actions(ref_cap)]
    assert posts.count("order") == 2 and posts.count("cancel") == 1, posts
    # the action's key order is ccxt's (the L1 hash is msgpack of it as given)
    assert list(_actions(wr_cap, "order")[0]["action"])[:3] == ["type", "orders", "grouping"]
    assert wr_cap == ref_cap
    assert _secret(stack, "hyperliquid") not in json.dumps(wr_cap)


def test_hyperliquid_concurrent_orders(stack, aclient, now_ms):
    """Orders created concurrently on one instance: each body gets the
    signature of its own action."""
    orders = [("BTC/USDC:USDC", "buy", 0.01, 30000 + i) for i in range(3)] + \
             [("ETH/USDC:USDC", "sell", 0.5, 2100 + i) for i in range(2)]

    async def main():
        # (ccxt's one-off builder-fee approval and referrer left out)
        opts = dict(HL_OPTS, approvedBuilderFee=True, refSet=True)
        ref, wrapped, ref_cap, wr_cap = await _pair(stack, aclient, "hyperliquid", now_ms,
                                                    responses=_hl_responses, options=opts)
        async with _opened(ref, wrapped):
            for ex in (wrapped, ref):
                await ex.load_markets()
                await asyncio.gather(*(ex.create_order(s, "limit", side, amount, price)
                                       for s, side, amount, price in orders))
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    assert len(_actions(ref_cap)) == len(_actions(ref_cap, "order")) == len(orders)
    sig = {json.dumps(p["action"]): p["signature"] for p in _actions(ref_cap)}
    assert len(set(json.dumps(s) for s in sig.values())) == len(orders)
    assert {json.dumps(p["action"]): p["signature"] for p in _actions(wr_cap)} == sig
    assert sorted(c["body"] or "" for c in wr_cap) == sorted(c["body"] or "" for c in ref_cap)


def test_hyperliquid_l1_expires_after_identical(stack, aclient, now_ms):
    """sign_l1_action with expiresAfter (only ccxt's createSubAccount passes it,
    which every policy denies): the wrapped signer's placeholder is replaced
    by Sigil's signature in the body posted through the wrapped fetch."""
    action = {"type": "order", "orders": [{"a": 1, "b": False, "p": "2100", "s": "0.5",
                                           "r": True, "t": {"limit": {"tif": "Alo"}}}],
              "grouping": "na"}

    async def main():
        ref, wrapped, _, wr_cap = await _pair(stack, aclient, "hyperliquid", now_ms)
        async with _opened(ref, wrapped):
            for expires in (None, now_ms + 60_000):
                want = ref.sign_l1_action(action, now_ms, None, expires)
                ph = wrapped.sign_l1_action(action, now_ms, None, expires)
                assert ph != want
                body = {"action": action, "nonce": now_ms, "signature": ph}
                await wrapped.fetch("https://api.hyperliquid.xyz/exchange", "POST",
                                    {"Content-Type": "application/json"}, wrapped.json(body))
                body["signature"] = want
                assert wr_cap[-1]["body"] == wrapped.json(body)

    asyncio.run(main())


def test_hyperliquid_user_signed_and_vault_identical(client, aclient, pins):
    """withdraw3 through ccxt's withdraw() and an L1 order for a vault, with a
    key provisioned here whose policy lists the destination and the vault."""
    from sigil_sdk.provision import new_key
    dest = "0x8ba1f109551bd432803012645ac136ddd64dba72"
    wallet = "0x" + "5e" * 31 + "02"
    policy = {"version": 1, "tenant": "default", "venue": "hyperliquid", "network": "mainnet",
              "actions": ["withdraw", "order"], "destinations": [dest],
              "hyperliquid": {"vaults": [VAULT]},
              "not_after": int(time.time()) + 3600}
    key = client.provision("hyperliquid", "mainnet", {"private_key": wallet}, policy,
                           new_key()[0], *pins, client_key=None)
    opts = dict(HL_OPTS, approvedBuilderFee=True, refSet=True)
    now_ms = int(time.time() * 1000)  # after provisioning

    async def main():
        ref_cap, wr_cap = [], []
        ref = _freeze_async(accxt.hyperliquid({"privateKey": wallet, "options": dict(opts),
                                               "walletAddress": key["address"]}),
                            now_ms, ref_cap, _hl_responses)
        wrapped = _freeze_async(accxt.hyperliquid({"options": dict(opts)}), now_ms, wr_cap,
                                _hl_responses)
        await sigil_wrap_async(wrapped, aclient, key_id=key["key_id"])
        assert wrapped.walletAddress == key["address"]
        async with _opened(ref, wrapped):
            for ex in (wrapped, ref):
                await ex.load_markets()
                await ex.withdraw("USDC", 5, dest)
                await ex.create_order("BTC/USDC:USDC", "limit", "buy", 0.01, 30000,
                                      {"vaultAddress": VAULT})
                if ex is wrapped:  # another destination: denied, not sent
                    with pytest.raises(errors.PolicyDenied) as ei:
                        await wrapped.withdraw("USDC", 5, "0x" + "77" * 20)
                    assert ei.value.receipt["action"] == "withdraw"
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    assert [p["action"]["type"] for p in _actions(ref_cap)] == ["withdraw3", "order"]
    assert wr_cap[:len(ref_cap)] == ref_cap
    assert len(wr_cap) == len(ref_cap)  # the denied withdrawal was not sent


def test_aster_signer_binding(stack, aclient, now_ms):
    """ccxt puts user and signer (the key's address) in the signed parameters;
    a wrapped instance whose signer is another address is refused by Sigil."""
    other = "0x" + "12" * 20

    async def main():
        _, wrapped, _, wr_cap = await _pair(stack, aclient, "aster", now_ms)
        _, bad, _, bad_cap = await _pair(stack, aclient, "aster", now_ms,
                                         options={"signerAddress": other})
        async with _opened(wrapped, bad):
            await wrapped.fapiprivate_get_v3_openorders({"symbol": "BTCUSDT"})
            with pytest.raises(errors.BadRequest) as ei:
                await bad.fapiprivate_get_v3_openorders({"symbol": "BTCUSDT"})
        return wr_cap, bad_cap, ei.value

    wr_cap, bad_cap, err = asyncio.run(main())
    addr = stack["keys"]["aster"]["address"].lower()  # ccxt's form
    assert f"signer={addr}" in wr_cap[0]["url"] and f"user={addr}" in wr_cap[0]["url"]
    assert err.code == "bad_address" and bad_cap == []


def test_sigil_call_does_not_block_the_loop(stack, client, now_ms):
    """The Sigil call runs off the event loop's thread: a callback the call
    schedules on the loop runs while the call waits for it (a blocked loop
    could not run it: the wait would time out)."""
    seen = {}

    class Gated(type(client)):
        def sign(self, *a, **kw):
            gate = threading.Event()
            seen["thread"] = threading.current_thread()
            seen["loop"].call_soon_threadsafe(gate.set)
            seen["ran"] = gate.wait(20)
            assert seen["ran"], "the event loop did not run during the Sigil call"
            return super().sign(*a, **kw)

    gated = Gated(client.url, client.token)

    async def main():
        seen["loop"], seen["loop_thread"] = asyncio.get_running_loop(), threading.current_thread()
        ref, wrapped, ref_cap, wr_cap = await _pair(stack, AsyncClient(gated), "okx", now_ms)
        method, params = CALLS["okx"][1]
        async with _opened(ref, wrapped):
            await getattr(ref, method)(dict(params))
            await getattr(wrapped, method)(dict(params))
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    assert seen["ran"] is True and seen["thread"] is not seen["loop_thread"]
    assert wr_cap == ref_cap and len(wr_cap) == 1


def test_public_requests_untouched(stack, client, aclient, now_ms):
    before = len(client.audit_all())

    async def main():
        ref, wrapped, ref_cap, wr_cap = await _pair(stack, aclient, "binance", now_ms)
        async with _opened(ref, wrapped):
            for ex in (ref, wrapped):
                await ex.public_get_ticker_price({"symbol": "BTCUSDT"})
        return ref_cap, wr_cap

    ref_cap, wr_cap = asyncio.run(main())
    assert wr_cap == ref_cap and "signature" not in wr_cap[0]["url"]
    assert len(client.audit_all()) == before


def test_policy_denial_surfaces_as_typed_error(stack, aclient, now_ms):
    async def main():
        _, wrapped, _, wr_cap = await _pair(stack, aclient, "binance", now_ms)
        async with _opened(wrapped):
            with pytest.raises(errors.PolicyDenied) as ei:
                await wrapped.sapi_post_capital_withdraw_apply(
                    {"coin": "BTC", "address": "bc1qexample", "amount": "1"})
        return ei.value, wr_cap

    err, wr_cap = asyncio.run(main())
    assert err.receipt["decision"] == "deny" and wr_cap == []


def test_wrap_checks(stack, aclient):
    import ccxt
    sync_ex = ccxt.binance({"apiKey": "k"})
    with pytest.raises(SigilCcxtError):
        asyncio.run(sigil_wrap_async(sync_ex, aclient, key_id=stack["keys"]["binance"]["key_id"]))

    async def unknown_key():
        ex = accxt.hyperliquid({})
        async with _opened(ex):
            await sigil_wrap_async(ex, aclient, key_id="no-such-key")

    with pytest.raises(SigilCcxtError):
        asyncio.run(unknown_key())


def test_readme_async_example_runs(stack, monkeypatch):
    """README.md's asyncio example with ccxt's network replaced: the request
    it would send carries Sigil's signature for the fixture's binance key, and
    the instance it opened is closed."""
    from test_readme import blocks
    key = stack["keys"]["binance"]
    sent, opened = [], []

    async def fetch(self, url, method="GET", headers=None, body=None):
        sent.append((url, method, headers, body))
        opened.append(self.session)
        return {"balances": [{"asset": "BTC", "free": "1.0", "locked": "0.0"}],
                "updateTime": 0, "accountType": "SPOT"}

    async def load_markets(self, *a, **k):
        return {}

    monkeypatch.setattr(accxt.binance, "fetch", fetch)
    monkeypatch.setattr(accxt.binance, "load_markets", load_markets)
    ns = {"GATEWAY_URL": stack["gateway"], "TOKEN": stack["token"],
          "API_KEY": key["credentials"]["api_key"], "KEY_ID": key["key_id"]}
    exec(compile(blocks()[2], "README.md asyncio", "exec"), ns)
    assert ns["balance"]["BTC"]["free"] == 1.0
    url, method, headers, _ = sent[0]
    assert method == "GET" and "/api/v3/account?" in url and "&signature=" in url
    assert headers["X-MBX-APIKEY"] == key["credentials"]["api_key"]
    # Sigil's signature of that query, not ccxt's placeholder one
    query = url.split("?", 1)[1]
    params, _, sig = query.rpartition("&signature=")
    ts = int(dict(p.split("=") for p in params.split("&"))["timestamp"])
    want = sigil_sdk.Client(stack["gateway"], stack["token"]).sign(
        key["key_id"], {"method": "GET", "path": "/api/v3/account", "query": params,
                        "timestamp": ts}).signed["query"]
    assert query == want
    assert opened[0] is not None and opened[0].closed


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_binance_listen_key_requests_pass(stack, client, kind, now_ms):
    """Binance's listen-key routes carry the API key header and no signature:
    sent as ccxt builds them, without a Sigil call (no audit record); without
    an apiKey the wrapper refuses rather than send its placeholder."""
    import ccxt
    key = stack["keys"]["binance"]
    calls = ("sapi_post_userdatastream", "fapiprivate_post_listenkey")
    before = len(client.audit_all())

    async def run(ex):
        async with _opened(ex):
            return [await getattr(ex, m)({}) for m in calls]

    def send(ex):
        return asyncio.run(run(ex)) if kind == "async" else [getattr(ex, m)({}) for m in calls]

    freeze = _freeze_async if kind == "async" else _freeze
    mod = accxt if kind == "async" else ccxt
    cap = []
    ex = freeze(mod.binance({"apiKey": key["credentials"]["api_key"]}), now_ms, cap,
                {"listenKey": "lk"})
    sigil_wrap(ex, client, key_id=key["key_id"])
    assert send(ex) == [{"listenKey": "lk"}] * 2
    assert [(c["method"], c["url"].split("?")[0].rsplit("/", 1)[1]) for c in cap] == \
        [("POST", "userDataStream"), ("POST", "listenKey")]
    assert all(dict(c["headers"])["X-MBX-APIKEY"] == key["credentials"]["api_key"] and
               "signature" not in c["url"] + (c["body"] or "") for c in cap)
    assert len(client.audit_all()) == before
    nokey = sigil_wrap(freeze(mod.binance({}), now_ms, [], {}), client, key_id=key["key_id"])
    with pytest.raises(SigilCcxtError):
        send(nokey)
