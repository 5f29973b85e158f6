#!/usr/bin/env python3
"""A stand-in enclave speaking the frame protocol (docs/FRAMES.md) over a
unix socket, for exercising sigil-gateway without the real enclave. It
holds no secrets and signs nothing: `sign` echoes the request. Behaviour
switches inside the request text: "deny" -> policy_denied, "hang" -> no
answer, "drop" -> closes the connection. Counts sign calls in COUNT_FILE.

usage: fake_enclave.py SOCKET_PATH COUNT_FILE
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import cbor_min  # noqa: E402


# CBOR: the tests' own small codec (tests/e2e/cbor_min.py).
enc = cbor_min.encode
dec = cbor_min.decode

BOOT_ID = os.urandom(16)
MEASUREMENT = bytes(range(48))
SEALING = b"\x01" * 32
RECEIPT = b"\x02" * 32
lock = threading.Lock()
state = {"seed": None, "signs": 0}


def result(fid, res):
    return {0: 1, 1: fid, 4: res}


def error(fid, code, msg):
    return {0: 1, 1: fid, 5: {"code": code, "message": msg}}


def receipt(decision, action):
    """A receipt-shaped JSON object (the gateway relays it without verifying)."""
    with lock:
        state["seq"] = state.get("seq", 0) + 1
        seq = state["seq"]
    return ('{"action":"%s","decision":"%s","seq":%d,"signature":"%s"}'
            % (action, decision, seq, "00" * 64))


def handle(op, args, fid, count_file):
    if op == "hello":
        return result(fid, {"version": 1, "mode": "dev"})
    if op == "boot":
        kms = args["kms"]
        if kms["access_key_id"] != "AK":
            return error(fid, "access_denied", "key service refused")
        with lock:
            state["seed"] = args["seed_ciphertext"] or os.urandom(24)
            seed = state["seed"]
        return result(fid, {"seed_ciphertext": seed, "document": b"boot-doc",
                            "boot_id": BOOT_ID, "sealing_key": SEALING,
                            "receipt_key": RECEIPT, "measurement": MEASUREMENT})
    if op == "ping":
        return result(fid, {"booted": True, "time_ms": int(time.time() * 1000), "kms": "ok",
                            "boot_id": BOOT_ID, "receipt_seq": state.get("seq", 0)})
    if op == "attestation":
        return result(fid, {"document": b"att:" + args["nonce"], "boot_id": BOOT_ID,
                            "sealing_key": SEALING, "receipt_key": RECEIPT,
                            "measurement": MEASUREMENT})
    if op == "import":
        if args["sealed"] == b"bad":
            return error(fid, "bad_signature", "policy signature does not verify")
        kid = "k" + os.urandom(6).hex()
        return result(fid, {"key_id": kid, "venue": "binance", "network": "mainnet",
                            "key_type": "hmac", "address": None, "policy_hash": b"\x07" * 32,
                            "blob": b"blob:" + args["tenant"].encode() + b":" + kid.encode(),
                            "version": 1, "client_key": False,
                            "receipt": receipt("allow", "import")})
    if op == "sign":
        req = args["request"]
        with lock:
            state["signs"] += 1
            with open(count_file, "w") as f:
                f.write(str(state["signs"]))
        if args["blob"] != b"blob:" + args["tenant"].encode() + b":" + args["key_id"].encode():
            return error(fid, "forbidden", "blob does not belong to this tenant and key")
        if "deny" in req:
            e = error(fid, "policy_denied", "symbol not allowed")
            e[5]["receipt"] = receipt("deny", "order")
            return e
        if "hang" in req:
            return None
        if "drop" in req:
            raise ConnectionError("drop")
        return result(fid, {"signed": '{"echo":' + req + "}", "action": "order",
                            "receipt": receipt("allow", "order"), "usage": None})
    return error(fid, "bad_request", "unknown op")


def serve(conn, count_file):
    try:
        while True:
            hdr = conn.recv(4, socket.MSG_WAITALL)
            if len(hdr) < 4:
                return
            n = int.from_bytes(hdr, "big")
            payload = conn.recv(n, socket.MSG_WAITALL)
            frame, _ = dec(payload)
            out = handle(frame[2], frame[3], frame[1], count_file)
            if out is not None:
                b = enc(out)
                conn.sendall(len(b).to_bytes(4, "big") + b)
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    path, count_file = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, count_file), daemon=True).start()


if __name__ == "__main__":
    main()
