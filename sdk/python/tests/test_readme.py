"""The README's examples, executed against the live stack."""
import contextlib
import io
import os
import re
import time

import ccxt
import pytest

import sigil_sdk

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


def blocks():
    with open(README) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_quickstart_is_ten_lines():
    assert len(blocks()[0].strip().splitlines()) == 10


def test_quickstart_runs(stack):
    ns = {"GATEWAY_URL": stack["gateway"], "TOKEN": stack["token"],
          "MEASUREMENT": stack["measurement"], "ROOT": stack["root_file"],
          "API_KEY": "readme-api-key", "API_SECRET": "readme-secret-0123456789"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks()[0], "README.md quickstart", "exec"), ns)
    assert out.getvalue().strip().endswith("True")
    assert ns["res"].signed["headers"]["X-MBX-APIKEY"] == "readme-api-key"
    assert "readme-secret" not in out.getvalue()


def test_ccxt_example_runs(stack, monkeypatch):
    """The drop-in example with ccxt's network replaced: the request it would
    send carries Sigil's signature for the fixture's binance key."""
    key = stack["keys"]["binance"]
    sent = []

    def fetch(self, url, method="GET", headers=None, body=None):
        sent.append((url, method, headers, body))
        return {"balances": [{"asset": "BTC", "free": "1.0", "locked": "0.0"}],
                "updateTime": 0, "accountType": "SPOT"}

    monkeypatch.setattr(ccxt.binance, "fetch", fetch)
    monkeypatch.setattr(ccxt.binance, "load_markets", lambda self, *a, **k: {})
    ns = {"GATEWAY_URL": stack["gateway"], "TOKEN": stack["token"],
          "API_KEY": key["credentials"]["api_key"], "KEY_ID": key["key_id"]}
    exec(compile(blocks()[1], "README.md ccxt", "exec"), ns)
    assert ns["balance"]["BTC"]["free"] == 1.0
    url, method, headers, _ = sent[0]
    assert method == "GET" and "/api/v3/account?" in url and "&signature=" in url
    assert headers["X-MBX-APIKEY"] == key["credentials"]["api_key"]
    assert ns["exchange"].secret in (None, "")


def test_lifecycle_example_runs(stack, pins):
    """The key lifecycle example: the key ends revoked with the rotated
    credentials' policy version, and the generated wallet key is listed
    under the address printed."""
    block = blocks()[3]
    assert "client.revoke(" in block
    ns = {"GATEWAY_URL": stack["gateway"], "TOKEN": stack["token"],
          "MEASUREMENT": stack["measurement"], "ROOT": stack["root_file"],
          "API_KEY": "readme-life-key-1", "API_SECRET": "readme-life-secret-1",
          "NEW_API_KEY": "readme-life-key-2", "NEW_API_SECRET": "readme-life-secret-2"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md key lifecycle", "exec"), ns)
    client, kid = ns["client"], ns["kid"]
    listed = {k["key_id"]: k for k in client.keys()}
    assert (listed[kid]["state"], listed[kid]["policy_version"]) == ("revoked", 2)
    address = out.getvalue().strip()
    assert listed[ns["wallet"]["key_id"]]["address"] == address and address.startswith("0x")
    with pytest.raises(sigil_sdk.Revoked):
        client.sign(kid, {"method": "GET", "path": "/api/v3/account", "query": "",
                          "timestamp": int(time.time() * 1000)}, client_key=ns["key"].client_seed)
