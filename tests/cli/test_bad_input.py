#!/usr/bin/env python3
"""Bad input to `sigil sign`: a table of malformed requests, credentials and
argument lists.

usage: test_bad_input.py SIGIL_BINARY TESTS_DIR

Every row must give exit status 2, nothing on stdout, and exactly one line on
stderr that is the JSON {"error":{"code","message"}} with the expected stable
code and a message naming the field. Every row runs with known secrets in its
credentials (an HMAC secret, PEM keys, a wallet key) and checks that no
secret, no hex of a key and no base64 line of a PEM appears in the output.
Rows for venues `sigil help` does not list are skipped with the reason.
Python standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HMAC_SECRET = "SiGiL-hmac-secret-7f3a9c1e5b2d4086-must-not-leak"
API_KEY = "test-api-key-1"
WALLET_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SECP256K1_N = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
# A throwaway Ed25519 key, generated for this test only.
ED25519_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEILIdwNCTDj7/Il+q8V4g+s6bklqkA5x6KzSrFuhYEQPp\n"
    "-----END PRIVATE KEY-----\n"
)
TS = 1700000000000

GOOD_CEX_REQUEST = {"method": "GET", "path": "/api/v3/order",
                    "query": "symbol=BTCUSDT&side=BUY", "body": "", "timestamp": TS}
GOOD_POST_REQUEST = {"method": "POST", "path": "/api/v3/order", "query": "",
                     "body": "symbol=BTCUSDT&side=BUY", "timestamp": TS}
GOOD_HL_REQUEST = {
    "action": {"type": "order",
               "orders": [{"a": 0, "b": True, "p": "100", "s": "1", "r": False,
                           "t": {"limit": {"tif": "Gtc"}}}],
               "grouping": "na"},
    "nonce": TS,
}
# EIP-55 test address from the specification, one letter's case flipped.
BAD_CHECKSUM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"

# Credential members whose values are secret (including misspelt ones).
SECRET_FIELDS = ("secret", "secrett", "private_key", "privateKey", "passphrase")

DEFAULT_ARGS = ["sign", "--venue", "{venue}", "--credentials", "{cred}"]


def hmac_cred(**extra):
    c = {"api_key": API_KEY, "secret": HMAC_SECRET}
    c.update(extra)
    return c


def wallet_cred(key="0x" + WALLET_KEY, **extra):
    c = {"private_key": key}
    c.update(extra)
    return c


def req(base=None, **changes):
    r = dict(GOOD_CEX_REQUEST if base is None else base)
    for k, v in changes.items():
        if v is DROP:
            r.pop(k, None)
        else:
            r[k] = v
    return r


class _Drop:
    pass


DROP = _Drop()
MISSING_FILE = object()
DIRECTORY = object()


class Row:
    def __init__(self, name, code, field, cred=None, stdin=None, args=None, venue="binance",
                 secrets=(), needs=None):
        self.name = name
        self.code = code
        self.field = field            # substring the message must contain
        self.cred = hmac_cred() if cred is None else cred
        self.stdin = GOOD_CEX_REQUEST if stdin is None else stdin
        self.args = DEFAULT_ARGS if args is None else args
        self.venue = venue
        self.secrets = list(secrets)  # extra secret strings in this row's input
        self.needs = needs            # callable(env) -> reason to skip, or None


def build_table(env):
    """env holds keys generated at test time (PEM strings, or None)."""
    rsa, rsa1024, enc = env["rsa_pem"], env["rsa1024_pem"], env["encrypted_pem"]
    needs_openssl = (lambda e: None if e["rsa1024_pem"] else "openssl is not available")
    needs_hl = (lambda e: None if "hyperliquid" in e["venues"]
                else "`sigil help` does not list hyperliquid")
    T = []
    add = T.append

    # ---- request: not strict JSON ----
    good = json.dumps(GOOD_CEX_REQUEST)
    add(Row("request truncated", "bad_json", "JSON", stdin=good[:-5]))
    add(Row("request trailing comma", "bad_json", "byte", stdin=good[:-1] + ",}"))
    add(Row("request single quotes", "bad_json", "byte",
            stdin="{'method':'GET','path':'/','timestamp':%d}" % TS))
    add(Row("request NaN timestamp", "bad_json", "byte",
            stdin='{"method":"GET","path":"/a","timestamp":NaN}'))
    add(Row("request leading-zero timestamp", "bad_json", "byte",
            stdin='{"method":"GET","path":"/a","timestamp":01700000000000}'))
    add(Row("request two documents", "bad_json", "after", stdin=good + "\n" + good))
    add(Row("request trailing garbage", "bad_json", "byte", stdin=good + "x"))
    add(Row("request invalid UTF-8", "bad_json", "UTF-8",
            stdin=b'{"method":"GET","path":"/\xc0\x80","timestamp":1700000000000}'))
    add(Row("request lone surrogate escape", "bad_json", "escape",
            stdin='{"method":"GET","path":"/\\ud800","timestamp":%d}' % TS))
    add(Row("request NUL byte", "bad_json", "NUL",
            stdin=b'{"method":"GET","path":"/a\x00","timestamp":1700000000000}'))
    add(Row("request empty", "bad_json", "JSON", stdin=""))
    add(Row("request bare scalar", "bad_json", "JSON", stdin="1700000000000"))
    add(Row("request is an array", "bad_field", "request", stdin="[%s]" % good))
    add(Row("request over 256 KiB", "too_large", "request",
            stdin=json.dumps(req(query="a=" + "x" * (300 * 1024)))))

    # ---- request: schema ----
    add(Row("request duplicate key", "duplicate_key", "timestamp",
            stdin=good[:-1] + ',"timestamp":%d}' % TS))
    add(Row("request duplicate key once unescaped", "duplicate_key", "duplicate key",
            stdin=good[:-1] + ',"\\u0070ath":"/b"}'))
    add(Row("request missing timestamp", "missing_field", "request.timestamp",
            stdin=req(timestamp=DROP)))
    add(Row("request missing method", "missing_field", "request.method", stdin=req(method=DROP)))
    add(Row("request missing path", "missing_field", "request.path", stdin=req(path=DROP)))
    add(Row("request null timestamp", "missing_field", "request.timestamp",
            stdin=req(timestamp=None)))
    add(Row("request null path", "missing_field", "request.path", stdin=req(path=None)))
    add(Row("request unknown field", "unknown_field", "request.nonce", stdin=req(nonce=1)))
    add(Row("request timestamp as string", "bad_field", "request.timestamp",
            stdin=req(timestamp=str(TS))))
    add(Row("request method as number", "bad_field", "request.method", stdin=req(method=1)))
    add(Row("request query as array", "bad_field", "request.query", stdin=req(query=["a=1"])))
    add(Row("request body as object", "bad_field", "request.body",
            stdin=req(GOOD_POST_REQUEST, body={"symbol": "BTCUSDT"})))
    add(Row("request timestamp negative", "out_of_range", "request.timestamp",
            stdin=req(timestamp=-TS)))
    add(Row("request timestamp 2^64", "out_of_range", "request.timestamp",
            stdin=good.replace(str(TS), str(2 ** 64))))
    add(Row("request timestamp with fraction", "bad_field", "request.timestamp",
            stdin=good.replace(str(TS), str(TS) + ".5")))
    add(Row("request timestamp with exponent", "bad_field", "request.timestamp",
            stdin=good.replace(str(TS), "1.7e12")))
    add(Row("request timestamp in seconds", "out_of_range", "request.timestamp",
            stdin=req(timestamp=TS // 1000)))
    add(Row("request recv_window zero", "out_of_range", "request.recv_window",
            stdin=req(recv_window=0)))
    add(Row("request recv_window over binance's 60000", "out_of_range", "request.recv_window",
            stdin=req(recv_window=60001)))

    # ---- request: method, path, query, body ----
    add(Row("bad method PATCH", "bad_field", "request.method", stdin=req(method="PATCH")))
    add(Row("method in lower case", "bad_field", "request.method", stdin=req(method="get")))
    add(Row("path without leading slash", "bad_field", "request.path",
            stdin=req(path="api/v3/order")))
    add(Row("path with a query", "bad_field", "request.path", stdin=req(path="/api/v3/order?a=1")))
    add(Row("query with '?' prefix", "bad_field", "request.query",
            stdin=req(query="?symbol=BTCUSDT")))
    add(Row("raw space in query", "bad_field", "request.query", stdin=req(query="symbol=BTC USDT")))
    add(Row("raw unicode in query", "bad_field", "request.query",
            stdin=req(query="symbol=\uff11\uff12\uff13")))
    add(Row("duplicate query params", "duplicate_key", "request.query",
            stdin=req(query="symbol=BTCUSDT&symbol=ETHUSDT")))
    add(Row("query params differing in case", "duplicate_key", "request.query",
            stdin=req(query="symbol=BTCUSDT&Symbol=ETHUSDT")))
    add(Row("query params equal once decoded", "duplicate_key", "request.query",
            stdin=req(query="side=BUY&%73ide=SELL")))
    add(Row("malformed percent-encoding", "bad_encoding", "request.query",
            stdin=req(query="symbol=BTC%zzUSDT")))
    add(Row("truncated percent-encoding", "bad_encoding", "request.query",
            stdin=req(query="symbol=BTC%4")))
    add(Row("percent-encoded invalid UTF-8", "bad_encoding", "request.query",
            stdin=req(query="symbol=%ff")))
    add(Row("empty query param name", "bad_request", "request.query",
            stdin=req(query="symbol=BTCUSDT&&side=BUY")))
    add(Row("GET with body", "bad_field", "request.body", stdin=req(body="symbol=BTCUSDT")))
    add(Row("duplicate body params", "duplicate_key", "request.body",
            stdin=req(GOOD_POST_REQUEST, body="symbol=BTCUSDT&symbol=ETHUSDT")))
    add(Row("malformed percent-encoding in body", "bad_encoding", "request.body",
            stdin=req(GOOD_POST_REQUEST, body="symbol=BTC%G0")))
    add(Row("signature already in query", "bad_field", "signature",
            stdin=req(query="symbol=BTCUSDT&signature=abc")))
    add(Row("signature already in body", "bad_field", "signature",
            stdin=req(GOOD_POST_REQUEST, body="symbol=BTCUSDT&signature=abc")))
    add(Row("timestamp param differs from request.timestamp", "bad_field", "timestamp",
            stdin=req(query="symbol=BTCUSDT&timestamp=%d" % (TS + 1))))
    add(Row("recvWindow param differs from request.recv_window", "bad_field", "recvWindow",
            stdin=req(query="symbol=BTCUSDT&recvWindow=5000", recv_window=6000)))
    # Case variants of the names Sigil adds: the signed query would carry
    # both spellings, which the strict query rules call a duplicate.
    add(Row("Signature (case variant) already in query", "bad_field", "signature",
            stdin=req(query="symbol=BTCUSDT&Signature=abc")))
    add(Row("Timestamp (case variant) differs from request.timestamp", "bad_field",
            "timestamp", stdin=req(query="symbol=BTCUSDT&Timestamp=1")))
    # A recvWindow the request fields do not carry cannot equal them.
    add(Row("same parameter in query and body", "duplicate_key", "query parameter 1 and body",
            stdin=req(method="POST", query="symbol=LTCBTC", body="symbol=ETHBTC")))
    add(Row("timestamp in both query and body", "duplicate_key", "same name",
            stdin=req(method="POST", query="timestamp=1700000000000",
                      body="symbol=X&timestamp=1")))
    add(Row("path with a dot-dot segment", "bad_field", "request.path",
            stdin=req(path="/api/v3/order/../../sapi/v1/capital/withdraw/apply")))
    add(Row("path with an empty segment", "bad_field", "request.path",
            stdin=req(path="/api//v3/order")))
    add(Row("path with an encoded slash", "bad_field", "request.path",
            stdin=req(path="/api/v3%2Forder")))
    add(Row("query with a byte clients rewrite", "bad_field", "request.query",
            stdin=req(query="symbol=X&batch=[1]|2")))
    add(Row("recvWindow param without request.recv_window", "out_of_range", "recvWindow",
            stdin=req(query="symbol=BTCUSDT&recvWindow=999999")))

    # ---- venue, key type ----
    add(Row("unknown venue", "unknown_venue", "--venue", venue="nosuchvenue"))
    add(Row("venue name in upper case", "unknown_venue", "--venue", venue="BINANCE"))
    add(Row("unknown key type", "unknown_key_type", "credentials.key_type",
            cred=hmac_cred(key_type="ecdsa")))
    add(Row("key type in upper case", "unknown_key_type", "credentials.key_type",
            cred=hmac_cred(key_type="HMAC")))
    add(Row("key type the venue lacks", "unknown_key_type", "credentials.key_type",
            cred=hmac_cred(key_type="secp256k1")))

    # ---- credentials: schema ----
    add(Row("credentials missing secret", "missing_field", "credentials.secret",
            cred={"api_key": API_KEY, "passphrase": HMAC_SECRET}))
    add(Row("credentials secret under a misspelt name", "unknown_field",
            "unknown field (allowed: api_key, secret",
            cred={"api_key": API_KEY, "secret": "x", "secrett": HMAC_SECRET}))
    add(Row("credentials secret pasted as a key", "unknown_field", "credentials",
            cred={"api_key": API_KEY, "secret": "x", HMAC_SECRET: True}))
    add(Row("credentials null secret", "missing_field", "credentials.secret",
            cred={"api_key": API_KEY, "secret": None}))
    add(Row("credentials secret as a number", "bad_field", "credentials.secret",
            cred={"api_key": API_KEY, "secret": 12345678901234567890}))
    add(Row("credentials empty secret", "bad_credentials", "credentials.secret",
            cred={"api_key": API_KEY, "secret": ""}))
    add(Row("credentials api_key with a space", "bad_credentials", "credentials.api_key",
            cred=hmac_cred(api_key="test key")))
    add(Row("credentials is an array", "bad_field", "credentials", cred=[HMAC_SECRET]))
    add(Row("credentials wallet key for a CEX venue", "unknown_field",
            "unknown field (allowed: api_key, secret", cred=wallet_cred()))

    # ---- credentials: file ----
    add(Row("credentials file missing", "io_error", "--credentials", cred=MISSING_FILE))
    add(Row("credentials path is a directory", "io_error", "--credentials", cred=DIRECTORY))
    add(Row("credentials not JSON", "bad_credentials", "credentials",
            cred="api_key=%s\nsecret=%s\n" % (API_KEY, HMAC_SECRET)))
    add(Row("credentials trailing comma", "bad_credentials", "credentials",
            cred='{"api_key":"%s","secret":"%s",}' % (API_KEY, HMAC_SECRET)))
    add(Row("credentials duplicate keys", "duplicate_key", "credentials",
            cred='{"api_key":"%s","secret":"%s","secret":"%s"}' % (API_KEY, HMAC_SECRET,
                                                                   HMAC_SECRET)))
    add(Row("credentials empty file", "bad_credentials", "credentials", cred=""))
    add(Row("credentials over 64 KiB", "too_large", "--credentials",
            cred=json.dumps(hmac_cred(passphrase="p" * (70 * 1024)))))

    # ---- credentials: PEM keys ----
    add(Row("ed25519 garbage PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="ed25519", secret="-----BEGIN PRIVATE KEY-----\n" +
                           HMAC_SECRET + "\n-----END PRIVATE KEY-----\n")))
    add(Row("ed25519 key type with an HMAC secret", "bad_credentials", "secret",
            cred=hmac_cred(key_type="ed25519")))
    add(Row("ed25519 truncated PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="ed25519",
                           secret=ED25519_PEM[:60] + "\n-----END PRIVATE KEY-----\n")))
    add(Row("ed25519 key type with an RSA PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="ed25519", secret=rsa)))
    add(Row("rsa key type with an Ed25519 PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="rsa", secret=ED25519_PEM)))
    add(Row("rsa garbage PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="rsa", secret="-----BEGIN RSA PRIVATE KEY-----\n" +
                           HMAC_SECRET + "\n-----END RSA PRIVATE KEY-----\n")))
    add(Row("rsa key under 2048 bits", "bad_credentials", "2048",
            cred=hmac_cred(key_type="rsa", secret=rsa1024 or ""), needs=needs_openssl))
    add(Row("ed25519 passphrase-encrypted PEM", "bad_credentials", "secret",
            cred=hmac_cred(key_type="ed25519", secret=enc or ""),
            needs=lambda e: None if e["encrypted_pem"] else "openssl is not available"))

    # ---- request errors with PEM credentials loaded ----
    add(Row("ed25519 credentials, duplicate query params", "duplicate_key", "request.query",
            cred=hmac_cred(key_type="ed25519", secret=ED25519_PEM),
            stdin=req(query="a=1&a=2")))
    add(Row("rsa credentials, GET with body", "bad_field", "request.body",
            cred=hmac_cred(key_type="rsa", secret=rsa), stdin=req(body="a=1")))

    # ---- usage ----
    add(Row("no arguments", "usage", "usage", args=[]))
    add(Row("unknown command", "usage", "command", args=["frobnicate"]))
    add(Row("sign without --venue", "usage", "--venue", args=["sign", "--credentials", "{cred}"]))
    add(Row("sign without --credentials", "usage", "--credentials",
            args=["sign", "--venue", "binance"]))
    add(Row("bad --network", "usage", "--network", args=DEFAULT_ARGS + ["--network", "devnet"]))
    add(Row("unknown option", "usage", "usage", args=DEFAULT_ARGS + ["--verbose"]))
    add(Row("extra positional argument", "usage", "argument", args=DEFAULT_ARGS + ["extra"]))
    add(Row("--venue without a value", "usage", "usage", args=["sign", "--venue"]))

    # ---- wallet keys (hyperliquid) ----
    hl = dict(venue="hyperliquid", stdin=GOOD_HL_REQUEST, needs=needs_hl)
    add(Row("private_key of 31 bytes", "bad_credentials", "credentials.private_key",
            cred=wallet_cred("0x" + WALLET_KEY[:62]), **hl))
    add(Row("private_key of 33 bytes", "bad_credentials", "credentials.private_key",
            cred=wallet_cred("0x" + WALLET_KEY + "ab"), **hl))
    add(Row("private_key not hex", "bad_credentials", "credentials.private_key",
            cred=wallet_cred("0x" + "zz" + WALLET_KEY[2:]), **hl))
    add(Row("private_key without 0x", "bad_credentials", "credentials.private_key",
            cred=wallet_cred(WALLET_KEY), **hl))
    add(Row("private_key zero", "bad_credentials", "private_key",
            cred=wallet_cred("0x" + "0" * 64), **hl))
    add(Row("private_key equal to the curve order", "bad_credentials", "private_key",
            cred=wallet_cred("0x" + SECP256K1_N), **hl))
    add(Row("private_key above the curve order", "bad_credentials", "private_key",
            cred=wallet_cred("0x" + "f" * 64), **hl))
    add(Row("private_key as a number", "bad_field", "credentials.private_key",
            cred={"private_key": int(WALLET_KEY[:15], 16)}, **hl))
    add(Row("private_key null", "missing_field", "credentials.private_key",
            cred={"private_key": None}, **hl))
    add(Row("private_key under another name", "unknown_field", "allowed: private_key",
            cred={"privateKey": "0x" + WALLET_KEY}, **hl))
    add(Row("wallet credentials with an extra field", "unknown_field",
            "allowed: private_key", cred=wallet_cred(api_key=API_KEY), **hl))
    add(Row("CEX credentials for a wallet venue", "unknown_field", "credentials",
            cred=hmac_cred(), **hl))
    add(Row("vault_address too short", "bad_address", "request.vault_address",
            cred=wallet_cred(), venue="hyperliquid", needs=needs_hl,
            stdin=dict(GOOD_HL_REQUEST, vault_address="0x1234")))
    add(Row("vault_address with a bad checksum", "bad_address", "request.vault_address",
            cred=wallet_cred(), venue="hyperliquid", needs=needs_hl,
            stdin=dict(GOOD_HL_REQUEST, vault_address=BAD_CHECKSUM_ADDRESS)))
    add(Row("hyperliquid nonce negative", "out_of_range", "request.nonce",
            cred=wallet_cred(), venue="hyperliquid", needs=needs_hl,
            stdin=dict(GOOD_HL_REQUEST, nonce=-1)))
    add(Row("hyperliquid action missing", "missing_field", "request.action",
            cred=wallet_cred(), venue="hyperliquid", needs=needs_hl,
            stdin={"nonce": TS}))
    return T


# ---- secrets ----
def pem_lines(pem):
    return [ln for ln in (pem or "").splitlines() if ln and not ln.startswith("-----")]


def windows(s, n=20):
    """Every n-character piece of s (all of s when shorter), so partial
    leaks are caught too."""
    if len(s) <= n:
        return [s]
    return [s[i:i + n] for i in range(len(s) - n + 1)]


def secrets_of(row, env):
    out = set(windows(HMAC_SECRET)) | set(windows(WALLET_KEY))
    for pem in (ED25519_PEM, env["rsa_pem"], env["rsa1024_pem"], env["encrypted_pem"]):
        out.update(pem_lines(pem))
    cred = row.cred
    values = []
    if isinstance(cred, dict):
        for k, v in cred.items():
            if k in SECRET_FIELDS and isinstance(v, str):
                values.append(v)
            if len(k) >= 16:  # a secret used as a key
                values.append(k)
    values += row.secrets
    for v in values:
        lines = pem_lines(v) if "-----BEGIN" in v else []
        out.update(lines)
        if not lines and len(v) >= 16 and len(set(v)) > 1:
            out.update(windows(v[2:] if v.startswith("0x") else v))
    return out


def leaks(text, secrets):
    found = [s for s in secrets if s in text or s.replace("/", "\\/") in text]
    return sorted(found, key=lambda s: (-len(s), s))[:1]


# ---- running ----
def strict_json(text):
    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key in error JSON")
        return dict(items)
    return json.loads(text, object_pairs_hook=pairs)


def write_creds(td, cred):
    if cred is MISSING_FILE:
        return os.path.join(td, "no-such-credentials.json")
    if cred is DIRECTORY:
        d = os.path.join(td, "credentials.d")
        os.mkdir(d)
        with open(os.path.join(d, "credentials.json"), "w") as f:
            json.dump(hmac_cred(), f)  # the secret sits right there
        return d
    path = os.path.join(td, "credentials.json")
    with open(path, "w") as f:
        f.write(cred if isinstance(cred, str) else json.dumps(cred))
    os.chmod(path, 0o600)
    return path


def run(binary, row, td):
    cred_path = write_creds(td, row.cred)
    argv = [binary] + [a.format(venue=row.venue, cred=cred_path) for a in row.args]
    stdin = row.stdin
    if not isinstance(stdin, (str, bytes)):
        stdin = json.dumps(stdin)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    # A new session has no controlling terminal: nothing can prompt on it.
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=30,
                          start_new_session=True)


def check(row, p, secrets):
    """Returns a list of problems (empty when the row passes)."""
    problems = []
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 2:
        problems.append("exit status %d, expected 2" % p.returncode)
    if p.stdout:
        problems.append("stdout not empty: %r" % out[:200])
    if not err.endswith("\n") or err.count("\n") != 1:
        problems.append("stderr is not exactly one line: %r" % err[:300])
    else:
        try:
            doc = strict_json(err)
            assert isinstance(doc, dict) and set(doc) == {"error"}, "top level is not {error}"
            e = doc["error"]
            assert isinstance(e, dict) and set(e) == {"code", "message"}, \
                "error members are not {code, message}"
            assert isinstance(e["code"], str) and isinstance(e["message"], str), \
                "code and message are not strings"
            if e["code"] != row.code:
                problems.append("code %r, expected %r (message: %s)"
                                % (e["code"], row.code, e["message"]))
            if row.field not in e["message"]:
                problems.append("message does not name %r: %s" % (row.field, e["message"]))
        except (ValueError, AssertionError) as ex:
            problems.append("stderr is not the error JSON (%s): %r" % (ex, err[:300]))
    for s in leaks(out + err, secrets):
        problems.append("secret text leaked: %r" % s)
    return problems


def openssl_pem(*args):
    exe = shutil.which("openssl")
    if exe is None:
        return None
    p = subprocess.run([exe] + list(args), capture_output=True, timeout=60)
    return p.stdout.decode() if p.returncode == 0 and b"-----BEGIN" in p.stdout else None


def listed_venues(binary):
    p = subprocess.run([binary, "help"], capture_output=True, timeout=30)
    for line in p.stdout.decode().splitlines():
        if line.startswith("venues:"):
            return set(line.split(":", 1)[1].split())
    return set()


def controls(env):
    """Good inputs that must sign (exit 0): they show that each row fails
    because of its one defect, not because the baseline is broken."""
    no_hl = None if "hyperliquid" in env["venues"] else "`sigil help` does not list hyperliquid"
    return [
        ("control: binance HMAC GET", "binance", hmac_cred(), GOOD_CEX_REQUEST, None),
        ("control: binance HMAC POST", "binance", hmac_cred(), GOOD_POST_REQUEST, None),
        ("control: binance Ed25519", "binance", hmac_cred(key_type="ed25519", secret=ED25519_PEM),
         GOOD_CEX_REQUEST, None),
        ("control: binance RSA", "binance", hmac_cred(key_type="rsa", secret=env["rsa_pem"]),
         GOOD_CEX_REQUEST, None),
        ("control: hyperliquid order", "hyperliquid", wallet_cred(), GOOD_HL_REQUEST, no_hl),
    ]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: test_bad_input.py SIGIL_BINARY TESTS_DIR")
    binary, tests_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    with open(os.path.join(tests_dir, "vectors", "keys", "binance_test_rsa_private_key.pem")) as f:
        rsa_pem = f.read()
    env = {
        "venues": listed_venues(binary),
        "rsa_pem": rsa_pem,
        "rsa1024_pem": openssl_pem("genrsa", "1024"),
        "encrypted_pem": openssl_pem("genpkey", "-algorithm", "ed25519", "-aes256",
                                     "-pass", "pass:sigil-test-passphrase"),
    }
    passed = failed = skipped = 0

    for name, venue, cred, request, skip in controls(env):
        if skip:
            print("skip %s (%s)" % (name, skip))
            skipped += 1
            continue
        with tempfile.TemporaryDirectory() as td:
            row = Row(name, None, None, cred=cred, stdin=request, venue=venue)
            p = run(binary, row, td)
        if p.returncode == 0 and p.stdout and not p.stderr:
            passed += 1
            print("ok   %s" % name)
        else:
            failed += 1
            print("FAIL %s\n     exit %d: %s" % (name, p.returncode, p.stderr.decode()[:300]))

    table = build_table(env)
    for row in table:
        reason = row.needs(env) if row.needs else None
        if reason:
            print("skip %s (%s)" % (row.name, reason))
            skipped += 1
            continue
        with tempfile.TemporaryDirectory() as td:
            try:
                p = run(binary, row, td)
                problems = check(row, p, secrets_of(row, env))
            except subprocess.TimeoutExpired:
                problems = ["timed out (waiting for input?)"]
        if problems:
            failed += 1
            print("FAIL %s\n     %s" % (row.name, "\n     ".join(problems)))
        else:
            passed += 1
            print("ok   %s" % row.name)

    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
