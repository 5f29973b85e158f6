"""HTTP client for every route of the Sigil gateway (docs/API.md)."""
import base64
import hashlib
import http.client
import json
import os
import ssl
import struct
import threading
import time
import urllib.parse

from . import errors, jcs

RETRY_STATUSES = (502, 503, 504)
TRANSIENT = (ConnectionError, TimeoutError, http.client.HTTPException, OSError)
# A gateway that died holding a request's Idempotency-Key reservation keeps
# it for its lease (5 s, docs/OPERATIONS.md "Multi-host topology"); until
# then another gateway answers 409 "in progress". Retried this long.
IN_PROGRESS_WAIT_S = 15.0


def length_prefixed(b):
    """u32be(len) ‖ b: how Sigil's signed messages frame variable fields."""
    return struct.pack(">I", len(b)) + b


def request_hash(request_text):
    """SHA-256 of the RFC 8785 form of a request (what a client signature and a
    receipt's request_hash cover)."""
    return hashlib.sha256(jcs.canonical_text(request_text)).digest()


def client_message(key_id, request_text, timestamp, nonce):
    """docs/POLICY.md "Client-signed requests"."""
    return (b"sigil-request-v1\0" + length_prefixed(key_id.encode()) + request_hash(request_text)
            + struct.pack(">Q", timestamp) + length_prefixed(nonce.encode()))


def new_nonce():
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def client_signature(seed, key_id, request_text, timestamp=None, nonce=None):
    """The `client` member of a /v1/sign body, signed with the client key's seed."""
    from nacl.signing import SigningKey  # only here: the client runs without PyNaCl otherwise
    ts = int(time.time() * 1000) if timestamp is None else int(timestamp)
    nonce = nonce or new_nonce()
    sig = SigningKey(bytes(seed)).sign(client_message(key_id, request_text, ts, nonce)).signature
    return {"timestamp": ts, "nonce": nonce, "signature": sig.hex()}


def request_text(request):
    """A request as JSON text: a str is sent exactly as given (the gateway
    forwards the text to the enclave unchanged), anything else compactly."""
    if isinstance(request, (bytes, bytearray)):
        return bytes(request).decode("utf-8")
    if isinstance(request, str):
        return request
    return jcs.compact(request)


class Response:
    """A parsed gateway answer: status, headers, the body text and its JSON."""

    def __init__(self, status, headers, text):
        self.status, self.headers, self.text = status, headers, text
        try:
            self.json = json.loads(text) if text else None
        except json.JSONDecodeError:
            self.json = None

    def member_text(self, name):
        """The exact text of a top-level member (for hashing what was returned)."""
        return jcs.member_spans(self.text).get(name)


class SignResult(dict):
    """The /v1/sign answer ({"key_id","action","signed","receipt"}), plus
    `signed_text` and `receipt_text`: those members exactly as returned."""

    def __init__(self, resp, request_text_sent):
        super().__init__(resp.json)
        self.signed_text = resp.member_text("signed")
        self.receipt_text = resp.member_text("receipt")
        self.request_text = request_text_sent
        self.idempotency_key = None

    signed = property(lambda self: self["signed"])
    receipt = property(lambda self: self["receipt"])


def _parse_url(url):
    u = urllib.parse.urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("url: http:// or https:// with a host")
    return u


class Client:
    """A gateway client.

    url: the gateway (http:// or https://), or a list of gateways on one
    store (several pairs, docs/OPERATIONS.md "Multi-host topology"), also
    given as urls=[…]; token: the bearer token; timeout: seconds per attempt;
    retries: extra attempts after a transport error, 429, 502/503/504 or an
    "in progress" 409 on a retried sign (a sign keeps its Idempotency-Key
    across attempts, so it is signed at most once); with several gateways a
    transport error or a 502/503/504 moves the request, with the same
    Idempotency-Key, to the next gateway, which later calls then use first;
    every gateway is tried at least once, and an "in progress" 409 is retried
    for up to IN_PROGRESS_WAIT_S (a dead gateway's reservation lease);
    cacert: PEM file for a private TLS root; client_keys: {key_id: 32-byte
    seed} for keys that require client-signed requests."""

    def __init__(self, url=None, token=None, timeout=30.0, retries=2, backoff=0.2, cacert=None,
                 client_keys=None, urls=None):
        if urls is None:
            urls = list(url) if isinstance(url, (list, tuple)) else [url]
        elif url is not None:
            raise TypeError("Client: give url or urls, not both")
        if not urls or any(not isinstance(x, str) for x in urls):
            raise ValueError("url: http:// or https:// with a host")
        self._us = [_parse_url(x) for x in urls]
        self.urls = [x.rstrip("/") for x in urls]
        self._current = 0
        self._lock = threading.Lock()
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.client_keys = dict(client_keys or {})
        https = any(u.scheme == "https" for u in self._us)
        self._ssl = ssl.create_default_context(cafile=cacert) if https else None

    @property
    def url(self):
        """The gateway requests go to first (the last one that answered)."""
        return self.urls[self._current]

    def _failover(self, index):
        """Moves later calls to the gateway after index (unless another call already did)."""
        with self._lock:
            if self._current == index:
                self._current = (index + 1) % len(self.urls)
            return self._current

    # ---- transport ---------------------------------------------------------
    def _send(self, method, path, body, headers, index=None):
        """One HTTP exchange with gateway index (default: the current one):
        (status, headers dict, body text)."""
        u = self._us[self._current if index is None else index]
        if u.scheme == "https":
            conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=self.timeout,
                                               context=self._ssl)
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=self.timeout)
        try:
            conn.request(method, (u.path.rstrip("/") or "") + path, body=body,
                         headers=headers)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data.decode("utf-8")
        finally:
            conn.close()

    def request(self, method, path, body=None, auth=True, headers=None, idempotent=None):
        """Sends a request with retries; returns a Response or raises a SigilError.

        idempotent: whether a retry after a lost answer is safe (GET and
        requests with an Idempotency-Key are; default: GET only)."""
        h = dict(headers or {})
        if auth:
            if not self.token:
                raise errors.Unauthorized("no token given", status=401)
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            h["Content-Type"] = "application/json"
        if idempotent is None:
            idempotent = method == "GET" or "Idempotency-Key" in h
        # with n gateways, each may be tried once more than retries allows
        budget = self.retries + len(self.urls) - 1
        attempt, waited_since = 0, None
        index = self._current
        while True:
            try:
                # (one gateway: the plain four-argument call, which tests may replace)
                status, rh, text = (self._send(method, path, data, h) if len(self.urls) == 1
                                    else self._send(method, path, data, h, index=index))
            except TimeoutError as e:
                if idempotent and attempt < budget:
                    attempt += 1
                    index = self._next(index, attempt)
                    continue
                raise errors.Timeout(f"no answer within {self.timeout} s", status=None) from e
            except TRANSIENT as e:
                # refused: the request never reached that gateway, so any request may move
                moves = idempotent or isinstance(e, ConnectionRefusedError)
                if moves and attempt < budget:
                    attempt += 1
                    index = self._next(index, attempt)
                    continue
                raise errors.Unavailable(f"gateway unreachable ({type(e).__name__})",
                                         status=None) from e
            resp = Response(status, rh, text)
            if status < 400:
                return resp
            retry_after = _int_or_none(rh.get("retry-after"))
            err = errors.from_response(status, resp.json, retry_after)
            in_progress = status == 409 and attempt > 0 and "in progress" in err.message
            if idempotent and in_progress:
                waited_since = waited_since or time.monotonic()
                if time.monotonic() - waited_since < IN_PROGRESS_WAIT_S:
                    time.sleep(min(max(self.backoff * 2, 0.25), 1.0))
                    continue
            if idempotent and status in RETRY_STATUSES and attempt < budget:
                attempt += 1
                index = self._next(index, attempt, retry_after)
                continue
            if idempotent and status == 429 and attempt < self.retries:
                attempt += 1
                self._sleep(attempt, retry_after)
                continue
            raise err

    def _next(self, index, attempt, retry_after=None):
        """The gateway for the next attempt: the following one when there
        are several (at once the first time round), else after a backoff."""
        if len(self.urls) > 1:
            nxt = self._failover(index)
            if attempt >= len(self.urls):
                self._sleep(attempt - len(self.urls) + 1, retry_after)
            return nxt
        self._sleep(attempt, retry_after)
        return index

    def _sleep(self, attempt, retry_after=None):
        delay = self.backoff * (2 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, 5))
        time.sleep(delay)

    def _get_json(self, path, auth=True):
        return self.request("GET", path, auth=auth).json

    # ---- routes ------------------------------------------------------------
    def health(self):
        """GET /healthz: {"status":"ok","mode"}."""
        return self._get_json("/healthz", auth=False)

    def ready(self):
        """GET /readyz: {"status":"ready","mode","boot_id","kms","receipt_seq",…}."""
        return self._get_json("/readyz", auth=False)

    def metrics(self):
        """GET /metrics: Prometheus text."""
        return self.request("GET", "/metrics", auth=False).text

    def attestation(self, nonce):
        """GET /v1/attestation?nonce=HEX (nonce: bytes or hex). Unverified: use
        sigil_sdk.attestation.verify_live or Client.provision."""
        if isinstance(nonce, (bytes, bytearray)):
            nonce = bytes(nonce).hex()
        return self._get_json("/v1/attestation?nonce=" + urllib.parse.quote(nonce))

    def boot_document(self, boot_id):
        """GET /v1/attestation/boots/{boot_id}: the archived boot document."""
        return self._get_json("/v1/attestation/boots/" + urllib.parse.quote(boot_id, safe=""))

    def keys(self):
        """GET /v1/keys: the caller's live keys."""
        return self._get_json("/v1/keys")["keys"]

    def import_key(self, sealed):
        """POST /v1/keys with a sealed provisioning payload (bytes)."""
        return self.request("POST", "/v1/keys", _sealed_body(sealed)).json

    def update_policy(self, key_id, policy, owner_seed=None, policy_signature=None,
                      tenant=None):
        """PUT /v1/keys/{key_id}/policy. Give the owner key's seed (the policy
        is signed here, v2 message) or a `policy_signature` made elsewhere."""
        from .provision import policy_signature as sign_policy
        text = request_text(policy)
        if policy_signature is None:
            if owner_seed is None:
                raise ValueError("update_policy: owner_seed or policy_signature is required")
            policy_signature = sign_policy(text, owner_seed, key_id, tenant).hex()
        body = '{"policy":' + text + ',"policy_signature":' + json.dumps(policy_signature) + "}"
        return self.request("PUT", f"/v1/keys/{_seg(key_id)}/policy", body).json

    def rotate_credentials(self, key_id, sealed):
        """PUT /v1/keys/{key_id}/credentials with a sealed provisioning payload
        (bytes) for the same key: credential rotation (see Client.rotate)."""
        path = f"/v1/keys/{_seg(key_id)}/credentials"
        return self.request("PUT", path, _sealed_body(sealed)).json

    def rewrap(self, key_id):
        """POST /v1/keys/{key_id}/rewrap: the same payload sealed under a new
        data key; {"key_id","policy_hash","version","receipt"}."""
        return self._key_op(key_id, "rewrap")

    def disable(self, key_id):
        """POST /v1/keys/{key_id}/disable: the tenant's reversible switch (host
        side); its signs are then 409 key_disabled (KeyDisabled). {"key_id","state"}."""
        return self._key_op(key_id, "disable", idempotent=True)

    def enable(self, key_id):
        """POST /v1/keys/{key_id}/enable: undoes disable. {"key_id","state"}."""
        return self._key_op(key_id, "enable", idempotent=True)

    def revoke(self, key_id, tenant=None, owner_seed=None, signature=None):
        """POST /v1/keys/{key_id}/revoke: the owner's final switch, enforced by
        the enclave (docs/POLICY.md "Revocation"). Give the owner key's seed and
        the key's tenant (the revocation is signed here) or a `signature` (64
        bytes or 128 hex) made elsewhere, e.g. by `sigil revoke sign`.
        {"key_id","state":"revoked","receipt"}; later signs raise Revoked."""
        from .provision import revoke_signature
        if signature is None:
            if owner_seed is None or tenant is None:
                raise ValueError("revoke: tenant and owner_seed, or signature, are required")
            signature = revoke_signature(tenant, key_id, owner_seed)
        if isinstance(signature, (bytes, bytearray)):
            signature = bytes(signature).hex()
        body = jcs.compact({"signature": signature})
        return self.request("POST", f"/v1/keys/{_seg(key_id)}/revoke", body).json

    def _key_op(self, key_id, op, idempotent=None):
        """POST /v1/keys/{key_id}/{op} without a body."""
        return self.request("POST", f"/v1/keys/{_seg(key_id)}/{op}", idempotent=idempotent).json

    def delete_key(self, key_id):
        """DELETE /v1/keys/{key_id} (204)."""
        self.request("DELETE", f"/v1/keys/{_seg(key_id)}")

    def audit(self, since=0, limit=100):
        """GET /v1/audit?since=&limit=: {"records":[…],"next"}."""
        return self._get_json(f"/v1/audit?since={int(since)}&limit={int(limit)}")

    def audit_all(self, since=0):
        """Every audit record of the caller after `since`, following `next`."""
        out = []
        while True:
            page = self.audit(since=since, limit=1000)
            out.extend(page["records"])
            if page.get("next") is None:
                return out
            since = page["next"]

    def sign(self, key_id, request, idempotency_key=True, client_key=None, timestamp=None,
             nonce=None):
        """POST /v1/sign. `request`: the venue request (dict, or JSON text sent
        exactly as given). idempotency_key: True (default) draws a fresh one, so
        the retries of this call never sign twice; a string uses it; None sends
        none (and then a lost answer is not retried). client_key: the client
        key's seed (default: client_keys[key_id]) for keys that bind one.
        Returns a SignResult; a denial raises PolicyDenied / StaleRequest /
        BadSignature with the receipt."""
        text = request_text(request)
        body = '{"key_id":' + json.dumps(key_id) + ',"request":' + text
        seed = client_key if client_key is not None else self.client_keys.get(key_id)
        if seed is not None:
            cl = client_signature(seed, key_id, text, timestamp, nonce)
            body += ',"client":' + jcs.compact(cl)
        body += "}"
        headers = {}
        if idempotency_key is True:
            idempotency_key = base64.urlsafe_b64encode(os.urandom(24)).decode()
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        resp = self.request("POST", "/v1/sign", body, headers=headers)
        result = SignResult(resp, text)
        result.idempotency_key = idempotency_key or None
        return result

    # ---- higher level --------------------------------------------------------
    def provision(self, *args, **kw):
        """Seals and imports a credential like `sigil seal` (see
        sigil_sdk.provision.provision)."""
        from .provision import provision
        return provision(self, *args, **kw)

    def rotate(self, key_id, *args, **kw):
        """Seals new credentials for key_id and rotates to them like `sigil seal
        --rotate` (see sigil_sdk.provision.rotate)."""
        from .provision import rotate
        return rotate(self, key_id, *args, **kw)

    def verify_receipt(self, receipt, measurement, root, document=None):
        """Verifies a receipt like `sigil receipt verify`, fetching the boot's
        archived document unless `document` (raw COSE bytes) is given."""
        from .receipts import verify_receipt
        return verify_receipt(receipt, measurement, root, document=document, client=self)


def _sealed_body(sealed):
    return jcs.compact({"sealed": base64.b64encode(sealed).decode()})


def _seg(s):
    return urllib.parse.quote(s, safe="")


def _int_or_none(s):
    try:
        return int(s)
    except (TypeError, ValueError):
        return None
