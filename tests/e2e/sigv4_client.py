"""An independent AWS SigV4 signer and a minimal AWS-KMS JSON client, written
from the AWS specification (reference/nitro.md §5.4) with hashlib/hmac only,
so the end-to-end tests can talk to sigil-kms without going through our C
KMS client. `self_test()` checks the signer against the committed vectors
(vectors/nitro/sigv4/get-vanilla and kms-decrypt-derived) before use.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import ssl
import urllib.parse


def _sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def canonical_request(method, path, query, headers, signed, body):
    """headers: {lower-case name: value}; signed: the names to sign.
    Only the canonical forms the tests need: path already normalised, query
    already canonical (sorted, encoded)."""
    names = sorted(signed)
    lines = [method, path, query]
    lines += [f"{n}:{' '.join(headers[n].strip().split())}" for n in names]
    return "\n".join(lines) + "\n\n" + ";".join(names) + "\n" + _sha256_hex(body)


def string_to_sign(amz_date, scope, creq):
    return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + _sha256_hex(creq.encode())


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def sign(method, path, query, headers, body, access_key, secret, region, service, amz_date,
         signed=None):
    """Returns (authorization, canonical request, string to sign, signature hex)."""
    headers = {k.lower(): v for k, v in headers.items()}
    signed = sorted(signed if signed is not None else headers.keys())
    creq = canonical_request(method, path, query, headers, signed, body)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    sts = string_to_sign(amz_date, scope, creq)
    sig = hmac.new(signing_key(secret, amz_date[:8], region, service), sts.encode(),
                   hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return auth, creq, sts, sig


def _read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def self_test(vectors_dir):
    """Checks the signer against the committed vectors; returns a list of
    (name, ok, detail)."""
    out = []
    # get-vanilla (aws-c-auth suite, service "service", header signing).
    d = os.path.join(vectors_dir, "get-vanilla")
    ctx = json.loads(_read(d, "context.json"))
    ts = ctx["timestamp"].replace("-", "").replace(":", "")
    auth, creq, sts, sig = sign("GET", "/", "", {"Host": "example.amazonaws.com",
                                                 "X-Amz-Date": ts}, b"",
                                ctx["credentials"]["access_key_id"],
                                ctx["credentials"]["secret_access_key"],
                                ctx["region"], ctx["service"], ts)
    out.append(("sigv4 get-vanilla canonical request",
                creq == _read(d, "header-canonical-request.txt").decode(), creq))
    out.append(("sigv4 get-vanilla string to sign",
                sts == _read(d, "header-string-to-sign.txt").decode(), sts))
    out.append(("sigv4 get-vanilla signature",
                sig == _read(d, "header-signature.txt").decode().strip(), sig))
    signed_req = _read(d, "header-signed-request.txt").decode()
    out.append(("sigv4 get-vanilla Authorization", "Authorization:" + auth in signed_req, auth))
    # kms-decrypt-derived (KMS-shaped POST with session token and content hash).
    d = os.path.join(vectors_dir, "kms-decrypt-derived")
    ctx = json.loads(_read(d, "context.json"))
    body = _read(d, "body.json")
    h = {"Content-Length": str(len(body)), "Content-Type": "application/x-amz-json-1.1",
         "Host": "kms.us-east-1.amazonaws.com", "X-Amz-Content-Sha256": _sha256_hex(body),
         "X-Amz-Date": ctx["amz_date"], "X-Amz-Security-Token": ctx["token"],
         "X-Amz-Target": "TrentService.Decrypt"}
    auth, creq, sts, sig = sign("POST", "/", "", h, body, ctx["access_key_id"],
                                ctx["secret_access_key"], ctx["region"], ctx["service"],
                                ctx["amz_date"])
    out.append(("sigv4 kms-decrypt-derived canonical request",
                creq == _read(d, "canonical-request.txt").decode().rstrip("\n"), creq))
    out.append(("sigv4 kms-decrypt-derived string to sign",
                sts == _read(d, "string-to-sign.txt").decode().rstrip("\n"), sts))
    out.append(("sigv4 kms-decrypt-derived signature",
                sig == _read(d, "signature.txt").decode().strip(), sig))
    out.append(("sigv4 kms-decrypt-derived Authorization",
                auth == _read(d, "authorization.txt").decode().strip(), auth))
    return out


class KmsClient:
    """POSTs AWS-KMS JSON 1.1 requests to a key service over TLS (CA pinned).

    creds: {"access_key_id","secret_access_key","region"[,"session_token"]}."""

    def __init__(self, url, ca_file, creds):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 443
        self.host_header = self.host if self.port == 443 else f"{self.host}:{self.port}"
        self.ctx = ssl.create_default_context(cafile=ca_file)
        self.creds = dict(creds)

    def call(self, op, body, sign_it=True, tamper=None, creds=None, amz_date=None,
             content_type="application/x-amz-json-1.1"):
        """op: "GenerateDataKey" | "Decrypt" | "Encrypt"; body: dict or bytes.
        tamper: "signature" flips one hex digit of the signature, "body" changes
        the body after signing. Returns (status, parsed JSON or text)."""
        creds = creds or self.creds
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        amz_date = amz_date or datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%SZ")
        h = {"Content-Length": str(len(data)), "Content-Type": content_type,
             "Host": self.host_header, "X-Amz-Content-Sha256": _sha256_hex(data),
             "X-Amz-Date": amz_date, "X-Amz-Target": "TrentService." + op}
        if creds.get("session_token"):
            h["X-Amz-Security-Token"] = creds["session_token"]
        if sign_it:
            auth, _, _, sig = sign("POST", "/", "", h, data, creds["access_key_id"],
                                   creds["secret_access_key"], creds.get("region", "us-east-1"),
                                   "kms", amz_date)
            if tamper == "signature":
                flipped = "0" if sig[-1] != "0" else "1"
                auth = auth[:-1] + flipped
            h["Authorization"] = auth
        if tamper == "body":
            data = data.replace(b"{", b"{ ", 1)
            h["Content-Length"] = str(len(data))
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        try:
            # http.client adds Host itself; send ours (the signed one) instead.
            conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            conn.endheaders(data)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        return r.status, parsed
