#!/usr/bin/python3
"""
sigv4_proxy.py - a strict front end for the s3rver test server.

s3rver accepts any signature, ignores conditional writes and does not
check x-amz-content-sha256, so a client that signs requests wrongly or
relies on If-None-Match / If-Match would pass the tests against it and
fail against real S3.  This proxy sits in front of s3rver and, for every
request:

  * recomputes the SigV4 signature with botocore (credentials
    S3RVER/S3RVER, region taken from the request's credential scope,
    service s3) over the received method, path, query and the headers
    named in SignedHeaders, and checks that x-amz-content-sha256 is the
    SHA-256 of the received body (or UNSIGNED-PAYLOAD).  A mismatch is
    answered with 403 SignatureDoesNotMatch and appended to the failure
    log, which the test runners require to stay empty;
  * enforces "PUT/COPY with If-None-Match: *" (412 when the object
    exists) and "PUT/COPY/DELETE with If-Match" (412 when the current ETag
    differs, 404 when the object is missing), holding a per-key lock so
    that check and write are atomic with respect to other writes through
    this proxy;
  * forwards the request to s3rver and relays the response unchanged.

With --keys-file FILE the proxy also accepts temporary credentials that a
credential stand-in (test/creds/standin.py) issued: FILE holds one JSON
object per line, {"akid", "secret", "token", "not_after"}.  A request signed
with such a key must carry its session token and arrive before not_after
(epoch seconds), else it fails like a bad signature; every accepted use is
appended to FILE.used as "<epoch> <akid>", so tests can see which keys a
statement used.

With --conditions the proxy imitates stores that do not keep these
promises, for the tests of the store probe: "ceph18" answers PUT
with a quoted If-Match ETag by 412 whatever the ETag and deletes whatever
If-Match says (Ceph radosgw 18.2), "none" checks no condition at all
(s3rver's own behaviour: it ignores x-amz-copy-source-if-match too).  The
default, "s3", is S3's behaviour, x-amz-copy-source-if-match included.

Usage: sigv4_proxy.py --listen PORT --upstream PORT --failure-log FILE
       [--port-file FILE] [--keys-file FILE] [--conditions s3|ceph18|none]
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import sys
import threading
import time
import traceback
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
UNSIGNED = "UNSIGNED-PAYLOAD"
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect",
}
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request\s*,"
    r"\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$")

CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)
UPSTREAM_PORT = 0
FAILURE_LOG = None
TRACE_LOG = None  # --trace FILE: one line per request, for debugging
KEYS_FILE = None  # --keys-file FILE: temporary credentials of the stand-in
CONDITIONS = "s3"  # --conditions: s3, ceph18 or none
LOG_LOCK = threading.Lock()

# per-key write locks: check-and-write of conditional PUTs must not
# interleave with another write to the same key
KEY_LOCKS = {}
KEY_LOCKS_GUARD = threading.Lock()


def key_lock(key):
    with KEY_LOCKS_GUARD:
        lock = KEY_LOCKS.get(key)
        if lock is None:
            lock = KEY_LOCKS[key] = threading.Lock()
        return lock


def etag_matches(header, etag):
    """Does an If-Match style header (a list of ETags, quoted or bare, or *) name etag?"""
    wanted = [t.strip().strip('"') for t in header.split(",")]
    return "*" in wanted or etag in wanted


def log_failure(line):
    with LOG_LOCK:
        with open(FAILURE_LOG, "a", encoding="utf-8") as f:
            f.write(line.replace("\n", "\\n") + "\n")


def canonical_query_pairs(query):
    """Decode a raw query into (name, value) pairs (AWS re-encodes them)."""
    pairs = []
    if not query:
        return pairs
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def temporary_key(akid):
    """The stand-in's record of a temporary key, or None."""
    if not KEYS_FILE:
        return None
    try:
        with open(KEYS_FILE, encoding="utf-8") as f:
            for line in f:
                try:
                    k = json.loads(line)
                except ValueError:
                    continue
                if k.get("akid") == akid:
                    return k
    except OSError:
        pass
    return None


def note_key_use(akid):
    with LOG_LOCK:
        with open(KEYS_FILE + ".used", "a", encoding="utf-8") as f:
            f.write("%.3f %s\n" % (time.time(), akid))


def expected_signature(method, path, query, headers, signed_names, amz_date,
                       region, service, use_params, canonical_path, creds=None):
    """Signature botocore computes for the request as received."""
    auth = S3SigV4Auth(creds or CREDENTIALS, service, region)
    p = quote(unquote(path), safe="/~") if canonical_path else path
    url = "http://placeholder" + p
    if query and not use_params:
        url += "?" + query
    req = AWSRequest(method=method, url=url)
    if use_params:
        req.params = canonical_query_pairs(query)
    for name in signed_names:
        values = headers.get_all(name) or []
        req.headers[name] = ",".join(v.strip() for v in values)
    req.context["timestamp"] = amz_date
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    return auth.signature(sts, req), auth.signed_headers(auth.headers_to_sign(req)), creq


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sigv4proxy"

    def send_response_only(self, code, message=None):
        self._status = code
        super().send_response_only(code, message)

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---- request body ------------------------------------------------
    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # ---- replies -----------------------------------------------------
    def send_xml_error(self, status, code, message):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                '<Message>%s</Message></Error>' % (code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # ---- signature ---------------------------------------------------
    def check_signature(self, body):
        """Return None when the request is correctly signed, else a reason."""
        authz = self.headers.get("Authorization")
        if not authz:
            return "missing Authorization header"
        m = AUTH_RE.match(authz.strip())
        if not m:
            return "unparsable Authorization header: " + authz
        access, date, region, service, signed, signature = m.groups()
        creds = CREDENTIALS
        temp = None
        self._temporary = False
        if access != ACCESS_KEY:
            temp = temporary_key(access)
            if temp is None:
                return "unknown access key " + access
            if time.time() > temp["not_after"]:
                return "expired temporary key %s (%.1f s past its end)" % (
                    access, time.time() - temp["not_after"])
            if self.headers.get("X-Amz-Security-Token") != temp["token"]:
                return "temporary key %s without its session token" % access
            creds = Credentials(temp["akid"], temp["secret"], temp["token"])
        if service != "s3":
            return "credential scope service is " + service
        amz_date = self.headers.get("X-Amz-Date")
        if not amz_date or not re.match(r"^\d{8}T\d{6}Z$", amz_date):
            return "missing or malformed X-Amz-Date"
        if amz_date[:8] != date:
            return "credential scope date differs from X-Amz-Date"
        signed_names = signed.split(";")
        if signed_names != sorted(signed_names):
            return "SignedHeaders not sorted"
        if "host" not in signed_names:
            return "host is not signed"
        for name in signed_names:
            if name != name.lower() or self.headers.get(name) is None:
                return "signed header %r missing from the request" % name
        for name in self.headers.keys():
            lname = name.lower()
            if lname.startswith("x-amz-") and lname not in signed_names:
                return "header %s is not signed" % lname
        sha = self.headers.get("X-Amz-Content-SHA256")
        if sha is None:
            return "missing x-amz-content-sha256"
        if "x-amz-content-sha256" not in signed_names:
            return "x-amz-content-sha256 is not signed"
        if sha != UNSIGNED and sha != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 %s is not the SHA-256 of the %d-byte body" % (sha, len(body))
        parts = self.path.split("?", 1)
        path = parts[0]
        query = parts[1] if len(parts) > 1 else ""
        tried = []
        for use_params in (True, False):
            for canonical_path in (False, True):
                want, names, creq = expected_signature(
                    self.command, path, query, self.headers, signed_names,
                    amz_date, region, service, use_params, canonical_path, creds)
                if names != signed:
                    return "SignedHeaders %s, recomputed %s" % (signed, names)
                if hmac.compare_digest(want, signature):
                    if temp is not None:
                        note_key_use(access)
                        self._temporary = True
                    return None
                tried.append(creq)
        return "signature mismatch; canonical request was:\n" + tried[0]

    # ---- upstream ----------------------------------------------------
    def upstream_conn(self):
        # A fresh connection per request: s3rver, reusing a kept-alive
        # connection for a PUT, now and then stores the object with an
        # empty body while answering 200.
        conn = getattr(self, "_upstream", None)
        if conn is not None:
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM_PORT, timeout=120)
        self._upstream = conn
        return conn

    def upstream_request(self, method, path, headers, body):
        """Send one request upstream, reconnecting once on a stale socket."""
        for attempt in (0, 1):
            conn = self.upstream_conn()
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders(body if body else None)
                return conn.getresponse()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._upstream = None
                if attempt:
                    raise

    def signed_internal_headers(self, method, path):
        """Headers of a request the proxy itself sends (signed like a client)."""
        host = self.headers.get("Host") or "127.0.0.1"
        req = AWSRequest(method=method, url="http://" + host + path, headers={"Host": host})
        S3SigV4Auth(CREDENTIALS, "s3", "us-east-1").add_auth(req)
        return list(req.headers.items())

    def current_etag(self, path):
        """ETag of the object at path (no query), or None when missing."""
        resp = self.upstream_request("HEAD", path, self.signed_internal_headers("HEAD", path), b"")
        resp.read()
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise RuntimeError("HEAD %s answered %d" % (path, resp.status))
        return (resp.getheader("ETag") or "").strip().strip('"')

    def relay(self, method, body):
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() != "content-length"]
        if getattr(self, "_temporary", False):
            # s3rver knows only its own key: present the checked request as
            # signed by it (s3rver does not check signatures)
            headers = [(k, re.sub(r"Credential=[^/]+/", "Credential=%s/" % ACCESS_KEY, v)
                        if k.lower() == "authorization" else v)
                       for k, v in headers if k.lower() != "x-amz-security-token"]
        if method not in ("GET", "HEAD", "DELETE") or body:
            headers.append(("Content-Length", str(len(body))))
        resp = self.upstream_request(method, self.path, headers, body)
        self.send_response_only(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        no_body = method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        for name, value in resp.getheaders():
            if name.lower() in HOP_BY_HOP:
                continue
            self.send_header(name, value)
        chunked = not no_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            resp.read()
            return
        while True:
            data = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not data:
                break
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if resp.will_close:
            self.upstream_conn().close()
            self._upstream = None

    # ---- dispatch ----------------------------------------------------
    def handle_any(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send_xml_error(400, "IncompleteBody", "could not read the request body")
            return
        reason = self.check_signature(body)
        if reason is not None:
            log_failure("%s %s %s: %s" % (time.strftime("%H:%M:%S"), self.command, self.path, reason))
            self.send_xml_error(403, "SignatureDoesNotMatch", "signature check failed")
            return
        method = self.command
        path_only = self.path.split("?", 1)[0]
        if method in ("PUT", "DELETE"):
            with key_lock(unquote(path_only)):
                if not self.preconditions_hold(path_only):
                    return
                self.relay(method, body)
        elif method in ("GET", "HEAD") and "?" not in self.path:
            # s3rver writes an object's MD5 file before its metadata file, so
            # a read racing a write can see the new ETag with the old
            # metadata; reads of one key wait for its writes, as on S3
            with key_lock(unquote(path_only)):
                self.relay(method, body)
        else:
            self.relay(method, body)

    def preconditions_hold(self, path_only):
        inm = self.headers.get("If-None-Match")
        im = self.headers.get("If-Match")
        csim = self.headers.get("x-amz-copy-source-if-match")
        if inm is None and im is None and csim is None:
            return True
        if CONDITIONS == "none" or (CONDITIONS == "ceph18" and self.command == "DELETE"):
            return True
        if CONDITIONS == "ceph18" and im is not None and im.strip().startswith('"'):
            self.send_xml_error(412, "PreconditionFailed",
                                "At least one of the pre-conditions you specified did not hold")
            return False
        etag = self.current_etag(path_only)
        if inm is not None:
            if inm.strip() != "*":
                self.send_xml_error(501, "NotImplemented", "only If-None-Match: * is supported")
                return False
            if etag is not None:
                self.send_xml_error(412, "PreconditionFailed",
                                    "At least one of the pre-conditions you specified did not hold")
                return False
        if im is not None:
            if etag is None:
                self.send_xml_error(404, "NoSuchKey", "The specified key does not exist.")
                return False
            if not etag_matches(im, etag):
                self.send_xml_error(412, "PreconditionFailed",
                                    "At least one of the pre-conditions you specified did not hold")
                return False
        if csim is not None:
            # s3rver ignores the copy source's condition; S3 checks it against
            # the source object, in either spelling
            source = self.headers.get("x-amz-copy-source", "").split("?", 1)[0]
            etag = self.current_etag("/" + source.lstrip("/"))
            if etag is None:
                self.send_xml_error(404, "NoSuchKey", "The specified key does not exist.")
                return False
            if not etag_matches(csim, etag):
                self.send_xml_error(412, "PreconditionFailed",
                                    "At least one of the pre-conditions you specified did not hold")
                return False
        return True

    def dispatch(self):
        started = time.time()
        try:
            self.handle_any()
            if TRACE_LOG:
                with LOG_LOCK:
                    with open(TRACE_LOG, "a", encoding="utf-8") as f:
                        f.write("%.3f %s %s %s %dms\n" % (started, self.command, self.path,
                                                          getattr(self, "_status", "?"),
                                                          (time.time() - started) * 1000))
        except Exception:  # never leave a client hanging without an answer
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self.send_xml_error(500, "InternalError", "proxy failure")
            except OSError:
                pass

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = dispatch


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global UPSTREAM_PORT, FAILURE_LOG, TRACE_LOG, KEYS_FILE, CONDITIONS
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--failure-log", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--trace")
    ap.add_argument("--keys-file")
    ap.add_argument("--conditions", choices=("s3", "ceph18", "none"), default="s3")
    args = ap.parse_args()
    KEYS_FILE = args.keys_file
    CONDITIONS = args.conditions
    UPSTREAM_PORT = args.upstream
    FAILURE_LOG = args.failure_log
    TRACE_LOG = args.trace
    srv = Server(("127.0.0.1", args.listen), Handler)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
