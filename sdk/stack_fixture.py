#!/usr/bin/env python3
"""A throw-away Sigil dev stack with test keys for the SDK test suites.

    python3 sdk/stack_fixture.py BIN_DIR FIXTURE_JSON

Starts key service, launcher + enclave and gateway in a temporary directory
(tests/e2e/e2e_util.py's TempStack), seals one test key per ccxt venue with
`sigil seal`, writes FIXTURE_JSON atomically (tmp + rename, mode 0600) and
stays up until SIGTERM/SIGINT or until its stdin reaches end of file (so run
it with a pipe or FIFO that the caller holds open, not </dev/null); then it
stops the stack, removes its directory and FIXTURE_JSON, and exits 0. On a
start failure it prints the last log lines on stderr and exits 1 without
writing FIXTURE_JSON; if a server dies meanwhile it stops and exits 1.

FIXTURE_JSON (every path absolute):

    {"gateway": "http://127.0.0.1:PORT",      # the gateway's base URL
     "token": "sgl_…",                         # bearer token of tenant "default"
     "tenant": "default",                     # the token's tenant (policies name it)
     "measurement": "<96 hex>",                # the dev enclave's PCR0 (pin it)
     "root_pem": "-----BEGIN CERTIFICATE-----…",  # the dev attestation root
     "root_file": "/…/root.pem",
     "bin_dir": "/…/bin", "sigil": "/…/bin/sigil",
     "dir": "/…",                              # scratch directory, removed at exit
     "home": "/…",                             # the stack's state directory (SQLite store: home/sigil.db)
     "gateway_argv": ["/…/sigil-gateway", …],  # another gateway on the same store and enclave
                                               # (add --ready-file PATH; it binds 127.0.0.1:0)
     "owner_key_file": "/…/owner.key",         # keygen format (docs/PROVISIONING.md)
     "owner_seed": "<64 hex>", "owner_pubkey": "<64 hex>",
     "client_key_file": "/…/client.key",       # the client key bound to keys.binance_client
     "client_seed": "<64 hex>", "client_pubkey": "<64 hex>",
     "not_after": <unix s>,                    # of every test policy
     "keys": {
       "<name>": {"key_id": "<32 hex>", "venue": "<sigil venue>", "network": "mainnet",
                  "ccxt": "<ccxt exchange id>", "client_key": false,
                  "credentials": {…},          # the dummy credentials sealed in the key
                  "address": "0x…"|null,       # wallet venues: the key's address
                  "policy": {…}}               # the policy sealed with it
     }}

Key names: binance, binanceusdm (sigil venue binance), bybit, okx,
kucoinfutures, hyperliquid, aster — each without a client key — and
binance_client (venue binance, ccxt binance) bound to the client key. Every
policy allows every action (`["*"]`; withdrawals and transfers are still
denied where no `destinations` are listed) on mainnet for 30 days;
hyperliquid's also lists ccxt's builder address in `agents` (ccxt approves
its builder fee before the first order), the vault 0x1f1f…1f in `hyperliquid.vaults` and 0x2e2e…2e in `destinations`.

The credentials are dummies made for this fixture, so tests can give them to
ccxt and compare what it sends with what a wrapped instance sends.
"""
import hashlib
import json
import os
import select
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from e2e_util import StackError, TempStack  # noqa: E402


def _hex(label, n=32):
    return hashlib.sha256(b"sigil-sdk-fixture/" + label.encode()).hexdigest()[: 2 * n]


def _cex(label, passphrase=False):
    cred = {"api_key": "key-" + _hex(label + "/key", 12), "secret": _hex(label + "/secret")}
    if passphrase:
        cred["passphrase"] = "pass-" + _hex(label + "/pass", 6)
    return cred


def _wallet(label):
    return {"private_key": "0x" + _hex(label + "/wallet")}


# ccxt's Hyperliquid builder address: ccxt approves it (approveBuilderFee, an
# `agent` action) before its first order, so the policy lists it.
CCXT_HL_BUILDER = "0x6530512a6c89c7cfcebc3ba7fcd9ada5f30827a6"
HL_VAULT = "0x" + "1f" * 20  # a vault the hyperliquid test key may trade for
HL_DESTINATION = "0x" + "2e" * 20  # where it may withdraw and transfer to

# name -> (sigil venue, ccxt id, credentials, bind the client key)
KEYS = {
    "binance": ("binance", "binance", _cex("binance"), False),
    "binanceusdm": ("binance", "binanceusdm", _cex("binanceusdm"), False),
    "bybit": ("bybit", "bybit", _cex("bybit"), False),
    "okx": ("okx", "okx", _cex("okx", passphrase=True), False),
    "kucoinfutures": ("kucoinfutures", "kucoinfutures", _cex("kucoinfutures", True), False),
    "hyperliquid": ("hyperliquid", "hyperliquid", _wallet("hyperliquid"), False),
    "aster": ("aster", "aster", _wallet("aster"), False),
    "binance_client": ("binance", "binance", _cex("binance_client"), True),
}


def _keygen(stack, name):
    path = stack.path(name)
    stack.sigil("keygen", "--out", path)
    with open(path) as f:
        return path, json.load(f)


def _seal_all(stack, client_file, not_after):
    keys = {}
    for name, (venue, ccxt_id, cred, bind) in KEYS.items():
        policy = {"version": 1, "tenant": "default", "venue": venue, "network": "mainnet",
                  "actions": ["*"], "not_after": not_after}
        if venue == "hyperliquid":
            policy["agents"] = [CCXT_HL_BUILDER]
            policy["hyperliquid"] = {"vaults": [HL_VAULT]}
            policy["destinations"] = [HL_DESTINATION]
        cred_file = stack.write(f"cred-{name}.json", cred)
        policy_file = stack.write(f"policy-{name}.json", policy)
        extra = ("--client-key", client_file) if bind else ()
        out = stack.seal(venue, "mainnet", cred_file, policy_file, stack.path("owner.key"),
                         extra=extra, client=bind)
        keys[name] = {"key_id": out["key_id"], "venue": venue, "network": "mainnet",
                      "ccxt": ccxt_id, "client_key": bind, "credentials": cred,
                      "address": out.get("address"), "policy": policy}
    return keys


def _gateway_argv(stack):
    """How the stack's gateway was started, minus its ready file: a second
    gateway on the same store and enclave (tests kill it mid-run)."""
    return [stack.exe("sigil-gateway"), "--home", stack.home, "--listen", "127.0.0.1:0",
            "--enclave", "unix:" + stack.enclave_socket(),
            "--kms-credentials", stack.kms["credentials"], *stack.store_args]


def _write_atomic(path, obj):
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def _fixture(stack):
    owner_file, owner = _keygen(stack, "owner.key")
    client_file, client = _keygen(stack, "client.key")
    not_after = int(time.time()) + 30 * 86400
    root = os.path.abspath(stack.launch["root"])
    with open(root) as f:
        root_pem = f.read()
    return {"gateway": stack.gateway["url"], "token": stack.token, "tenant": "default",
            "measurement": stack.launch["measurement"], "root_pem": root_pem,
            "root_file": root, "bin_dir": stack.bin, "sigil": stack.exe("sigil"),
            "dir": stack.tmp, "home": stack.home, "gateway_argv": _gateway_argv(stack),
            "owner_key_file": owner_file, "owner_seed": owner["secret_key"],
            "owner_pubkey": owner["public_key"], "client_key_file": client_file,
            "client_seed": client["secret_key"], "client_pubkey": client["public_key"],
            "not_after": not_after, "keys": _seal_all(stack, client_file, not_after)}


def _stdin_closed(timeout):
    """Waits up to `timeout` s for stdin; true once it is at end of file (or unusable)."""
    try:
        readable, _, _ = select.select([0], [], [], timeout)
        return bool(readable) and os.read(0, 4096) == b""
    except (OSError, ValueError):
        return True


def _print_logs(stack):
    for name, path in stack.logs.items():
        print(f"--- {name} ({path}), last lines:", file=sys.stderr)
        with open(path, errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-15:]))


def main(argv):
    if len(argv) != 3:
        print("usage: stack_fixture.py BIN_DIR FIXTURE_JSON", file=sys.stderr)
        return 2
    out = os.path.abspath(argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stack = TempStack(argv[1])
    try:
        stack.start()
        _write_atomic(out, _fixture(stack))
    except (StackError, OSError, KeyError, ValueError) as e:
        print(f"stack_fixture: {e}", file=sys.stderr)
        _print_logs(stack)
        stack.cleanup()
        return 1

    print(f"stack_fixture: up, fixture {out}", file=sys.stderr, flush=True)
    status = 0
    while not stop.is_set():
        if _stdin_closed(0.5):
            break
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        if dead:
            print(f"stack_fixture: {', '.join(dead)} exited; stopping", file=sys.stderr)
            _print_logs(stack)
            status = 1
            break
    try:
        os.unlink(out)
    except FileNotFoundError:
        pass
    stack.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
