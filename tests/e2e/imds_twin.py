#!/usr/bin/env python3
"""A loopback twin of the EC2 instance metadata service (IMDSv2) for the
end-to-end tests: the session-token PUT, the role listing, the role's
temporary credentials and the instance identity document, with the checks
IMDSv2 makes (a TTL header on the PUT, a valid token on every GET).

Credentials are short-lived: every fetch returns Expiration = now +
--lifetime seconds. The access key and secret come from --credentials (a
sigil-kms credentials file, so sigil-kms accepts the signatures); the Token
served is the file's session_token until a test changes it:

    POST /_twin/token   {"token": "..."}   the Token served from now on
    GET  /_twin/stats                      request counts and the last TTL header

Binds 127.0.0.1 port 0 and writes {"url": "http://127.0.0.1:PORT"} to
--ready-file (atomically)."""
import argparse
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "sigil-enclave-host"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


class State:
    def __init__(self, creds, lifetime):
        self.lock = threading.Lock()
        self.creds = creds
        self.token = creds.get("session_token") or "TWIN-TOKEN-0"
        self.lifetime = lifetime
        self.sessions = set()
        self.counts = {}
        self.last_ttl = None

    def count(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def reply(self, status, body, ctype="text/plain"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):
            if self.path != "/latest/api/token":
                return self.reply(404, "not found")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            state.last_ttl = ttl
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                state.count("bad_put")
                return self.reply(400, "missing or invalid TTL")
            session = secrets.token_urlsafe(32)
            with state.lock:
                state.sessions.add(session)
            state.count("token")
            self.reply(200, session)

        def do_POST(self):
            if self.path != "/_twin/token":
                return self.reply(404, "not found")
            n = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(n))
            with state.lock:
                state.token = body["token"]
            self.reply(200, "{}", "application/json")

        def do_GET(self):
            if self.path == "/_twin/stats":
                with state.lock:
                    out = {"counts": dict(state.counts), "last_ttl": state.last_ttl,
                           "token": state.token}
                return self.reply(200, json.dumps(out), "application/json")
            session = self.headers.get("X-aws-ec2-metadata-token")
            with state.lock:
                valid = session in state.sessions
            if not valid:
                state.count("unauthorized")
                return self.reply(401, "")
            if self.path == CREDS_PATH:
                state.count("roles")
                return self.reply(200, ROLE)
            if self.path == CREDS_PATH + ROLE:
                state.count("credentials")
                now = time.time()
                with state.lock:
                    token = state.token
                c = state.creds
                return self.reply(200, json.dumps({
                    "Code": "Success", "LastUpdated": iso(now), "Type": "AWS-HMAC",
                    "AccessKeyId": c["access_key_id"], "SecretAccessKey": c["secret_access_key"],
                    "Token": token, "Expiration": iso(now + state.lifetime)}, indent=2),
                    "application/json")
            if self.path == "/latest/dynamic/instance-identity/document":
                state.count("identity")
                return self.reply(200, json.dumps({
                    "accountId": "123456789012", "architecture": "x86_64",
                    "availabilityZone": state.creds["region"] + "a", "billingProducts": None,
                    "devpayProductCodes": None, "marketplaceProductCodes": None,
                    "imageId": "ami-0123456789abcdef0", "instanceId": "i-0123456789abcdef0",
                    "instanceType": "m5.xlarge", "kernelId": None, "pendingTime": iso(0),
                    "privateIp": "10.0.0.1", "ramdiskId": None, "region": state.creds["region"],
                    "version": "2017-09-30"}, indent=2), "application/json")
            self.reply(404, "not found")

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--credentials", required=True)
    ap.add_argument("--lifetime", type=int, default=6 * 3600)
    args = ap.parse_args()
    with open(args.credentials) as f:
        creds = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(State(creds, args.lifetime)))
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"url": f"http://127.0.0.1:{srv.server_address[1]}"}, f)
    os.rename(tmp, args.ready_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
