#!/usr/bin/env python3
"""`sigil registry check` against the fixture registry on a local node
(contracts/run.sh) and against a stand-in JSON-RPC node for the replies a real
node does not give on demand.

1. The fixture's answers for the canonical and the other owner: active (exit
   0, every output member), deprecated and unknown (exit 3, the reason), the
   other owner's entries never changing the canonical owner's answers.
2. Input refused before any network I/O (exit 2, one JSON error line): zero
   and malformed measurements, addresses (EIP-55), options.
3. The node: unreachable (the --rpc URL, which may hold an API key, is never
   printed), an address without code, JSON-RPC errors, reverts decoded by
   name, malformed replies and return data.
4. Descriptions are the owner's claim: printed as `[self-reported by 0x…] …`
   with controls, invisible reordering characters and invalid UTF-8 replaced,
   from a real transaction and from the stand-in.

Run: python3 tests/registry/test_registry_cli.py SIGIL_BIN_DIR (with
SIGIL_REGISTRY_FIXTURE set).
"""
import json
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_util import (Checks, FakeNode, closed_port, fixture, get_entry_data,  # noqa: E402
                           result, rpc_error, run_sigil, selectors, sigil_bin, tx, abi_encode)

SIGIL = sigil_bin()
FX = fixture()
RPC, CONTRACT = FX["rpc"], FX["contract"]
CANON, OTHER = FX["owners"]["canonical"], FX["owners"]["other"]
M = FX["measurements"]
ENTRIES = FX["entries"]
KEYS = {"active", "exists", "owner", "measurement", "build_hash", "registered_at",
        "deprecated_at", "description", "reason"}
FFFD = "\ufffd"
t = Checks()


def check_registry(owner, measurement, rpc=RPC, contract=CONTRACT, *extra):
    return run_sigil(SIGIL, "registry", "check", "--rpc", rpc, "--contract", contract,
                     "--owner", owner, "--measurement", measurement, *extra)


def refused(name, r, code, needle):
    got_code, msg = r.error()
    t.check(name, r.code == 2 and got_code == code and needle in msg and r.out == "",
            repr(r))


# ---- 1. the fixture ------------------------------------------------------------------
def fixture_answers():
    canon = CANON["address"]
    r = check_registry(canon, M["active"])
    j = r.json_line() or {}
    e = ENTRIES["active"]
    t.check("canonical/active: exit 0", r.code == 0, repr(r))
    t.check("canonical/active: exactly the documented members", set(j) == KEYS, j)
    t.check("canonical/active: active, exists, owner (EIP-55), measurement",
            j.get("active") is True and j.get("exists") is True and j.get("owner") == canon
            and j.get("measurement") == M["active"], j)
    t.check("canonical/active: build hash and times",
            j.get("build_hash") == e["build_hash"][2:].lower()
            and isinstance(j.get("registered_at"), int) and j["registered_at"] > 0
            and j.get("deprecated_at") == 0 and j.get("reason") is None, j)
    t.check("canonical/active: description marked self-reported by the owner",
            j.get("description") == f"[self-reported by {canon}] {e['description']}", j)
    t.check("canonical/active: one line on stdout, nothing on stderr",
            r.out.count("\n") == 1 and r.err == "", repr(r))

    r = check_registry(canon, M["deprecated"])
    j = r.json_line() or {}
    t.check("canonical/deprecated: exit 3, exists, not active",
            r.code == 3 and j.get("exists") is True and j.get("active") is False, repr(r))
    t.check("canonical/deprecated: deprecated_at set, reason names time and owner",
            isinstance(j.get("deprecated_at"), int) and j["deprecated_at"] >= j["registered_at"] > 0
            and str(j.get("reason", "")).startswith("deprecated at ")
            and f"(unix {j['deprecated_at']}) by {canon}" in j["reason"], j)
    t.check("canonical/deprecated: the canonical owner's description, not the squatter's",
            j.get("description") == f"[self-reported by {canon}] "
            f"{ENTRIES['deprecated']['description']}", j)

    r = check_registry(canon, M["other_owner_only"])
    j = r.json_line() or {}
    t.check("canonical/other_owner_only: exit 3, unknown to the canonical owner",
            r.code == 3 and j.get("exists") is False and j.get("active") is False
            and j.get("reason") == f"not registered by {canon}", repr(r))
    t.check("canonical/other_owner_only: no entry fields",
            all(j.get(k) is None for k in ("build_hash", "registered_at", "deprecated_at",
                                           "description")), j)

    other = OTHER["address"]
    r = check_registry(other, M["other_owner_only"])
    j = r.json_line() or {}
    t.check("other/other_owner_only: exit 0 for the owner that registered it",
            r.code == 0 and j.get("active") is True and j.get("owner") == other
            and j.get("description", "").startswith(f"[self-reported by {other}] "), repr(r))
    r = check_registry(other, M["deprecated"])
    t.check("other/deprecated (registered after the canonical owner deprecated it): "
            "active for the other owner only", r.code == 0, repr(r))
    r = check_registry(other, M["active"])
    j = r.json_line() or {}
    t.check("other/active (deprecated by the other owner): exit 3, deprecated",
            r.code == 3 and str(j.get("reason", "")).startswith("deprecated at "), repr(r))


def input_forms():
    canon = CANON["address"]
    for name, m in (("0x prefix", "0x" + M["active"]), ("upper case", M["active"].upper()),
                    ("0x and upper case", "0x" + M["active"].upper())):
        r = check_registry(canon, m)
        t.check(f"measurement with {name}: accepted, printed in lowercase",
                r.code == 0 and (r.json_line() or {}).get("measurement") == M["active"], repr(r))
    for name, a in (("lower case", canon.lower()), ("upper case", "0x" + canon[2:].upper())):
        r = check_registry(a, M["active"])
        t.check(f"owner in {name}: accepted, printed with its EIP-55 checksum",
                r.code == 0 and (r.json_line() or {}).get("owner") == canon, repr(r))
    r = check_registry(canon, M["active"], RPC, CONTRACT.lower())
    t.check("contract in lower case: accepted", r.code == 0, repr(r))


# ---- 2. input refused ---------------------------------------------------------------
def bad_input():
    canon = CANON["address"]
    dead = "http://127.0.0.1:%d" % closed_port()  # nothing may be contacted
    refused("zero measurement refused", check_registry(canon, "00" * 48, dead), "bad_field",
            "all zero")
    refused("zero measurement with 0x refused", check_registry(canon, "0x" + "00" * 48, dead),
            "bad_field", "all zero")
    for name, m, code in (("95 hex digits", M["active"][:-1], "bad_field"),
                          ("97 hex digits", M["active"] + "0", "bad_field"),
                          ("49 bytes", M["active"] + "00", "bad_field"),
                          ("empty", "", "bad_field"),
                          ("a non-hex digit", "g" + M["active"][1:], "bad_encoding"),
                          ("a space", " " + M["active"][1:], "bad_encoding")):
        refused(f"measurement: {name}", check_registry(canon, m, dead), code, "--measurement")
    i = next(k for k in range(2, 42) if canon[k].isalpha())  # one letter's case flipped
    flipped = canon[:i] + canon[i].swapcase() + canon[i + 1:]
    refused("owner with a wrong EIP-55 checksum", check_registry(flipped, M["active"], dead),
            "bad_address", "EIP-55")
    for name, a in (("too short", canon[:-2]), ("no 0x", canon[2:] + "00"),
                    ("not hex", "0x" + "zz" * 20), ("empty", "")):
        refused(f"owner {name}", check_registry(a, M["active"], dead), "bad_address", "--owner")
    refused("contract not an address", check_registry(canon, M["active"], dead, "0x1234"),
            "bad_address", "--contract")
    for name, url in (("ftp URL", "ftp://127.0.0.1/"), ("no scheme", "127.0.0.1:8545"),
                      ("a space", "http://127.0.0.1/ x"), ("empty", "")):
        refused(f"--rpc {name}", check_registry(canon, M["active"], url), "usage", "--rpc")
    base = ["registry", "check", "--rpc", dead, "--contract", CONTRACT, "--owner", canon,
            "--measurement", M["active"]]
    for i, opt in ((2, "--rpc"), (4, "--contract"), (6, "--owner"), (8, "--measurement")):
        refused(f"{opt} missing", run_sigil(SIGIL, *(base[:i] + base[i + 2:])), "usage",
                f"{opt} is required")
    refused("an option twice", run_sigil(SIGIL, *base, "--owner", canon), "usage", "twice")
    refused("an unknown option", run_sigil(SIGIL, *base, "--block", "1"), "usage", "usage:")
    refused("a stray argument", run_sigil(SIGIL, *base, "extra"), "usage", "unexpected")
    refused("no subcommand", run_sigil(SIGIL, "registry"), "usage", "registry check")
    refused("another subcommand", run_sigil(SIGIL, "registry", "list"), "usage", "registry check")


# ---- 3. the node ---------------------------------------------------------------------
def node_failures():
    canon = CANON["address"]
    secret = "k3y" + secrets.token_hex(8)
    r = check_registry(canon, M["active"], "http://127.0.0.1:%d/v3/%s" % (closed_port(), secret))
    code, msg = r.error()
    t.check("unreachable RPC: exit 2, unavailable, names --rpc",
            r.code == 2 and code == "unavailable" and msg.startswith("--rpc: "), repr(r))
    t.check("unreachable RPC: the URL (and its API key) is not printed",
            secret not in r.out + r.err, repr(r))
    r = check_registry(canon, M["active"], RPC, canon)
    code, msg = r.error()
    t.check("an address without code: exit 2, bad_field naming it",
            r.code == 2 and code == "bad_field" and f"--contract {canon}" in msg
            and "no contract code" in msg, repr(r))


def fake_node_replies():
    canon = CANON["address"]
    sel = selectors()
    node = FakeNode()
    try:
        node.reply(result(get_entry_data(True, True, b"\x11" * 32, "ok", 1700000000, 0)))
        r = check_registry(canon, M["active"], node.url)
        req = node.seen[-1] if node.seen else {}
        want_data = "0x" + (sel["function getEntry"] + abi_encode(
            ["address", "bytes"], [canon.lower(), bytes.fromhex(M["active"])])).hex()
        t.check("stand-in: a well-formed answer is accepted", r.code == 0, repr(r))
        t.check("request: JSON-RPC 2.0 eth_call {to, data} at latest, id 1",
                req.get("jsonrpc") == "2.0" and req.get("method") == "eth_call"
                and req.get("id") == 1 and req.get("params") == [
                    {"to": CONTRACT.lower(), "data": want_data}, "latest"], req)
        t.check("request: POST with Content-Type application/json",
                req.get("_headers", {}).get("Content-Type") == "application/json", req)

        def expect(name, code, needle, exit_code=2):
            r = check_registry(canon, M["active"], node.url)
            got, msg = r.error()
            t.check(name, r.code == exit_code and got == code and needle in msg, repr(r))

        node.reply(rpc_error(-32000, "header not found"))
        expect("JSON-RPC error: unavailable with the node's code and message", "unavailable",
               "JSON-RPC error -32000: header not found")
        node.reply(rpc_error(-32601, "the method eth_call does not exist\x1b[2J"))
        expect("JSON-RPC error text: control characters not echoed", "unavailable",
               "does not exist?[2J")
        revert = sel["error NotRegistered"] + abi_encode(
            ["address", "bytes"], [canon.lower(), bytes.fromhex(M["active"])])
        node.reply(rpc_error(3, "execution reverted", "0x" + revert.hex()))
        expect("revert with a custom error: decoded by name and arguments", "bad_field",
               f"getEntry reverted: NotRegistered(owner={canon}, measurement=0x{M['active']})")
        err = sel["error Error"] + abi_encode(["string"], ["boom \"x\""])
        node.reply(rpc_error(3, "execution reverted: boom", "0x" + err.hex()))
        expect("revert with Error(string): the message (printable)", "bad_field",
               'reverted: Error("boom ?x?")')
        panic = sel["error Panic"] + abi_encode(["uint256"], [0x32])
        node.reply(rpc_error(3, "execution reverted", "0x" + panic.hex()))
        expect("revert with Panic: the code explained", "bad_field",
               "Panic(0x32: array index out of bounds)")
        node.reply(rpc_error(3, "execution reverted"))
        expect("revert without data", "bad_field", "getEntry reverted: no revert data")
        node.reply(rpc_error(3, "execution reverted", "0xdeadbeef00"))
        expect("revert with an unknown selector", "bad_field", "unknown error 0xdeadbeef (5 bytes)")
        node.reply(rpc_error(3, "execution reverted", "0x08c379a0"))
        expect("revert data that does not decode", "bad_encoding", "revert data Error")

        good = result(get_entry_data(True, True, b"\x11" * 32, "ok", 1700000000, 0))
        for name, obj, needle in (
                ("jsonrpc 1.0", dict(good, jsonrpc="1.0"), "jsonrpc"),
                ("another id", dict(good, id=2), "id"),
                ("a string id", dict(good, id="1"), "id"),
                ("both result and error", dict(good, error={"code": 1, "message": "x"}), "both"),
                ("neither result nor error", {"jsonrpc": "2.0"}, "neither"),
                ("an unknown member", dict(good, extra=1), "extra"),
                ("result not a string", dict(good, result=1), "not a string"),
                ("result without 0x", dict(good, result=good["result"][2:]), "0x"),
                ("result with odd length", dict(good, result=good["result"] + "0"), "odd"),
                ("result not hex", dict(good, result="0xzz"), "hex"),
                ("error not an object", {"jsonrpc": "2.0", "error": "bad"}, "error"),
                ("error without a code", {"jsonrpc": "2.0", "error": {"message": "x"}},
                 "malformed JSON-RPC error")):
            node.reply(obj)
            expect(f"malformed reply: {name}", "protocol_error", needle)
        node.reply(raw=b'{"jsonrpc":"2.0","id":1,"id":1,"result":"0x"}')
        expect("malformed reply: a duplicate key", "protocol_error", "not a JSON-RPC 2.0")
        node.reply(raw=b"<html>gateway</html>")
        expect("malformed reply: HTML with 200", "protocol_error", "not a JSON-RPC 2.0")
        node.reply(raw=b"upstream down", status=502, ctype="text/plain")
        expect("HTTP 502 without a JSON-RPC body: unavailable", "unavailable", "--rpc: HTTP 502")
        node.reply(rpc_error(-32005, "rate limited"), status=429)
        expect("HTTP 429 with a JSON-RPC error: the node's error", "unavailable",
               "-32005: rate limited")
        node.reply(raw=b"{" + b" " * (256 * 1024) + b"}")
        expect("a reply over 128 KiB: too_large", "too_large", "--rpc")

        def entry(*a):
            return result(get_entry_data(*a))
        for name, obj, code, needle in (
                ("exists = 2", result(abi_encode(["uint8", "bool", "bytes32", "string", "uint64",
                                                  "uint64"], [2, True, b"\0" * 32, "", 1, 0])),
                 "bad_encoding", "exists: bool is 2"),
                ("truncated", result(get_entry_data(True, True, b"\1" * 32, "x", 1, 0)[:-1]),
                 "bad_encoding", "truncated"),
                ("active but deprecated", entry(True, True, b"\1" * 32, "", 5, 6), "bad_field",
                 "active but deprecatedAt"),
                ("unknown but described", entry(False, False, b"\0" * 32, "x", 0, 0),
                 "bad_field", "exists is false"),
                ("a 257-byte description", entry(True, True, b"\1" * 32, "d" * 257, 5, 0),
                 "too_large", "257 bytes")):
            node.reply(obj)
            expect(f"return data: {name}", code, needle)

        code_hex = "0x6080604052"
        node.by_method({"eth_call": result(b""), "eth_getCode": {"jsonrpc": "2.0",
                                                                 "result": code_hex}})
        expect("empty return data from a contract: not a registry", "bad_field",
               "getEntry returned no data")
        t.check("empty return data: eth_getCode asked for --contract at latest",
                node.seen[-1].get("method") == "eth_getCode"
                and node.seen[-1].get("params") == [CONTRACT.lower(), "latest"], node.seen[-1])

        desc = b"A\x1b[31mB\xe2\x80\xaeC\xff\xc3(D\x00E\xe2\x80\x8bF\xc3\xa9"
        node.reply(result(get_entry_data(True, True, b"\x22" * 32, desc, 1700000000, 0)))
        r = check_registry(canon, M["active"], node.url)
        j = r.json_line() or {}
        want = (f"[self-reported by {canon}] A{FFFD}[31mB{FFFD}C{FFFD}{FFFD}(D{FFFD}E"
                f"{FFFD}F\u00e9")
        t.check("description: controls, bidi/zero-width characters and invalid UTF-8 replaced",
                r.code == 0 and j.get("description") == want, repr(r))
        t.check("description: no escape byte reaches the terminal", "\x1b" not in r.out, repr(r))
        node.reply(result(get_entry_data(True, False, b"\x22" * 32, "", 1700000000, 1700000001)))
        r = check_registry(canon, M["active"], node.url)
        j = r.json_line() or {}
        t.check("deprecated entry from the stand-in: UTC time in the reason",
                r.code == 3 and j.get("reason", "").startswith(
                    "deprecated at 2023-11-14T22:13:21Z (unix 1700000001) by "), repr(r))
    finally:
        node.stop()


# ---- 4. descriptions from real transactions ------------------------------------------
def descriptions_on_chain():
    canon = CANON["address"]
    cases = (("256 bytes", ("d" * 255 + "!"), "d" * 255 + "!"),
             ("empty", "", ""),
             ("terminal escapes and bidi override",
              "v1 \x1b[31mred\x1b[0m \u202eevil\ttab\nline",
              f"v1 {FFFD}[31mred{FFFD}[0m {FFFD}evil{FFFD}tab{FFFD}line"),
             ("not UTF-8", "hex:ff41c3", f"{FFFD}A{FFFD}"),
             ("multilingual", "Größe ✓ 𝔰", "Größe ✓ 𝔰"))
    for name, desc, shown in cases:
        m = secrets.token_hex(48)
        build = secrets.token_hex(32)
        try:
            tx(FX, CANON["private_key"], "register", m, build, desc, contract=CONTRACT)
        except RuntimeError as e:
            t.check(f"on chain, {name}: registered", False, str(e))
            continue
        r = check_registry(canon, m)
        j = r.json_line() or {}
        t.check(f"on chain, {name}: shown as the owner's claim",
                r.code == 0 and j.get("description") == f"[self-reported by {canon}] {shown}"
                and j.get("build_hash") == build, repr(r))


def main():
    fixture_answers()
    input_forms()
    bad_input()
    node_failures()
    fake_node_replies()
    descriptions_on_chain()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
