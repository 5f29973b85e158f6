#!/usr/bin/env python3
"""End to end: key release is gated on the enclave's measurement.

Acceptance: "Key release is gated: Decrypt without Recipient is denied; a
patched copy of the enclave (one byte changed anywhere) gets a different
measurement, the key service denies it, and signing fails with a clear error
and no signature; `sigil attestation verify` rejects tampered payloads, wrong
nonces, untrusted roots and wrong measurements."

1. The live sigil-kms, driven by an independent SigV4 client
   (tests/e2e/sigv4_client.py, checked first against the AWS/KMS vectors):
   no Recipient → AccessDeniedException, bad/unsigned requests →
   InvalidSignatureException, Recipient documents that are garbage, from
   another root, or genuine but without an RSA key → refused; never a
   Plaintext in any of those answers.
2. A copy of sigil-enclave with one byte changed: different measurement
   (= `sigil measure`), the key service denies it (fresh state: the first
   GenerateDataKey; existing state: the Decrypt of the stored seed), /readyz
   stays 503 naming the failure, POST /v1/keys and /v1/sign fail with 503 and
   no "signed"; the original binary in the same layout becomes ready again.
3. `sigil attestation verify` on a live document: accepted with the right
   root, measurement and nonce; rejected (exit 2, one JSON error line) for
   flipped payload/signature bytes, a wrong nonce, the AWS root, another dev
   root, a wrong measurement and a time after the leaf expired.
"""
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import (Checks, Http, TempStack, bin_dir_arg, box_seal,  # noqa: E402
                      now_ms, payload, wait_for)
import sigv4_client  # noqa: E402

RNG = random.Random(0x5161)  # fixed seed for every randomised input

BINANCE = {"api_key": "gatingApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF01234567",
           "secret": "gatingSecret0123456789abcdefABCDEF0123456789abcdefABCDEF0123456"}
WAIT_S = 30  # generous deadline for conditions we wait for (ASan is slow)


# ---- helpers -------------------------------------------------------------------------
def err_type(body):
    return body.get("__type") if isinstance(body, dict) else None


def no_key_material(body):
    """True when a key-service answer carries no key material at all."""
    return not (isinstance(body, dict) and ("Plaintext" in body
                                            or "CiphertextForRecipient" in body))


def seed_ciphertext(st):
    rows = st.store_query("SELECT seed_ciphertext FROM enclave_state WHERE id = 1")
    return rows[0][0] if rows else None


def readyz(url):
    status, _, body = Http(url).request("GET", "/readyz", token=None)
    return status, body


def err_msg(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code", ""), body["error"].get("message", "")
    return "", str(body)


def log_text(stack, name, start=0):
    with open(stack.logs[name], "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def patch_enclave(src, dst):
    """Copies src to dst with one byte changed inside a human-readable string
    (so the binary still runs); returns the offset changed."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    needle = b"only secret buffers are locked"
    off = data.find(needle)
    if off < 0:
        needle = b"sigil-enclave: listening on"
        off = data.find(needle)
    assert off >= 0, "no patchable string found in sigil-enclave"
    off += 5  # inside the string
    data[off] = ord("X") if data[off] != ord("X") else ord("Y")
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755)
    return off


def policy(tenant="default"):
    return {"version": 1, "tenant": tenant, "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read"], "not_after": int(time.time()) + 86400}


def binance_request():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": now_ms(), "recv_window": 5000}


# ---- 1. the key service ----------------------------------------------------------------
def check_kms(st, t, vectors):
    for name, ok, detail in sigv4_client.self_test(os.path.join(vectors, "sigv4")):
        t.check(name + " (independent signer)", ok, detail)

    with open(st.kms["credentials"]) as f:
        creds = json.load(f)
    kms = sigv4_client.KmsClient(st.kms["url"], st.kms["ca"], creds)
    key_id = st.kms.get("key_id", "alias/sigil")

    # Signature accepted, key unknown: proves the signer works against the live service
    # (the signature is checked before anything else).
    s, b = kms.call("GenerateDataKey", {"KeyId": "alias/does-not-exist", "KeySpec": "AES_256"})
    t.check("kms: signed request reaches the service (unknown key → NotFoundException)",
            s == 400 and err_type(b) == "NotFoundException", (s, b))

    s, b = kms.call("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})
    t.check("kms: GenerateDataKey without Recipient → 400 AccessDeniedException",
            s == 400 and err_type(b) == "AccessDeniedException", (s, b))
    t.check("kms: GenerateDataKey denial carries no key material", no_key_material(b), b)

    s, b = kms.call("GenerateDataKey", {"KeyId": key_id, "NumberOfBytes": 32})
    t.check("kms: GenerateDataKey (NumberOfBytes) without Recipient → AccessDeniedException",
            s == 400 and err_type(b) == "AccessDeniedException" and no_key_material(b), (s, b))

    seed = seed_ciphertext(st)
    t.check("gateway db holds the enclave seed ciphertext (enclave_state)",
            seed is not None and len(seed) > 16, seed)
    blob = base64.b64encode(seed or b"\x01").decode()

    s, b = kms.call("Decrypt", {"CiphertextBlob": blob})
    t.check("kms: Decrypt(seed) without Recipient → 400 AccessDeniedException",
            s == 400 and err_type(b) == "AccessDeniedException", (s, b))
    t.check("kms: Decrypt(seed) denial carries no Plaintext", no_key_material(b), b)
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob, "KeyId": key_id,
                                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
    t.check("kms: Decrypt(seed, KeyId) without Recipient → AccessDeniedException",
            s == 400 and err_type(b) == "AccessDeniedException" and no_key_material(b), (s, b))

    s, b = kms.call("Encrypt", {"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()})
    t.check("kms: Encrypt without Recipient → AccessDeniedException",
            s == 400 and err_type(b) == "AccessDeniedException", (s, b))

    def recipient(doc):
        return {"AttestationDocument": base64.b64encode(doc).decode(),
                "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}

    garbage = bytes(RNG.randrange(256) for _ in range(600))
    with open(os.path.join(vectors, "nitro_attestation_blocky_prod_20240907.bin"), "rb") as f:
        aws_doc = f.read()
    # A genuine, fresh document from this stack, with the pinned measurement, but no RSA
    # public key of the caller's own: the key service must not release anything to it.
    status, _, att = st.http().request("GET", "/v1/attestation?nonce=" + "5a" * 16)
    live_doc = base64.b64decode(att["document"]) if status == 200 else b""
    # The boot document archived by the gateway (the enclave's own boot document).
    boot_doc = st.store_query("SELECT document FROM boots LIMIT 1")[0][0]
    cases = [("garbage document", garbage),
             ("empty document", b""),
             ("real AWS document (another root, expired)", aws_doc),
             ("dev document from this stack without a recipient RSA key (live /v1/attestation)",
              live_doc)]
    for op, body in (("Decrypt", {"CiphertextBlob": blob}),
                     ("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})):
        for name, doc in cases:
            req = dict(body, Recipient=recipient(doc))
            s, b = kms.call(op, req)
            t.check(f"kms: {op} with Recipient = {name} → refused",
                    s == 400 and err_type(b) in ("ValidationException", "AccessDeniedException"),
                    (s, b))
            t.check(f"kms: {op} with Recipient = {name} → no key material",
                    no_key_material(b), b)
    # The boot document does carry the enclave's RSA key; releasing to it is harmless
    # (only the enclave can open CiphertextForRecipient) — but never as Plaintext.
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob, "Recipient": recipient(boot_doc)})
    t.check("kms: Decrypt with the archived boot document → never Plaintext",
            not (isinstance(b, dict) and "Plaintext" in b), (s, b))

    # Authentication failures.
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob}, tamper="signature")
    t.check("kms: one hex digit of the signature changed → InvalidSignatureException",
            s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
            (s, b))
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob}, tamper="body")
    t.check("kms: body changed after signing → InvalidSignatureException",
            s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
            (s, b))
    wrong = dict(creds, secret_access_key="A" * 40)
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob}, creds=wrong)
    t.check("kms: signed with a wrong secret → InvalidSignatureException",
            s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
            (s, b))
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob}, amz_date="20150830T123600Z")
    t.check("kms: stale X-Amz-Date → InvalidSignatureException",
            s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
            (s, b))
    for op in ("Decrypt", "GenerateDataKey"):
        body = {"CiphertextBlob": blob} if op == "Decrypt" else {"KeyId": key_id,
                                                                 "KeySpec": "AES_256"}
        s, b = kms.call(op, body, sign_it=False)
        t.check(f"kms: unsigned {op} → InvalidSignatureException",
                s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
                (s, b))
    # Unsigned but with a perfectly valid Recipient from this stack: still refused.
    s, b = kms.call("Decrypt", {"CiphertextBlob": blob, "Recipient": recipient(boot_doc)},
                    sign_it=False)
    t.check("kms: unsigned Decrypt with the boot document → InvalidSignatureException",
            s == 400 and err_type(b) == "InvalidSignatureException" and no_key_material(b),
            (s, b))


# ---- 3. sigil attestation verify ----------------------------------------------------------
def verify(st, doc_file, *args, at=None):
    argv = ["attestation", "verify", "--document", doc_file, *args]
    if at is not None:
        argv += ["--at", str(at)]
    return st.sigil(*argv, check=False)


def json_error_line(r):
    """(ok, code): stderr is exactly one JSON line {"error":{"code","message"}}."""
    lines = r.stderr.decode(errors="replace").strip().splitlines()
    if len(lines) != 1:
        return False, None
    try:
        e = json.loads(lines[0])["error"]
        return isinstance(e.get("message"), str) and e["message"] != "", e.get("code")
    except (ValueError, KeyError, TypeError):
        return False, None


def check_attestation_cli(st, t):
    nonce = bytes(RNG.randrange(256) for _ in range(24)).hex()
    status, _, att = st.http().request("GET", "/v1/attestation?nonce=" + nonce)
    t.check("GET /v1/attestation → 200 with a document", status == 200
            and isinstance(att, dict) and "document" in att, (status, att))
    doc = base64.b64decode(att["document"])
    m = st.launch["measurement"]
    root = st.launch["root"]
    good = st.write("doc.bin", "")
    with open(good, "wb") as f:
        f.write(doc)
    base = ["--trust-dev-root", root, "--measurement", m, "--nonce", nonce]

    r = verify(st, good, *base)
    out = json.loads(r.stdout) if r.returncode == 0 else {}
    t.check("attestation verify: live document accepted (right root, measurement, nonce)",
            r.returncode == 0 and out.get("ok") is True, (r.returncode, r.stderr))
    t.check("attestation verify: reports the pinned measurement and the nonce",
            out.get("measurement") == m and out.get("nonce") == nonce, out)
    t.check("attestation verify: boot binding = the keys /v1/attestation advertises",
            out.get("boot", {}).get("sealing_key") == att.get("sealing_key")
            and out.get("boot", {}).get("receipt_key") == att.get("receipt_key"),
            (out.get("boot"), att))

    def rejected(name, r, codes=("attestation_failed",)):
        ok, code = json_error_line(r)
        t.check(f"attestation verify rejects: {name} (exit 2, one JSON error line, "
                f"code in {codes})", r.returncode == 2 and ok and code in codes,
                (r.returncode, r.stdout, r.stderr))

    def variant(name, data):
        p = st.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    # COSE_Sign1: 84 | 44 a1 01 38 22 | a0 | 59 LL LL <payload> | 58 60 <signature(96)>
    t.check("document envelope as documented (array(4), ES384, 2-byte payload length)",
            doc[:8] == bytes.fromhex("8444a1013822a059"), doc[:12].hex())
    plen = int.from_bytes(doc[8:10], "big")
    p0, p1 = 10, 10 + plen
    # a) a byte of module_id (still valid CBOR: only the signature can catch it)
    mid = doc.find(b"-enc", p0, p1)
    flips = []
    if mid > 0:
        d = bytearray(doc)
        d[mid + 4] = ord("0") if d[mid + 4] != ord("0") else ord("1")
        flips.append(("one hex digit of module_id in the payload", bytes(d)))
    # b) a byte of PCR0 inside the payload (so the measurement looks different)
    pcr0 = doc.find(bytes.fromhex(m), p0, p1)
    if pcr0 > 0:
        d = bytearray(doc)
        d[pcr0 + 10] ^= 0x01
        flips.append(("one bit of PCR0 in the payload", bytes(d)))
    # c) a byte of the nonce inside the payload
    nn = doc.find(bytes.fromhex(nonce), p0, p1)
    if nn > 0:
        d = bytearray(doc)
        d[nn] ^= 0x80
        flips.append(("one bit of the nonce in the payload", bytes(d)))
    # d) random positions in the payload (fixed seed)
    for i in range(3):
        d = bytearray(doc)
        pos = RNG.randrange(p0, p1)
        d[pos] ^= 1 << RNG.randrange(8)
        flips.append((f"payload bit flip #{i} at offset {pos}", bytes(d)))
    t.check("payload flip targets found (module_id, PCR0, nonce)", len(flips) == 6,
            [n for n, _ in flips])
    for i, (name, data) in enumerate(flips):
        p = variant(f"flip{i}.bin", data)
        # the nonce and PCR0 flips are also rejected when the caller trusts the (flipped)
        # values: pass the flipped nonce / measurement so only the signature can catch it
        args = list(base)
        if "nonce" in name:
            args[5] = bytes([bytes.fromhex(nonce)[0] ^ 0x80]).hex() + nonce[2:]
        if "PCR0" in name:
            mm = bytearray(bytes.fromhex(m))
            mm[10] ^= 0x01
            args[3] = mm.hex()
        rejected(name, verify(st, p, *args), ("attestation_failed", "bad_request",
                                               "bad_field", "bad_encoding", "protocol_error"))
    for i, pos in enumerate((len(doc) - 1, len(doc) - 96, len(doc) - 48)):
        d = bytearray(doc)
        d[pos] ^= 0x01
        rejected(f"a flipped bit in the signature (byte {pos - (len(doc) - 96)} of 96)",
                 verify(st, variant(f"sig{i}.bin", bytes(d)), *base))
    rejected("truncated document", verify(st, variant("trunc.bin", doc[:-1]), *base),
             ("attestation_failed", "bad_request", "bad_encoding", "protocol_error"))
    rejected("trailing byte after the document",
             verify(st, variant("trail.bin", doc + b"\x00"), *base),
             ("attestation_failed", "bad_request", "bad_encoding", "protocol_error"))

    wrong_nonce = ("00" if nonce[:2] != "00" else "01") + nonce[2:]
    rejected("a wrong --nonce", verify(st, good, "--trust-dev-root", root, "--measurement", m,
                                       "--nonce", wrong_nonce))
    rejected("a shorter --nonce (prefix of the real one)",
             verify(st, good, "--trust-dev-root", root, "--measurement", m,
                    "--nonce", nonce[:-2]))
    rejected("--root aws (untrusted for a dev document)",
             verify(st, good, "--root", "aws", "--measurement", m, "--nonce", nonce))
    other = os.path.join(st.tmp, "other-launch")
    r = subprocess.run([st.exe("sigil-launch"), "--state", other, "--init"], capture_output=True)
    t.check("sigil-launch --init creates another dev root", r.returncode == 0
            and os.path.exists(os.path.join(other, "root.pem")), r.stderr)
    rejected("another dev root", verify(st, good, "--trust-dev-root",
                                        os.path.join(other, "root.pem"),
                                        "--measurement", m, "--nonce", nonce))
    wrong_m = bytearray(bytes.fromhex(m))
    wrong_m[-1] ^= 0x01
    rejected("a wrong --measurement (last bit)",
             verify(st, good, "--trust-dev-root", root, "--measurement", wrong_m.hex(),
                    "--nonce", nonce))
    with open(os.path.join(HERE, "..", "vectors", "nitro", "aws_nitro_enclaves_root_g1.pem")) as f:
        aws_pem = f.read()
    rejected("the AWS root PEM passed as a dev root",
             verify(st, good, "--trust-dev-root", st.write("aws.pem", aws_pem),
                    "--measurement", m, "--nonce", nonce))
    later = int(time.time()) + 4 * 3600
    rejected("--at now + 4 h (the leaf lives 3 h)", verify(st, good, *base, at=later))
    r = verify(st, good, *base, at=int(time.time()) + 3600)
    t.check("attestation verify: --at now + 1 h is still inside the leaf's validity",
            r.returncode == 0, r.stderr)
    rejected("--at one hour before the document", verify(st, good, *base,
                                                         at=int(time.time()) - 3600))
    r = verify(st, good, "--trust-dev-root", root, "--nonce", nonce)
    t.check("attestation verify: --measurement is required (exit 2)", r.returncode == 2,
            (r.returncode, r.stderr))
    r = verify(st, good, "--measurement", m, "--nonce", nonce)
    t.check("attestation verify: a root is required (exit 2)", r.returncode == 2,
            (r.returncode, r.stderr))


# ---- 2. a patched enclave --------------------------------------------------------------------
def check_patched_stack(stack, t, label, orig_m, patched_m, key_id=None, sealing_pk=None):
    """stack has been started with wait=False running the patched enclave."""
    t.check(f"{label}: launcher reports a measurement different from the original",
            stack.launch["measurement"] != orig_m, stack.launch)
    t.check(f"{label}: launcher measurement = `sigil measure <patched>`",
            stack.launch["measurement"] == patched_m, (stack.launch, patched_m))

    deny = wait_for(lambda: "deny" in log_text(stack, "kms", stack._kms_log_start)
                    and log_text(stack, "kms", stack._kms_log_start), WAIT_S)
    t.check(f"{label}: sigil-kms logs a deny for the patched enclave",
            bool(deny) and "deny" in deny, deny)
    if deny:
        lines = [ln for ln in deny.splitlines() if "deny" in ln]
        t.check(f"{label}: the deny is a policy denial (AccessDeniedException)",
                any("AccessDenied" in ln for ln in lines), lines)
        t.check(f"{label}: sigil-kms allowed nothing to the patched enclave",
                " allow " not in deny, deny)

    url = stack.gateway["url"]
    # /readyz: wait (with a deadline) for a 503 that names the failure, and stays so.
    named = ("access", "denied", "key service", "not booted", "kms")

    def failing_named():
        s, b = readyz(url)
        code, msg = err_msg(b)
        return (s, b) if s == 503 and any(w in msg.lower() for w in named) else None

    res = wait_for(failing_named, WAIT_S)
    t.check(f"{label}: /readyz → 503 naming the failure", res is not None,
            readyz(url))
    if res:
        print(f"     readyz: {res[1]}")
    ever_ready = False
    for _ in range(10):  # a couple of seconds more: it must never become ready
        s, _ = readyz(url)
        ever_ready |= s == 200
        time.sleep(0.2)
    t.check(f"{label}: /readyz never becomes 200", not ever_ready)
    # The key service says why it refused (after the resource ARN); that reason must reach
    # the operator intact, not cut off mid-word by a fixed-size buffer.
    if res and deny:
        reasons = [ln.rsplit(": ", 1)[-1] for ln in deny.splitlines()
                   if "AccessDeniedException" in ln]
        _, msg = err_msg(res[1])
        t.check(f"{label}: /readyz message carries the key service's reason untruncated",
                bool(reasons) and reasons[-1] in msg and msg.endswith(")"),
                (reasons[-1:], msg))

    h = Http(url, stack.token)
    s, _, b = h.request("GET", "/v1/attestation?nonce=" + "11" * 16)
    if s == 200:
        t.check(f"{label}: any attestation served names the patched measurement",
                b.get("measurement") != orig_m, b)
    else:
        t.check(f"{label}: GET /v1/attestation → 503 (not booted)", s == 503, (s, b))

    # POST /v1/keys: a well-formed sealed payload (to the original enclave's key, when known).
    pk = sealing_pk or bytes(RNG.randrange(256) for _ in range(32))
    raw = payload("default", "binance", "mainnet", "hmac", BINANCE, policy(), bytes(range(32)))
    s, _, b = h.request("POST", "/v1/keys", {"sealed": base64.b64encode(box_seal(pk, raw))
                                             .decode()})
    code, msg = err_msg(b)
    t.check(f"{label}: POST /v1/keys → 503 with a clear error",
            s == 503 and code in ("unavailable", "access_denied", "key_service_error")
            and any(w in msg.lower() for w in named), (s, b))
    t.check(f"{label}: POST /v1/keys → no key_id", not (isinstance(b, dict) and "key_id" in b),
            b)

    s, _, b = h.request("POST", "/v1/sign", {"key_id": key_id or "k_" + "0" * 32,
                                             "request": binance_request()})
    code, msg = err_msg(b)
    if key_id:
        t.check(f"{label}: POST /v1/sign with an existing key → 503 with a clear error",
                s == 503 and code in ("unavailable", "access_denied", "key_service_error")
                and any(w in msg.lower() for w in named), (s, b))
    print(f"     sign: {s} {b}")
    t.check(f"{label}: POST /v1/sign → no \"signed\" field",
            s != 200 and not (isinstance(b, dict) and "signed" in b), (s, b))
    return res


def start_stack(stack):
    os.makedirs(stack.log_dir, mode=0o700, exist_ok=True)
    kms_log = os.path.join(stack.log_dir, "kms.log")
    stack._kms_log_start = os.path.getsize(kms_log) if os.path.exists(kms_log) else 0
    stack.start(wait=False)
    return stack


def check_patched(bin_dir, st, t, key_id, sealing_pk):
    orig = os.path.join(bin_dir, "sigil-enclave")
    orig_m = st.launch["measurement"]
    t.check("original measurement = `sigil measure sigil-enclave`",
            st.sigil("measure", orig).stdout.decode().strip() == orig_m)
    work = tempfile.mkdtemp(prefix="sigil-e2e-patched-")
    try:
        patched = os.path.join(work, "sigil-enclave-patched")
        off = patch_enclave(orig, patched)
        with open(orig, "rb") as a, open(patched, "rb") as b:
            da, db = a.read(), b.read()
        t.check("patched copy differs from the original in exactly one byte",
                len(da) == len(db) and da[off] != db[off]
                and da[:off] == db[:off] and da[off + 1:] == db[off + 1:], off)
        patched_m = st.sigil("measure", patched).stdout.decode().strip()
        t.check("`sigil measure` of the patched copy differs from the original",
                len(patched_m) == 96 and patched_m != orig_m, (patched_m, orig_m))

        # a) fresh state: the first boot asks for a new seed (GenerateDataKey).
        fresh = TempStack(bin_dir, enclave_exe=patched, pin=orig_m)
        try:
            start_stack(fresh)
            check_patched_stack(fresh, t, "patched, fresh state", orig_m, patched_m)
            t.check("patched, fresh state: no seed ciphertext stored",
                    seed_ciphertext(fresh) is None)
        finally:
            fresh.cleanup()

        # b) existing state (the stack of checks 1 and 3, stopped): the patched enclave gets
        #    the stored seed ciphertext and its Decrypt is denied; signing with an existing
        #    key fails cleanly.
        st.stop()
        seed_before = seed_ciphertext(st)
        pst = st.same_state(enclave_exe=patched, pin=orig_m)
        try:
            start_stack(pst)
            check_patched_stack(pst, t, "patched, existing state", orig_m, patched_m,
                                key_id=key_id, sealing_pk=sealing_pk)
            log = log_text(pst, "kms", pst._kms_log_start)
            t.check("patched, existing state: the Decrypt of the stored seed is denied",
                    "Decrypt deny" in log, log)
        finally:
            pst.stop()
        t.check("patched, existing state: the stored seed ciphertext is unchanged",
                seed_ciphertext(st) == seed_before)

        # c) positive control: same layout, original binary → ready, and signing works.
        ost = st.same_state(pin=orig_m)
        try:
            start_stack(ost)
            ok = True
            try:
                ost.wait_ready(timeout=60)
            except Exception as e:  # noqa: BLE001
                ok = False
                print(f"     {e}")
            t.check("control: the original enclave in the same layout becomes ready", ok)
            t.check("control: launcher reports the original measurement",
                    ost.launch["measurement"] == orig_m, ost.launch)
            log = log_text(ost, "kms", ost._kms_log_start)
            t.check("control: sigil-kms allows the original enclave's Decrypt",
                    "Decrypt allow" in log, log)
            s, _, b = Http(ost.gateway["url"], ost.token).request(
                "POST", "/v1/sign", {"key_id": key_id, "request": binance_request()})
            t.check("control: POST /v1/sign with the existing key → 200 signed",
                    s == 200 and isinstance(b, dict) and "signed" in b, (s, b))
        finally:
            ost.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- main -----------------------------------------------------------------------------------
def main():
    bin_dir = bin_dir_arg()
    tests_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..")
    vectors = os.path.join(tests_dir, "vectors", "nitro")
    t = Checks()
    st = TempStack(bin_dir)
    try:
        st.start()
        # a provisioned key, used later to show the patched enclave cannot sign with it
        owner = st.path("owner.key")
        st.sigil("keygen", "--out", owner)
        out = st.seal("binance", "mainnet", st.write("binance.json", BINANCE),
                      st.write("policy.json", policy()), owner)
        key_id = out["key_id"]
        h = st.http()
        s, _, b = h.request("POST", "/v1/sign", {"key_id": key_id, "request": binance_request()})
        t.check("original enclave: POST /v1/sign → 200 signed", s == 200 and "signed" in b,
                (s, b))
        s, _, att = h.request("GET", "/v1/attestation?nonce=" + "01" * 8)
        sealing_pk = bytes.fromhex(att["sealing_key"])

        check_kms(st, t, vectors)
        check_attestation_cli(st, t)
        check_patched(bin_dir, st, t, key_id, sealing_pk)
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
