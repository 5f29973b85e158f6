"""A live dev stack for the whole session: sdk/stack_fixture.py (key service,
launcher + enclave, gateway, one sealed test key per ccxt venue) started as a
child process; it writes its fixture JSON (a ready file) and stops when its
stdin closes. SIGIL_BIN_DIR names the build's bin directory."""
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
import sigil_sdk  # noqa: E402  (the installed package, not this tree)

READY_TIMEOUT_S = 180


def _bin_dir():
    d = os.environ.get("SIGIL_BIN_DIR")
    if not d:
        pytest.exit("SIGIL_BIN_DIR is not set (sdk/python/run-tests.sh BIN_DIR sets it)", 2)
    return os.path.abspath(d)


@pytest.fixture(scope="session")
def stack():
    tmp = tempfile.mkdtemp(prefix="sigil-sdk-py-")
    out = os.path.join(tmp, "fixture.json")
    log = open(os.path.join(tmp, "stack.log"), "wb")
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "sdk", "stack_fixture.py"),
                             _bin_dir(), out], stdin=subprocess.PIPE, stdout=log, stderr=log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    fixture = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with open(out) as f:
                fixture = json.load(f)
            break
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)
    if fixture is None:
        proc.kill()
        proc.wait()
        log.close()
        with open(log.name, errors="replace") as f:
            tail = f.read()[-4000:]
        pytest.exit(f"the dev stack did not start:\n{tail}", 2)
    fixture["seed_bytes"] = bytes.fromhex(fixture["owner_seed"])
    fixture["tmp"] = tmp
    yield fixture
    proc.stdin.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def client(stack):
    return sigil_sdk.Client(stack["gateway"], stack["token"])


@pytest.fixture(scope="session")
def pins(stack):
    """(measurement, root) to verify documents and receipts against."""
    return stack["measurement"], stack["root_file"]
