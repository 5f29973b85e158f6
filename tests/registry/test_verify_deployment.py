#!/usr/bin/env python3
"""`sigil verify-deployment` against a dev stack (tests/e2e TempStack), a
registry deployed for this run on the harness's node (contracts/run.sh), and
key policy files.

The registry is a fresh deployment (contracts/tools/register.mjs deploy) so
that each run starts with the stack's measurement unknown and can walk it
through: not registered; registered by the other owner only; registered by
the canonical owner (all sources agree, exit 0); deprecated. Every other
single disagreement is made with the rest agreeing: a wrong pinned
measurement (itself registered and in the key policy), a key policy bound to
another measurement or to none, and a table of key-policy shapes. Bad input
(a zero measurement, malformed files, options) is refused before any network
I/O (exit 2); an unreachable RPC or gateway and an address without code are
errors (exit 2) with the other sources still reported.

Run: python3 tests/registry/test_verify_deployment.py SIGIL_BIN_DIR (with
SIGIL_REGISTRY_FIXTURE set).
"""
import json
import os
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from registry_util import (REPO, Checks, closed_port, fixture, run_sigil, sigil_bin,  # noqa: E402
                           tx)
from e2e_util import TempStack  # noqa: E402

SIGIL = sigil_bin()
FX = fixture()
CANON, OTHER = FX["owners"]["canonical"], FX["owners"]["other"]
TEMPLATE = os.path.join(REPO, "deploy", "nitro", "kms-key-policy.json")
IMAGE_KEY = "kms:RecipientAttestation:ImageSha384"
MIN_INTERVAL_S = 0.25  # the gateway allows 5 attestations a second per token
t = Checks()


class Env:
    def __init__(self, st, contract):
        self.st = st
        self.m = st.launch["measurement"]
        self.root = st.launch["root"]
        self.gateway = st.gateway["url"]
        self.token = st.token
        self.contract = contract
        self.last = 0.0

    def verify(self, *extra, m=None, gateway=None, token=None, registry=True, owner=None,
               rpc=None, contract=None, root=None):
        wait = self.last + MIN_INTERVAL_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        args = ["verify-deployment", "--gateway", gateway or self.gateway,
                "--measurement", m or self.m,
                *(root if root is not None else ["--trust-dev-root", self.root]),
                "--token", token or self.token]
        if registry:
            args += ["--rpc", rpc or FX["rpc"], "--contract", contract or self.contract,
                     "--owner", owner or CANON["address"]]
        r = run_sigil(SIGIL, *args, *extra)
        self.last = time.monotonic()
        return r

    def policy(self, name, obj, wrap=False):
        if wrap:
            obj = {"Policy": json.dumps(obj, indent=2), "PolicyName": "default"}
        return self.st.write(name, obj if isinstance(obj, str) else json.dumps(obj, indent=1),
                             mode=0o644)


def sources(r):
    j = r.json_line() or {}
    return {s.get("source"): s for s in j.get("sources", [])}, j


def row(r, name):
    return sources(r)[0].get(name, {})


def verdicts(r):
    return {k: v.get("verdict") for k, v in sources(r)[0].items()}


def template(measurement):
    with open(TEMPLATE) as f:
        text = f.read()
    text = text.replace("${ADMIN_ARN}", "arn:aws:iam::111122223333:role/admin")
    text = text.replace("${INSTANCE_ROLE_ARN}", "arn:aws:iam::111122223333:role/sigil")
    return json.loads(text.replace("${PCR0}", measurement))


def expect(name, r, code, want, needles=()):
    """want: {source: verdict}; needles: (source, text in its reason)."""
    got = verdicts(r)
    ok = r.code == code and all(got.get(k) == v for k, v in want.items())
    for src, text in needles:
        ok = ok and text in row(r, src).get("reason", "")
    t.check(name, ok, repr(r))


# ---- the walk through the registry ---------------------------------------------------
def registry_walk(e):
    canon, other = CANON["address"], OTHER["address"]
    r = e.verify(registry=False)
    expect("attestation only: exit 0, registry and key policy skipped", r, 0,
           {"pinned": "ok", "attestation": "ok", "registry": "skipped", "key-policy": "skipped"})
    t.check("attestation only: the value is the attested PCR0",
            row(r, "attestation").get("value") == e.m, repr(r))
    t.check("table: a header and two lines per source, then the JSON line",
            r.out.splitlines()[0].split() == ["source", "verdict", "value"]
            and len(r.out.splitlines()) == 1 + 2 * 4 + 1, r.out)

    r = e.verify()
    expect("not registered: exit 3, precise reason", r, 3,
           {"attestation": "ok", "registry": "mismatch"},
           [("registry", f"not registered by {canon}")])
    t.check("not registered: JSON ok false, table says MISMATCH",
            sources(r)[1].get("ok") is False and "MISMATCH" in r.out, repr(r))

    tx(FX, OTHER["private_key"], "register", e.m, secrets.token_hex(32), "squatter",
       contract=e.contract)
    r = e.verify()
    expect("registered by the other owner only: same as unknown for the canonical owner", r, 3,
           {"attestation": "ok", "registry": "mismatch"},
           [("registry", f"not registered by {canon}")])
    r = e.verify(owner=other)
    expect("registered by the other owner: active for that owner", r, 0, {"registry": "ok"},
           [("registry", f"[self-reported by {other}] squatter")])

    tx(FX, CANON["private_key"], "register", e.m, secrets.token_hex(32),
       "sigil dev build \x1b[31m(test)", contract=e.contract)
    policy = e.policy("policy.json", template(e.m))
    r = e.verify("--key-policy", policy)
    expect("all sources agree: exit 0", r, 0,
           {"pinned": "ok", "attestation": "ok", "registry": "ok", "key-policy": "ok"},
           [("registry", f"active for {canon} since "),
            ("registry", f"[self-reported by {canon}] sigil dev build \ufffd[31m(test)"),
            ("key-policy", "bound by 2 ImageSha384 condition(s)")])
    j = sources(r)[1]
    t.check("all agree: JSON ok true, the pinned measurement, every value the pinned one",
            j.get("ok") is True and j.get("measurement") == e.m
            and all(row(r, s).get("value") == e.m for s in ("attestation", "registry",
                                                            "key-policy")), repr(r))
    t.check("all agree: no escape byte in the output", "\x1b" not in r.out, repr(r))
    wrapped = e.policy("policy-wrapped.json", template(e.m), wrap=True)
    r = e.verify("--key-policy", wrapped)
    expect("all agree with the policy as `aws kms get-key-policy` prints it", r, 0,
           {"key-policy": "ok", "registry": "ok"})
    dev = os.path.join(e.st.home, "kms", "key-policy.json")
    r = e.verify("--key-policy", dev)
    expect("all agree with the dev key service's own policy (sigil-kms pin)", r, 0,
           {"key-policy": "ok"})
    return policy


def single_disagreements(e, policy):
    wrong = secrets.token_hex(48)
    tx(FX, CANON["private_key"], "register", wrong, secrets.token_hex(32), "another build",
       contract=e.contract)
    r = e.verify("--key-policy", e.policy("policy-wrong.json", template(wrong)), m=wrong)
    expect("wrong pinned measurement (registered, in the key policy): only the attestation "
           "disagrees", r, 3, {"attestation": "mismatch", "registry": "ok", "key-policy": "ok"},
           [("attestation", "PCR0 of the running enclave is not the pinned measurement")])
    t.check("wrong pinned measurement: the attested PCR0 is shown",
            row(r, "attestation").get("value") == e.m, repr(r))

    other_m = secrets.token_hex(48)
    r = e.verify("--key-policy", e.policy("policy-other.json", template(other_m)))
    expect("key policy bound to another measurement: exit 3, names the value", r, 3,
           {"attestation": "ok", "registry": "ok", "key-policy": "mismatch"},
           [("key-policy", f"bound to another measurement: ImageSha384 {other_m}")])
    none = template(e.m)
    none["Statement"] = [s for s in none["Statement"] if "Condition" not in s]
    r = e.verify("--key-policy", e.policy("policy-none.json", none))
    expect("key policy without ImageSha384: exit 3", r, 3,
           {"attestation": "ok", "registry": "ok", "key-policy": "mismatch"},
           [("key-policy", "no kms:RecipientAttestation:ImageSha384 condition")])


def statement(effect, op, value, sid=None):
    s = {"Effect": effect, "Principal": {"AWS": "arn:aws:iam::111122223333:role/sigil"},
         "Action": ["kms:Decrypt"], "Resource": "*", "Condition": {op: {IMAGE_KEY: value}}}
    if sid:
        s["Sid"] = sid
    return s


def key_policy_shapes(e):
    m, x = e.m, secrets.token_hex(48)
    admin = template(m)["Statement"][0]

    def doc(*stmts):
        return {"Version": "2012-10-17", "Statement": [admin, *stmts]}
    ok = [
        ("ForAnyValue:StringEquals with a list holding it",
         doc(statement("Allow", "ForAnyValue:StringEquals", [x, m]))),
        ("StringEquals, lowercase", doc(statement("Allow", "StringEquals", m))),
        ("StringLike without wildcards", doc(statement("Allow", "StringLike", m))),
        ("the condition key in another case",
         {"Statement": [{"Effect": "Allow", "Condition": {
             "StringEqualsIgnoreCase": {IMAGE_KEY.upper(): m.upper()}}}]}),
        ("Statement as one object", {"Statement": statement("Allow", "StringEqualsIgnoreCase", m)}),
        ("Deny StringNotEquals alone", doc(statement("Deny", "StringNotEquals", [m]))),
    ]
    for name, d in ok:
        r = e.verify("--key-policy", e.policy("shape.json", d), registry=False)
        expect(f"key policy, {name}: agrees", r, 0, {"key-policy": "ok"})
    bad = [
        ("Allow names it but a Deny lets only another through",
         doc(statement("Allow", "StringEqualsIgnoreCase", m),
             statement("Deny", "StringNotEqualsIgnoreCase", x, "DenyOthers")),
         'statement "DenyOthers" (Deny, StringNotEqualsIgnoreCase) denies the pinned'),
        ("a Deny StringEquals names it",
         doc(statement("Allow", "StringEquals", m), statement("Deny", "StringEquals", m)),
         "statement #3 (Deny, StringEquals) denies the pinned measurement"),
        ("a wildcard", doc(statement("Allow", "StringLike", "*")),
         'StringLike pattern "*" matches more than one image'),
        ("IfExists on Allow", doc(statement("Allow", "StringEqualsIfExists", m)),
         "StringEqualsIfExists also holds for requests without an attestation"),
        ("ForAllValues on Allow", doc(statement("Allow", "ForAllValues:StringEquals", [m])),
         "ForAllValues:StringEquals also holds for requests without an attestation"),
        ("Allow with StringNotEquals", doc(statement("Allow", "StringNotEquals", x)),
         "Allow with StringNotEquals lets any other image use the key"),
        ("StringEquals with upper-case hex", doc(statement("Allow", "StringEquals", m.upper())),
         "StringEquals compares case-sensitively"),
        ("only a Deny StringEquals of another image", doc(statement("Deny", "StringEquals", x)),
         "no statement binds the key to an image"),
        ("a non-string operator", doc(statement("Allow", "NumericEquals", "1")),
         "NumericEquals on kms:RecipientAttestation:ImageSha384 is not a string comparison"),
        ("a number as the value", doc(statement("Allow", "StringEquals", [1])),
         "an ImageSha384 value is not a string"),
        ("the sigil-kms placeholder", doc(statement(
            "Allow", "StringEqualsIgnoreCase", "unpinned: run sigil-kms pin --image-sha384 HEX96")),
         "ImageSha384 values: unpinned: run sigil-kms pin"),
    ]
    for name, d, needle in bad:
        r = e.verify("--key-policy", e.policy("shape.json", d), registry=False)
        expect(f"key policy, {name}: disagrees, precisely", r, 3,
               {"attestation": "ok", "key-policy": "mismatch"}, [("key-policy", needle)])


def bad_input(e):
    files = {
        "not JSON": "{Statement",
        "an array": "[]",
        "Effect Maybe": {"Statement": [{"Effect": "Maybe"}]},
        "no Statement": {"Version": "2012-10-17"},
        "an unknown member": {"Statement": [], "Extra": 1},
        "Policy not a string": {"Policy": {"Statement": []}},
        "a wrapper with another member": {"Policy": "{}", "Other": 1},
        "Condition not an object": {"Statement": [{"Effect": "Allow", "Condition": []}]},
        "an operator not an object": {"Statement": [{"Effect": "Allow",
                                                     "Condition": {"StringEquals": "x"}}]},
    }
    for name, body in files.items():
        p = e.policy("bad.json", body if isinstance(body, str) else json.dumps(body))
        r = e.verify("--key-policy", p, registry=False,
                     gateway="http://127.0.0.1:%d" % closed_port())
        code, msg = r.error()
        t.check(f"key policy file {name}: refused before any network I/O (exit 2)",
                r.code == 2 and r.out == "" and "--key-policy" in msg, repr(r))
    r = e.verify("--key-policy", "/nonexistent/policy.json")
    t.check("key policy file missing: exit 2, io_error",
            r.code == 2 and r.error()[0] == "io_error", repr(r))
    for name, m in (("zero", "00" * 48), ("zero with 0x", "0x" + "00" * 48)):
        r = e.verify(m=m)
        code, msg = r.error()
        t.check(f"{name} measurement: refused (exit 2, bad_field), nothing checked",
                r.code == 2 and code == "bad_field" and "all zero" in msg and r.out == "", repr(r))
    r = e.verify(m=e.m[:-2])
    t.check("short measurement: refused", r.code == 2 and r.error()[0] == "bad_field", repr(r))
    r = e.verify(owner="0x1234")
    t.check("bad --owner: refused", r.code == 2 and r.error()[0] == "bad_address", repr(r))
    usage = [
        ("--rpc without --contract and --owner",
         ["verify-deployment", "--gateway", e.gateway, "--measurement", e.m,
          "--trust-dev-root", e.root, "--rpc", FX["rpc"]], "go together"),
        ("no root", ["verify-deployment", "--gateway", e.gateway, "--measurement", e.m],
         "exactly one of --root aws"),
        ("both roots", ["verify-deployment", "--gateway", e.gateway, "--measurement", e.m,
                        "--root", "aws", "--trust-dev-root", e.root], "exactly one"),
        ("no --measurement", ["verify-deployment", "--gateway", e.gateway, "--root", "aws"],
         "--measurement is required"),
        ("no --gateway", ["verify-deployment", "--measurement", e.m, "--root", "aws"],
         "--gateway is required"),
    ]
    for name, argv, needle in usage:
        r = run_sigil(SIGIL, *argv)
        code, msg = r.error()
        t.check(f"usage: {name}", r.code == 2 and code == "usage" and needle in msg, repr(r))


def failures(e):
    canon = CANON["address"]
    r = e.verify(rpc="http://127.0.0.1:%d/secret-key-123" % closed_port())
    expect("unreachable RPC: exit 2, registry error, attestation still checked", r, 2,
           {"attestation": "ok", "registry": "error"}, [("registry", "--rpc: ")])
    t.check("unreachable RPC: the URL is not printed", "secret-key-123" not in r.out + r.err,
            repr(r))
    r = e.verify(contract=canon)
    expect("a contract address with no code: exit 2, precise reason", r, 2,
           {"attestation": "ok", "registry": "error"},
           [("registry", f"--contract {canon}: no contract code at this address")])
    r = e.verify(gateway="http://127.0.0.1:%d" % closed_port())
    expect("unreachable gateway: exit 2, attestation error, registry still checked", r, 2,
           {"attestation": "error", "registry": "ok"}, [("attestation", "gateway")])
    r = e.verify(token="not-a-token")
    expect("a bad token: exit 2, the gateway's error", r, 2, {"attestation": "error"},
           [("attestation", "HTTP 401")])
    r = e.verify(root=["--root", "aws"])
    expect("the AWS root for a dev enclave: exit 3, attestation disagrees", r, 3,
           {"attestation": "mismatch", "registry": "ok"})
    t.check("a document that does not verify: no value shown",
            row(r, "attestation").get("value") is None, repr(r))


def deprecation(e, policy):
    tx(FX, CANON["private_key"], "deprecate", e.m, contract=e.contract)
    r = e.verify("--key-policy", policy)
    expect("deprecated: exit 3, 'deprecated at', the rest agrees", r, 3,
           {"attestation": "ok", "registry": "mismatch", "key-policy": "ok"},
           [("registry", "deprecated at "), ("registry", f"by {CANON['address']}")])


def main():
    st = TempStack(os.path.abspath(sys.argv[1]))
    try:
        st.start()
        contract = tx(FX, CANON["private_key"], "deploy")["contract"]
        print(f"registry for this run: {contract}; stack measurement {st.launch['measurement']}")
        e = Env(st, contract)
        policy = registry_walk(e)
        single_disagreements(e, policy)
        key_policy_shapes(e)
        bad_input(e)
        failures(e)
        deprecation(e, policy)
    finally:
        try:
            st.cleanup()
        except AssertionError as err:
            t.check("no sanitizer reports in the stack's logs", False, str(err))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
