#!/usr/bin/python3
"""
standin.py - loopback stand-ins for the AWS credential endpoints.

One HTTP server plays three services, so tests can point s3db_fdw (or the
unit tests of src/store) at it instead of the real ones:

  EC2 instance metadata (IMDSv2)
      PUT  /latest/api/token                      needs X-aws-ec2-metadata-token-ttl-seconds
      GET  /latest/meta-data/iam/security-credentials/        the role name
      GET  /latest/meta-data/iam/security-credentials/ROLE    credentials (JSON)
      Both GETs need the session token from the PUT (IMDSv1 is refused).
  ECS / EKS container credentials
      GET  /ecs/...   credentials (JSON); with --ecs-token the Authorization
                      header must equal it
  STS
      POST /   Action=AssumeRole (SigV4-signed, service sts, by a key this
               stand-in issued or by --base-key AKID:SECRET) or
               Action=AssumeRoleWithWebIdentity (WebIdentityToken must equal
               the contents of --web-token-file)
      A RoleArn equal to --refuse-role is answered 403 AccessDenied; with
      --external-id, AssumeRole needs that ExternalId.

Every issued key is appended to --keys-file as one JSON line
{"akid", "secret", "token", "not_after", "kind"} for test/s3/sigv4_proxy.py,
which then accepts it until not_after.  Credentials say they expire
--lifetime seconds after issue; the proxy is told they end --valid seconds
after issue (default: when they say), so a client that does not refresh in
time fails.  GET /__stats answers {"imds": n, "ecs": n, "sts": n,
"web": n, "refused": n}; POST /__config with a JSON object changes
lifetime/valid at run time.

Usage: standin.py --keys-file FILE [--port-file FILE] [--listen PORT]
                  [--lifetime S] [--valid S] [--role NAME] [--refuse-role ARN]
                  [--external-id ID] [--ecs-token T] [--web-token-file F]
                  [--base-key AKID:SECRET]
"""

import argparse
import datetime
import hmac
import http.server
import json
import os
import random
import re
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCK = threading.Lock()
STATS = {"imds": 0, "ecs": 0, "sts": 0, "web": 0, "refused": 0}
ISSUED = {}            # akid -> (secret, token)
IMDS_TOKENS = set()
ARGS = None
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request\s*,"
    r"\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$")


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(kind):
    """New temporary credentials, registered with the proxy."""
    now = time.time()
    akid = "ASIA" + secrets.token_hex(8).upper()
    secret = secrets.token_urlsafe(30)
    token = "standin-" + secrets.token_urlsafe(48)
    expires = now + ARGS.lifetime
    not_after = now + (ARGS.valid if ARGS.valid else ARGS.lifetime)
    with LOCK:
        STATS[kind] += 1
        ISSUED[akid] = (secret, token)
        with open(ARGS.keys_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"akid": akid, "secret": secret, "token": token,
                                "not_after": not_after, "kind": kind}) + "\n")
    return akid, secret, token, expires


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def json_creds(self, kind):
        akid, secret, token, expires = issue(kind)
        return json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": akid,
                           "SecretAccessKey": secret, "Token": token,
                           "Expiration": iso(expires),
                           "LastUpdated": iso(time.time())})

    # ---- IMDS and ECS ---------------------------------------------------
    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.reply(404, "{}")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "missing ttl")
        tok = secrets.token_urlsafe(24)
        with LOCK:
            IMDS_TOKENS.add(tok)
        self.reply(200, tok, "text/plain")

    def do_GET(self):
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path == "/__stats":
            with LOCK:
                return self.reply(200, json.dumps(STATS))
        if self.path.startswith(prefix):
            with LOCK:
                known = self.headers.get("X-aws-ec2-metadata-token") in IMDS_TOKENS
            if not known:
                return self.reply(401, "IMDSv2 session token required", "text/plain")
            role = self.path[len(prefix):]
            if role == "":
                return self.reply(200, ARGS.role, "text/plain")
            if role != ARGS.role:
                return self.reply(404, "no such role", "text/plain")
            return self.reply(200, self.json_creds("imds"))
        if self.path.startswith("/ecs/"):
            if ARGS.ecs_token and not hmac.compare_digest(
                    self.headers.get("Authorization") or "", ARGS.ecs_token):
                return self.reply(403, json.dumps({"message": "bad authorization"}))
            return self.reply(200, self.json_creds("ecs"))
        self.reply(404, "{}")

    # ---- STS --------------------------------------------------------------
    def sts_error(self, status, code, message):
        with LOCK:
            STATS["refused"] += 1
        self.reply(status, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                   '<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
                   '<RequestId>standin</RequestId></ErrorResponse>' % (code, message),
                   "text/xml")

    def signature_ok(self, raw):
        m = AUTH_RE.match((self.headers.get("Authorization") or "").strip())
        if not m:
            return False
        akid, _, region, service, signed, signature = m.groups()
        if service != "sts":
            return False
        with LOCK:
            found = ISSUED.get(akid)
        if found is None and ARGS.base_key and ARGS.base_key.split(":", 1)[0] == akid:
            found = (ARGS.base_key.split(":", 1)[1], None)
        if found is None:
            return False
        secret, token = found
        if token is not None and self.headers.get("X-Amz-Security-Token") != token:
            return False
        creds = Credentials(akid, secret, token)
        host = self.headers.get("Host")
        req = AWSRequest(method="POST", url="http://%s/" % host, data=raw)
        for name in signed.split(";"):
            req.headers[name] = self.headers.get(name)
        auth = SigV4Auth(creds, service, region)
        req.context["timestamp"] = self.headers.get("X-Amz-Date")
        want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
        return hmac.compare_digest(want, signature)

    def do_POST(self):
        raw = self.body()
        if self.path == "/__config":
            cfg = json.loads(raw or b"{}")
            for k in ("lifetime", "valid"):
                if k in cfg:
                    setattr(ARGS, k, cfg[k])
            return self.reply(200, "{}")
        if self.path != "/":
            return self.reply(404, "{}")
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        action = form.get("Action")
        role = form.get("RoleArn", "")
        if action == "AssumeRoleWithWebIdentity":
            want = open(ARGS.web_token_file).read().strip() if ARGS.web_token_file else None
            if not want or not hmac.compare_digest(form.get("WebIdentityToken", ""), want):
                return self.sts_error(400, "InvalidIdentityToken", "The web identity token is not valid.")
            kind = "web"
        elif action == "AssumeRole":
            if not self.signature_ok(raw):
                return self.sts_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
            if ARGS.external_id and form.get("ExternalId") != ARGS.external_id:
                return self.sts_error(403, "AccessDenied", "ExternalId does not match.")
            kind = "sts"
        else:
            return self.sts_error(400, "InvalidAction", "Unknown action.")
        if ARGS.refuse_role and role == ARGS.refuse_role:
            return self.sts_error(403, "AccessDenied",
                                  "User is not authorized to perform: sts:AssumeRole on resource: " + role)
        if not form.get("RoleSessionName"):
            return self.sts_error(400, "ValidationError", "RoleSessionName is required.")
        akid, secret, token, expires = issue(kind)
        result = "AssumeRoleWithWebIdentityResult" if kind == "web" else "AssumeRoleResult"
        response = result.replace("Result", "Response")
        self.reply(200, '<%s xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%s>'
                   '<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>'
                   '<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>'
                   '<AssumedRoleUser><Arn>%s/%s</Arn></AssumedRoleUser></%s>'
                   '<ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></%s>'
                   % (response, result, akid, secret, token, iso(expires), role,
                      form.get("RoleSessionName"), result, response), "text/xml")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--keys-file", required=True)
    ap.add_argument("--lifetime", type=float, default=3600)
    ap.add_argument("--valid", type=float, default=0)
    ap.add_argument("--role", default="s3db-test-role")
    ap.add_argument("--refuse-role")
    ap.add_argument("--external-id")
    ap.add_argument("--ecs-token")
    ap.add_argument("--web-token-file")
    ap.add_argument("--base-key")
    ARGS = ap.parse_args()
    if ARGS.listen:
        srv = Server(("127.0.0.1", ARGS.listen), Handler)
    else:
        # below the ephemeral range, as test/free_port.py explains
        for _ in range(200):
            try:
                srv = Server(("127.0.0.1", random.randint(10000, 32767)), Handler)
                break
            except OSError:
                continue
        else:
            raise SystemExit("standin: no free port in 10000-32767")
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
