"""The client against a live gateway: every route, typed errors, idempotent
retries and client-signed requests."""
import hashlib
import json
import time

import pytest

import sigil_sdk
from sigil_sdk import errors
from sigil_sdk.client import client_message, request_hash


def now_ms():
    return int(time.time() * 1000)


def binance_order(ts=None, qty="1"):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price=0.1",
            "timestamp": ts or now_ms(), "recv_window": 5000}


def test_health_and_ready(client):
    assert client.health()["status"] == "ok"
    r = client.ready()
    assert r["status"] == "ready" and len(r["boot_id"]) == 32


def test_metrics(client):
    text = client.metrics()
    assert "sigil_http_requests_total" in text


def test_keys_lists_the_fixture_keys(client, stack):
    ids = {k["key_id"]: k for k in client.keys()}
    for name, k in stack["keys"].items():
        assert k["key_id"] in ids, name
        assert ids[k["key_id"]]["venue"] == k["venue"]


def test_attestation_and_boot_document(client):
    att = client.attestation(b"\x01" * 32)
    assert set(att) >= {"document", "measurement", "sealing_key", "receipt_key", "boot_id"}
    boot = client.boot_document(att["boot_id"])
    assert boot["boot_id"] == att["boot_id"] and boot["measurement"] == att["measurement"]


def test_sign_returns_signed_request_and_receipt(client, stack, pins):
    key = stack["keys"]["binance"]
    res = client.sign(key["key_id"], binance_order())
    assert res["action"] == "order"
    signed = res.signed
    assert signed["headers"]["X-MBX-APIKEY"] == key["credentials"]["api_key"]
    assert "&signature=" in signed["body"]
    # the receipt names exactly what was asked and returned
    r = res.receipt
    assert r["request_hash"] == request_hash(res.request_text).hex()
    assert r["output_hash"] == hashlib.sha256(res.signed_text.encode()).hexdigest()
    out = client.verify_receipt(res.receipt_text, *pins)
    assert out["ok"] and out["decision"] == "allow" and out["key_id"] == key["key_id"]


def test_sign_request_text_is_sent_exactly(client, stack):
    key = stack["keys"]["binance"]
    text = json.dumps(binance_order(), indent=2)  # spacing kept: hashed in JCS form
    res = client.sign(key["key_id"], text)
    assert res.receipt["request_hash"] == request_hash(text).hex()


@pytest.mark.parametrize("status_code,call", [
    ("unauthorized", lambda c, s: sigil_sdk.Client(c.url, "sgl_" + "0" * 16 + "_" + "0" * 64).keys()),
    ("not_found", lambda c, s: c.sign("0" * 32, binance_order())),
    ("not_found", lambda c, s: c.boot_document("f" * 32)),
    ("missing_field", lambda c, s: c.request("POST", "/v1/sign", '{"request":{}}')),
    ("bad_json", lambda c, s: c.request("POST", "/v1/sign", '{"key_id":')),
    ("unknown_field", lambda c, s: c.request("POST", "/v1/sign", '{"key_id":"x","request":{},"z":1}')),
    ("bad_request", lambda c, s: c.request("GET", "/v1/audit?bogus=1")),
])
def test_typed_errors(client, stack, status_code, call):
    classes = {"unauthorized": errors.Unauthorized, "not_found": errors.NotFound,
               "missing_field": errors.BadRequest, "bad_json": errors.BadRequest,
               "unknown_field": errors.BadRequest, "bad_request": errors.BadRequest}
    with pytest.raises(classes[status_code]) as ei:
        call(client, stack)
    assert ei.value.code == status_code
    assert ei.value.status in (400, 401, 404)


def test_policy_denial_carries_a_verifiable_receipt(client, stack, pins):
    key = stack["keys"]["binance"]
    req = {"method": "POST", "path": "/sapi/v1/capital/withdraw/apply", "query": "",
           "body": "coin=BTC&address=bc1qexample&amount=1", "timestamp": now_ms()}
    with pytest.raises(errors.PolicyDenied) as ei:
        client.sign(key["key_id"], req)
    e = ei.value
    assert e.status == 422 and e.code == "policy_denied"
    assert e.receipt["decision"] == "deny" and e.receipt["action"] == "withdraw"
    out = client.verify_receipt(e.receipt, *pins)
    assert out["decision"] == "deny"


def test_stale_request(client, stack):
    key = stack["keys"]["binance"]
    with pytest.raises(errors.StaleRequest) as ei:
        client.sign(key["key_id"], binance_order(ts=now_ms() - 10 * 60 * 1000))
    assert ei.value.receipt is not None


def test_conflict_on_reused_idempotency_key(client, stack):
    key = stack["keys"]["binance"]
    client.sign(key["key_id"], binance_order(qty="2"), idempotency_key="sdk-py-conflict-1")
    with pytest.raises(errors.Conflict):
        client.sign(key["key_id"], binance_order(qty="3"), idempotency_key="sdk-py-conflict-1")


def _count_sign_records(client, req_hash):
    return sum(1 for r in client.audit_all() if r["request_hash"] == req_hash)


def test_retry_after_a_lost_answer_signs_once(client, stack, monkeypatch):
    """The first answer is lost on the way back (the gateway did the work); the
    retry carries the same Idempotency-Key and gets the stored answer."""
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client(client.url, client.token, retries=2, backoff=0.01)
    calls = []
    real_send = c._send

    def lossy_send(method, path, body, headers):
        answer = real_send(method, path, body, headers)
        calls.append((headers.get("Idempotency-Key"), answer[0]))
        if len(calls) == 1:
            raise ConnectionResetError("answer lost")
        return answer

    monkeypatch.setattr(c, "_send", lossy_send)
    req = binance_order(qty="7")
    res = c.sign(key["key_id"], req)
    assert len(calls) == 2 and calls[0][0] == calls[1][0] == res.idempotency_key
    # audit rows hash the request text as sent (docs/API.md "Audit")
    h = hashlib.sha256(res.request_text.encode()).hexdigest()
    assert _count_sign_records(client, h) == 1
    # the stored answer: the same receipt (one enclave decision), same signature
    recs = [r for r in client.audit_all() if r["request_hash"] == h]
    assert recs[0]["receipt"]["signature"] == res.receipt["signature"]


def test_no_retry_without_idempotency_key(client, stack, monkeypatch):
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client(client.url, client.token, retries=2, backoff=0.01)
    calls = []
    real_send = c._send

    def lossy_send(method, path, body, headers):
        real_send(method, path, body, headers)
        calls.append(1)
        raise ConnectionResetError("answer lost")

    monkeypatch.setattr(c, "_send", lossy_send)
    with pytest.raises(errors.Unavailable):
        c.sign(key["key_id"], binance_order(qty="8"), idempotency_key=None)
    assert len(calls) == 1


def test_client_signed_request(client, stack):
    key = stack["keys"]["binance_client"]
    seed = bytes.fromhex(stack["client_seed"])
    # without the client signature: refused
    with pytest.raises(errors.BadSignature):
        client.sign(key["key_id"], binance_order())
    res = client.sign(key["key_id"], binance_order(), client_key=seed)
    assert res["action"] == "order"
    # through Client(client_keys=…)
    c2 = sigil_sdk.Client(client.url, client.token, client_keys={key["key_id"]: seed})
    assert c2.sign(key["key_id"], binance_order())["action"] == "order"
    # another key's signature: refused
    with pytest.raises(errors.BadSignature):
        client.sign(key["key_id"], binance_order(), client_key=b"\x07" * 32)


def test_client_signature_message_layout():
    """Independent of the SDK's helpers: the documented message bytes."""
    import struct
    kid, req = "ab" * 16, '{"b":1,"a":[1.0,"x"]}'
    msg = client_message(kid, req, 1767225600000, "n" * 16)
    canon = b'{"a":[1,"x"],"b":1}'
    want = (b"sigil-request-v1\x00" + struct.pack(">I", 32) + kid.encode()
            + hashlib.sha256(canon).digest() + struct.pack(">Q", 1767225600000)
            + struct.pack(">I", 16) + b"n" * 16)
    assert msg == want


def test_replayed_client_signature_refused(client, stack):
    key = stack["keys"]["binance_client"]
    seed = bytes.fromhex(stack["client_seed"])
    req, ts = binance_order(), now_ms()
    client.sign(key["key_id"], req, client_key=seed, timestamp=ts, nonce="replay-nonce-0001",
                idempotency_key=None)
    with pytest.raises(errors.BadSignature) as ei:
        client.sign(key["key_id"], req, client_key=seed, timestamp=ts,
                    nonce="replay-nonce-0001", idempotency_key=None)
    assert "replay" in ei.value.message


def test_audit_pages(client):
    page = client.audit(since=0, limit=2)
    assert len(page["records"]) <= 2
    every = client.audit_all()
    assert all(r["tenant"] == "default" for r in every)
    assert [r["seq"] for r in every] == sorted(r["seq"] for r in every)


def test_timeout_is_typed():
    """A server that accepts and never answers: the client gives up with Timeout."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    try:
        port = srv.getsockname()[1]
        c = sigil_sdk.Client(f"http://127.0.0.1:{port}", "sgl_x", timeout=0.2, retries=1,
                             backoff=0.01)
        with pytest.raises(errors.Timeout):
            c.keys()
    finally:
        srv.close()


def test_unreachable_is_typed():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now; connecting is refused
    c = sigil_sdk.Client(f"http://127.0.0.1:{port}", "sgl_x", retries=0)
    with pytest.raises(errors.Unavailable):
        c.health()


def test_rate_limited_then_retried(client):
    """GET /v1/attestation is limited per token (5/s, burst 10): without retries
    the client raises RateLimited with Retry-After; with retries it waits."""
    c = sigil_sdk.Client(client.url, client.token, retries=0)
    with pytest.raises(errors.RateLimited) as ei:
        for _ in range(40):
            c.attestation(b"\x02" * 32)
    assert ei.value.status == 429 and ei.value.retry_after is not None
    patient = sigil_sdk.Client(client.url, client.token, retries=3)
    assert "document" in patient.attestation(b"\x03" * 32)
