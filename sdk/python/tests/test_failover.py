"""Several gateway URLs: a request moves to the next gateway on a refused
connection, a lost answer or a 503, with the same Idempotency-Key, and is
signed once (one audit record); an "in progress" 409 (a dead gateway's
reservation) is waited out. The live stack has one gateway, so the other
"gateways" here are a closed port and a transport that fails on purpose."""
import hashlib
import socket
import time

import pytest

import sigil_sdk
from sigil_sdk import errors


def binance_order(qty):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price=0.1",
            "timestamp": int(time.time() * 1000), "recv_window": 5000}


def closed_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now; connecting is refused
    return f"http://127.0.0.1:{port}"


def sign_rows(client, res):
    h = hashlib.sha256(res.request_text.encode()).hexdigest()
    return [r for r in client.audit_all() if r["request_hash"] == h]


def scripted(c, script):
    """Replaces c._send: script[i] (a callable or an exception) answers the
    i-th exchange, then the real transport; returns the list of calls."""
    real_send, calls = c._send, []

    def send(method, path, body, headers, index=None):
        calls.append((index, headers.get("Idempotency-Key")))
        step = script[len(calls) - 1] if len(calls) <= len(script) else None
        if isinstance(step, BaseException):
            raise step
        if step is not None:
            return step()
        return real_send(method, path, body, headers, index=index)

    c._send = send
    return calls


def test_urls_arguments(stack):
    live = stack["gateway"]
    assert sigil_sdk.Client(live).urls == [live]
    c = sigil_sdk.Client([live + "/", "http://127.0.0.2:1"])
    assert c.urls == [live, "http://127.0.0.2:1"] and c.url == live
    assert sigil_sdk.Client(urls=(live,)).url == live
    with pytest.raises(TypeError):
        sigil_sdk.Client(live, urls=[live])
    with pytest.raises(ValueError):
        sigil_sdk.Client(["ftp://x"])
    with pytest.raises(ValueError):
        sigil_sdk.Client([])


def test_refused_gateway_moves_on_and_stays_moved(client, stack):
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client([closed_url(), stack["gateway"]], client.token, retries=0)
    res = c.sign(key["key_id"], binance_order("11"))
    assert c.url == stack["gateway"]  # later calls go to the gateway that answered
    assert len(sign_rows(client, res)) == 1
    # a request without an Idempotency-Key moves on a refused connection too (never sent)
    c2 = sigil_sdk.Client([closed_url(), stack["gateway"]], client.token, retries=0)
    assert len(sign_rows(client, c2.sign(key["key_id"], binance_order("12"),
                                        idempotency_key=None))) == 1


def test_lost_answer_retried_on_the_next_gateway_with_the_same_key(client, stack):
    """The first gateway did the work and died before answering: the next one
    returns the stored answer (same key), so the request is signed once."""
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client([stack["gateway"], stack["gateway"] + "/"], client.token, retries=0)
    real_send = c._send
    calls = []

    def lossy(method, path, body, headers, index=None):
        answer = real_send(method, path, body, headers, index=index)
        calls.append((index, headers.get("Idempotency-Key")))
        if len(calls) == 1:
            raise ConnectionResetError("gateway died")
        return answer

    c._send = lossy
    res = c.sign(key["key_id"], binance_order("13"))
    assert [i for i, _ in calls] == [0, 1]
    assert calls[0][1] == calls[1][1] == res.idempotency_key
    rows = sign_rows(client, res)
    assert len(rows) == 1 and rows[0]["receipt"]["signature"] == res.receipt["signature"]


def test_unavailable_moves_to_the_next_gateway(client, stack):
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client([stack["gateway"], stack["gateway"] + "/"], client.token, retries=0)
    body = '{"error":{"code":"unavailable","message":"enclave unavailable"}}'
    calls = scripted(c, [lambda: (503, {}, body)])
    res = c.sign(key["key_id"], binance_order("14"))
    assert [i for i, _ in calls] == [0, 1] and calls[0][1] == calls[1][1]
    assert c.url == c.urls[1] and len(sign_rows(client, res)) == 1


def test_in_progress_is_waited_out(client, stack):
    """The next gateway answers 409 "in progress" while the dead one's lease
    runs; the client retries there until the stored or fresh answer comes."""
    key = stack["keys"]["binance"]
    c = sigil_sdk.Client([stack["gateway"], stack["gateway"] + "/"], client.token, retries=0,
                         backoff=0.01)
    busy = '{"error":{"code":"conflict","message":"Idempotency-Key: a request with this key' \
           ' is in progress"}}'
    calls = scripted(c, [ConnectionResetError("gateway died"), lambda: (409, {}, busy),
                         lambda: (409, {}, busy)])
    res = c.sign(key["key_id"], binance_order("15"))
    assert [i for i, _ in calls] == [0, 1, 1, 1]
    assert len({k for _, k in calls}) == 1 and len(sign_rows(client, res)) == 1


def test_every_gateway_down_is_unavailable(client):
    c = sigil_sdk.Client([closed_url(), closed_url()], client.token, retries=0)
    with pytest.raises(errors.Unavailable):
        c.keys()
