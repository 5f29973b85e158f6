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


# ---- minimal CBOR (the subset frames use) ----
def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < (1 << (8 * struct.calcsize(fmt))):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError("too big")


def enc(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    raise TypeError(type(v))


def dec(b, i=0):
    ib = b[i]
    major, ai = ib >> 5, ib & 31
    i += 1
    if major == 7:
        return {20: False, 21: True, 22: None}[ai], i
    if ai < 24:
        n = ai
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
        n = int.from_bytes(b[i:i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major in (2, 3):
        s = b[i:i + n]
        return (s if major == 2 else s.decode()), i + n
    if major == 4:
        out = []
        for _ in range(n):
            x, i = dec(b, i)
            out.append(x)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = dec(b, i)
            out[k], i = dec(b, i)
        return out, i
    raise ValueError("unsupported CBOR")


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
                            "boot_id": BOOT_ID})
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
                            "blob": b"blob:" + args["tenant"].encode() + b":" + kid.encode()})
    if op == "sign":
        req = args["request"]
        with lock:
            state["signs"] += 1
            with open(count_file, "w") as f:
                f.write(str(state["signs"]))
        if args["blob"] != b"blob:" + args["tenant"].encode() + b":" + args["key_id"].encode():
            return error(fid, "forbidden", "blob does not belong to this tenant and key")
        if "deny" in req:
            return error(fid, "policy_denied", "symbol not allowed")
        if "hang" in req:
            return None
        if "drop" in req:
            raise ConnectionError("drop")
        return result(fid, {"signed": '{"echo":' + req + "}", "action": "order"})
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
