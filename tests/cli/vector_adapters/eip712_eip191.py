"""Generic EIP-712 (spec "Mail" example, ethers 6.17.0) and EIP-191
personal_sign vectors through sigil's eip712 and eip191 venues."""
from vector_adapters.common import eq
from run_vectors import Case

SKIPPED = {}


def _typed_data(inputs):
    return {k: inputs[k] for k in ("domain", "types", "primaryType", "message")}


def _self_check(exp):
    sig = exp["signature"]
    want = sig["r"] + sig["s"][2:] + format(sig["v"], "02x")
    eq(exp["signature_65_hex"], want, "vector self-check (r, s, v)")


def _eip712_cases(vectors):
    docs = {v["expected"]["digest"]: _typed_data(v["inputs"])
            for v in vectors if "message" in v["inputs"]}
    for v in vectors:
        inp, exp = v["inputs"], v["expected"]
        _self_check(exp)
        digest = exp.get("digest", inp.get("digest"))
        if "message" in inp:
            request = _typed_data(inp)
        elif digest in docs:  # a digest only: sign the document it is the digest of
            request = docs[digest]
        else:
            SKIPPED[v["name"]] = "digest only, and no typed-data document in the file gives it"
            continue

        def check(out, digest=digest, sig=exp["signature_65_hex"]):
            eq(out["digest"], digest, "digest")
            eq(out["signature"], sig, "signature")

        yield Case(v["name"], "eip712", {"private_key": inp["private_key"]}, request, check)


def _eip191_cases(vectors):
    for v in vectors:
        inp, exp = v["inputs"], v["expected"]
        creds = {"private_key": inp["private_key"]}

        def check(out, sig=exp["signature_65_hex"]):
            eq(out["signature"], sig, "signature")

        if inp["message_utf8"] is not None:
            yield Case(v["name"] + " [message]", "eip191", creds,
                       {"message": inp["message_utf8"]}, check)
        yield Case(v["name"] + " [message_hex]", "eip191", creds,
                   {"message_hex": inp["message_hex"]}, check)


def cases(doc, vectors_dir):
    yield from _eip712_cases(doc["eip712"])
    yield from _eip191_cases(doc["eip191"])
