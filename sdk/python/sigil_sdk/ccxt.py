"""ccxt drop-in: an unchanged ccxt exchange instance sends its private requests
signed by Sigil instead of a local secret.

    exchange = ccxt.binance({"apiKey": API_KEY})          # no secret
    sigil_wrap(exchange, sigil_sdk.Client(url, token), key_id=KEY_ID)

CEX venues (binance, binanceusdm, bybit, okx, kucoinfutures, aster): the
instance's `sign()` is wrapped. ccxt builds the request exactly as it always
does (with a throw-away placeholder credential, whose signature is discarded);
the wrapper turns it into the Sigil request of docs/CLI.md — method, path,
query and body as ccxt built them, the timestamp ccxt put in them — and
replaces ccxt's signature, key and timestamp headers/parameters with what
Sigil returns. Hyperliquid: the instance's `sign_l1_action` and
`sign_user_signed_action` are replaced; ccxt still builds and posts the
action, with Sigil's signature.

The instance keeps its public identifiers: `apiKey` for CEX venues (KuCoin's
partner header depends on it; others take it from Sigil's answer), and
`walletAddress` for Hyperliquid/Aster (default: the key's address, from
GET /v1/keys). It needs no `secret`, `password` or `privateKey`.
Not thread-safe per instance (ccxt's sign is not either).

asyncio (`ccxt.async_support` instances, detected by their coroutine
`fetch`): ccxt's `sign()` and Hyperliquid's signers are synchronous, so they
only build the request (CEX: with the placeholder credential; Hyperliquid: a
placeholder signature carrying a one-off token); the instance's `fetch` is
wrapped and awaits the Sigil call there (sigil_sdk.aio.AsyncClient: the
blocking client in a thread executor, so the event loop keeps running), then
sends the request with Sigil's signature. Wrap after replacing `fetch`, if you
replace it; `await sigil_wrap_async(...)` avoids the blocking key lookup at
wrap time inside a running loop."""
import inspect
import os
import re
import urllib.parse
from datetime import datetime, timezone

from .aio import AsyncClient

# A placeholder private key for ccxt's own (discarded) signing pass: any valid
# secp256k1 scalar.
PLACEHOLDER_WALLET_KEY = "0x" + "01" * 32
PLACEHOLDER = {"secret": "sigil-placeholder-secret", "password": "sigil-placeholder",
               "apiKey": "sigil-placeholder-key", "privateKey": PLACEHOLDER_WALLET_KEY}


class SigilCcxtError(Exception):
    """A ccxt request the wrapper cannot express as a Sigil request."""


# ---- splitting ccxt's request ---------------------------------------------------
def _split_url(url):
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc}", u.path, u.query


def _strip_param(s, name):
    """s without its last `&name=value` (or a lone `name=value`): (rest, value)."""
    m = re.search(r"(^|&)" + re.escape(name) + r"=([^&]*)$", s or "")
    if not m:
        return None, None
    return s[:m.start()], m.group(2)


def _param(s, name):
    for part in (s or "").split("&"):
        k, _, v = part.partition("=")
        if k == name:
            return v
    return None


def _signature_param(req):
    """Whether ccxt put a `signature=` parameter last in the body (if any) or
    else the query."""
    where = req["body"] if req.get("body") else _split_url(req["url"])[2]
    return _strip_param(where, "signature")[0] is not None


def _iso_ms(text):
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(round(dt.timestamp() * 1000))


def _header(headers, name):
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def _merge_headers(ccxt_headers, sigil_headers):
    """ccxt's headers with Sigil's values (same names, any case) replacing them;
    headers only Sigil has are appended."""
    out = dict(ccxt_headers or {})
    lower = {k.lower(): k for k in out}
    for k, v in (sigil_headers or {}).items():
        out[lower.get(k.lower(), k)] = v
    return out


def _cex_request(method, path, query, body, timestamp, **extra):
    req = {"method": method, "path": path, "query": query}
    if body:
        req["body"] = body
    req["timestamp"] = int(timestamp)
    req.update({k: v for k, v in extra.items() if v is not None})
    return req


def _cex_merge(req, signed):
    """ccxt's request with Sigil's path, query, body and headers."""
    base, _, _ = _split_url(req["url"])
    url = base + signed["path"] + ("?" + signed["query"] if signed.get("query") else "")
    body = signed.get("body") or None
    return {"url": url, "method": signed["method"], "body": body,
            "headers": _merge_headers(req.get("headers"), signed.get("headers"))}


# ---- venues -------------------------------------------------------------------
class _Venue:
    def __init__(self, exchange):
        self.exchange = exchange


class Binance(_Venue):
    """binance, binanceusdm: timestamp (and recvWindow) are in ccxt's query/body;
    Sigil appends nothing and adds `&signature=`."""
    venue = "binance"
    placeholders = ("secret", "apiKey")

    def is_signed(self, req):
        """A request with `signature=`; the listen-key routes carry only the
        API key header and are sent as ccxt built them."""
        key = _header(req.get("headers"), "X-MBX-APIKEY")
        if key is None or _signature_param(req):
            return key is not None
        if key == PLACEHOLDER["apiKey"]:
            raise SigilCcxtError("binance: set apiKey (this request carries only the API key)")
        return False

    def to_sigil(self, req):
        _, path, query = _split_url(req["url"])
        body = req.get("body") or ""
        if body:
            body, _ = _strip_param(body, "signature")
        else:
            query, _ = _strip_param(query, "signature")
        if query is None or body is None:
            raise SigilCcxtError("binance: no signature parameter where ccxt puts it")
        ts = _param(query, "timestamp") or _param(body, "timestamp")
        rw = _param(query, "recvWindow") or _param(body, "recvWindow")
        return _cex_request(req["method"], path, query, body, ts,
                            recv_window=int(rw) if rw and rw.isdigit() else None)

    def merge(self, req, signed, sreq):
        return _cex_merge(req, signed)


class Bybit(_Venue):
    venue = "bybit"
    placeholders = ("secret", "apiKey")

    def is_signed(self, req):
        return _header(req.get("headers"), "X-BAPI-SIGN") is not None

    def to_sigil(self, req):
        h = req.get("headers")
        if _header(h, "X-BAPI-RECV-WINDOW") is None:
            raise SigilCcxtError("bybit: only the V5 (recv-window) API is signed by Sigil")
        _, path, query = _split_url(req["url"])
        return _cex_request(req["method"], path, query, req.get("body"),
                            _header(h, "X-BAPI-TIMESTAMP"),
                            recv_window=int(_header(h, "X-BAPI-RECV-WINDOW")))

    def merge(self, req, signed, sreq):
        return _cex_merge(req, signed)


class Okx(_Venue):
    venue = "okx"
    placeholders = ("secret", "apiKey", "password")

    def is_signed(self, req):
        return _header(req.get("headers"), "OK-ACCESS-SIGN") is not None

    def to_sigil(self, req):
        _, path, query = _split_url(req["url"])
        ts = _iso_ms(_header(req["headers"], "OK-ACCESS-TIMESTAMP"))
        return _cex_request(req["method"], path, query, req.get("body"), ts)

    def merge(self, req, signed, sreq):
        return _cex_merge(req, signed)


class KucoinFutures(_Venue):
    venue = "kucoinfutures"
    placeholders = ("secret", "password")

    def is_signed(self, req):
        return _header(req.get("headers"), "KC-API-SIGN") is not None

    def to_sigil(self, req):
        _, path, query = _split_url(req["url"])
        return _cex_request(req["method"], path, query, req.get("body"),
                            _header(req["headers"], "KC-API-TIMESTAMP"))

    def merge(self, req, signed, sreq):
        return _cex_merge(req, signed)


class Aster(_Venue):
    """Aster v3: ccxt signs the parameter string (nonce, user, signer first) as
    EIP-712 Message{msg}; Sigil signs the same string as the request's query
    (the path is not signed) and appends `&signature=0x…`. ccxt sends it in
    the URL (GET) or as the form body (other methods); so does the wrapper."""
    venue = "aster"
    placeholders = ("privateKey",)

    def is_signed(self, req):
        return _signature_param(req)

    def to_sigil(self, req):
        _, path, query = _split_url(req["url"])
        if "/approveBuilder" in path:
            # ccxt signs these parameters as the typed data ApproveBuilder{…},
            # not Message{msg}; Sigil's aster venue has no such request
            raise SigilCcxtError("aster: approveBuilder is not signable through Sigil")
        params = req["body"] if req.get("body") else query
        params, _ = _strip_param(params, "signature")
        nonce = _param(params, "nonce")
        return {"method": req["method"], "path": path, "query": params, "nonce": int(nonce)}

    def __init__(self, exchange):
        self.exchange = exchange

    def merge(self, req, signed, sreq):
        params, sig = _strip_param(signed["query"], "signature")
        if params != sreq["query"]:
            raise SigilCcxtError("aster: Sigil signed other parameters than ccxt built")
        query = params + "&signature=" + self._ccxt_signature(sig)
        base, path, _ = _split_url(req["url"])
        if req.get("body"):
            return {"url": req["url"], "method": req["method"], "body": query,
                    "headers": req["headers"]}
        return {"url": base + path + "?" + query, "method": req["method"],
                "body": req.get("body"), "headers": req["headers"]}

    def _ccxt_signature(self, sig):
        """The same 65 bytes in python ccxt's text form (r, s lowercase, v by
        ccxt's own int_to_base16, which prints 1B/1C)."""
        raw = bytes.fromhex(sig[2:])
        return ("0x" + raw[:32].hex() + raw[32:64].hex()
                + self.exchange.int_to_base16(raw[64]))


CEX = {"binance": Binance, "binanceusdm": Binance, "bybit": Bybit, "okx": Okx,
       "kucoinfutures": KucoinFutures, "aster": Aster}


def _ccxt_sig(signed):
    """Sigil's {r, s, v} (r/s as the Hyperliquid SDK prints them: no leading
    zeros) in ccxt's text form (64 hex digits each): the same numbers."""
    sig = signed["signature"]
    return {"r": "0x%064x" % int(sig["r"], 16), "s": "0x%064x" % int(sig["s"], 16),
            "v": sig["v"]}


# EIP-712 primary type of a user-signed action -> the action's `type`
# (the Hyperliquid SDK's names; only Withdraw differs from its type).
USER_ACTION_TYPES = {"Withdraw": "withdraw3"}


def _user_action_type(message_types):
    """'HyperliquidTransaction:UsdSend' -> 'usdSend', ':Withdraw' -> 'withdraw3'."""
    name = next(iter(message_types)).split(":", 1)[1]
    return USER_ACTION_TYPES.get(name, name[0].lower() + name[1:])


# ---- wrapping -----------------------------------------------------------------
class _Placeholders:
    """Gives ccxt throw-away credentials for its own signing pass only."""

    def __init__(self, exchange, names):
        self.exchange, self.names, self.saved = exchange, names, {}

    def __enter__(self):
        for n in self.names:
            self.saved[n] = getattr(self.exchange, n, None)
            if not self.saved[n]:
                setattr(self.exchange, n, PLACEHOLDER[n])

    def __exit__(self, *exc):
        for n, v in self.saved.items():
            setattr(self.exchange, n, v)


def _key_info(client, key_id):
    return _find_key(client.keys(), key_id)


def _find_key(keys, key_id):
    for k in keys:
        if k["key_id"] == key_id:
            return k
    raise SigilCcxtError(f"key {key_id} is not one of this token's keys")


def _placeholder_sign(original, adapter):
    """ccxt's own sign(), with throw-away credentials for its signing pass."""

    def sign(path, api="public", method="GET", params=None, headers=None, body=None):
        params = {} if params is None else params
        with _Placeholders(adapter.exchange, adapter.placeholders):
            return original(path, api, method, params, headers, body)

    return sign


def _wrap_cex(exchange, client, key_id, adapter):
    ccxt_sign = _placeholder_sign(exchange.sign, adapter)

    def sign(path, api="public", method="GET", params=None, headers=None, body=None):
        req = ccxt_sign(path, api, method, params, headers, body)
        if not adapter.is_signed(req):
            return req
        sreq = adapter.to_sigil(req)
        res = client.sign(key_id, sreq)
        return adapter.merge(req, res.signed, sreq)

    exchange.sign = sign


def _wrap_cex_async(exchange, aclient, key_id, adapter):
    """sign() builds ccxt's request (placeholder signature); fetch() replaces
    the signature with Sigil's, awaited off the event loop, and sends."""
    send = exchange.fetch

    async def fetch(url, method="GET", headers=None, body=None):
        req = {"url": url, "method": method, "headers": headers, "body": body}
        if adapter.is_signed(req):
            sreq = adapter.to_sigil(req)
            res = await aclient.sign(key_id, sreq)
            req = adapter.merge(req, res.signed, sreq)
            exchange.set_last_request(req)
        return await send(req["url"], req["method"], req["headers"], req["body"])

    exchange.sign = _placeholder_sign(exchange.sign, adapter)
    exchange.fetch = fetch


def _wrap_aster(exchange, address):
    """ccxt derives the user's address from privateKey and caches it by the key's
    hash: prime that cache with the Sigil key's address for the placeholder."""
    exchange.options["cachedWalletAddress"] = address
    exchange.options["privateKeyHashForCachedWalletAddress"] = exchange.hash(
        exchange.encode(PLACEHOLDER_WALLET_KEY), "keccak", "hex")


def _l1_request(action, nonce, vault_address=None, expires_after=None):
    """The Sigil request of ccxt's sign_l1_action arguments."""
    req = {"action": action, "nonce": nonce}
    if vault_address is not None:
        req["vault_address"] = vault_address if vault_address.startswith("0x") \
            else "0x" + vault_address
    if expires_after is not None:
        req["expires_after"] = expires_after
    return req


def _user_signed_request(message_types, message):
    """The Sigil request of ccxt's sign_user_signed_action arguments."""
    action = {"type": _user_action_type(message_types), "signatureChainId": "0x66eee"}
    action.update(message)
    return {"action": action, "nonce": message.get("time", message.get("nonce"))}


def _hyperliquid_signers(exchange, signature_of):
    """Replaces ccxt's two Hyperliquid signers: signature_of(sigil_request)
    returns what they return."""

    def sign_l1_action(action, nonce, vaultAdress=None, expiresAfter=None):
        return signature_of(_l1_request(action, nonce, vaultAdress, expiresAfter))

    def sign_user_signed_action(messageTypes, message):
        return signature_of(_user_signed_request(messageTypes, message))

    exchange.sign_l1_action = sign_l1_action
    exchange.sign_user_signed_action = sign_user_signed_action
    creds = dict(exchange.requiredCredentials)
    creds["privateKey"] = False
    exchange.requiredCredentials = creds


def _wrap_hyperliquid(exchange, client, key_id):
    _hyperliquid_signers(exchange, lambda req: _ccxt_sig(client.sign(key_id, req).signed))


# unused placeholder signatures (a request that failed before being sent) kept
MAX_PENDING = 1024


def _wrap_hyperliquid_async(exchange, aclient, key_id):
    """The signers return a placeholder signature whose r and s are a fresh
    token; fetch() finds the token in the body ccxt serialised, awaits Sigil's
    signature for the request recorded under it and puts it in its place."""
    pending = {}

    def placeholder(req):
        token = "0x" + os.urandom(32).hex()
        sig = {"r": token, "s": token, "v": 27}
        while len(pending) >= MAX_PENDING:
            pending.pop(next(iter(pending)))
        pending[token] = (req, exchange.json(sig))
        return sig

    send = exchange.fetch

    async def fetch(url, method="GET", headers=None, body=None):
        for token in [t for t in pending if isinstance(body, str) and t in body]:
            req, text = pending.pop(token)
            if text not in body:
                raise SigilCcxtError("hyperliquid: the signature is not where ccxt puts it")
            res = await aclient.sign(key_id, req)
            body = body.replace(text, exchange.json(_ccxt_sig(res.signed)))
            exchange.last_request_body = body
        return await send(url, method, headers, body)

    _hyperliquid_signers(exchange, placeholder)
    exchange.fetch = fetch


def is_async(exchange):
    """Whether `exchange` is a ccxt.async_support instance."""
    return inspect.iscoroutinefunction(type(exchange).fetch)


WRAPPERS = {  # (venue kind, async instance) -> wrapper
    ("cex", False): lambda ex, c, k: _wrap_cex(ex, c.client, k, CEX[ex.id](ex)),
    ("cex", True): lambda ex, c, k: _wrap_cex_async(ex, c, k, CEX[ex.id](ex)),
    ("hyperliquid", False): lambda ex, c, k: _wrap_hyperliquid(ex, c.client, k),
    ("hyperliquid", True): _wrap_hyperliquid_async,
}


def _needs_key_info(exchange):
    return exchange.id in ("hyperliquid", "aster")


def _wrap(exchange, aclient, key_id, api_key, info):
    venue = exchange.id
    if api_key is not None:
        exchange.apiKey = api_key
    if venue == "kucoinfutures" and not exchange.apiKey:
        raise SigilCcxtError("kucoinfutures: set apiKey (KuCoin's partner header signs it)")
    if _needs_key_info(exchange):
        if not getattr(exchange, "walletAddress", None):
            exchange.walletAddress = info.get("address")
        if venue == "aster":
            # ccxt derives Aster's user/signer from the private key, in lowercase
            exchange.walletAddress = (exchange.walletAddress or "").lower() or None
            _wrap_aster(exchange, exchange.walletAddress)
    kind = "hyperliquid" if venue == "hyperliquid" else "cex"
    WRAPPERS[(kind, is_async(exchange))](exchange, aclient, key_id)
    return exchange


def _check_venue(exchange):
    if exchange.id not in CEX and exchange.id != "hyperliquid":
        raise SigilCcxtError(f"ccxt exchange {exchange.id!r} is not supported by the Sigil drop-in")


def _async_client(client):
    return client if isinstance(client, AsyncClient) else AsyncClient(client)


def sigil_wrap(exchange, client, key_id, api_key=None):
    """Makes `exchange` (a ccxt or ccxt.async_support instance of binance,
    binanceusdm, bybit, okx, kucoinfutures, hyperliquid or aster) sign its
    private requests with the Sigil key `key_id` through `client` (a Client
    or an aio.AsyncClient; an async instance signs through an AsyncClient
    made from a Client). Returns the same instance. For hyperliquid and aster
    it looks the key up (GET /v1/keys, blocking) now: inside a running event
    loop, use `await sigil_wrap_async(...)`."""
    _check_venue(exchange)
    aclient = _async_client(client)
    info = _key_info(aclient.client, key_id) if _needs_key_info(exchange) else None
    return _wrap(exchange, aclient, key_id, api_key, info)


async def sigil_wrap_async(exchange, client, key_id, api_key=None):
    """sigil_wrap for a ccxt.async_support instance, with the key lookup
    awaited off the event loop."""
    _check_venue(exchange)
    if not is_async(exchange):
        raise SigilCcxtError("sigil_wrap_async: a ccxt.async_support instance (use sigil_wrap)")
    aclient = _async_client(client)
    info = _find_key(await aclient.keys(), key_id) if _needs_key_info(exchange) else None
    return _wrap(exchange, aclient, key_id, api_key, info)
