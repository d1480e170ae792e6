#!/usr/bin/python3
"""
selftest.py URL FAILURE_LOG - checks the signature-checking proxy: a good
signature passes, a wrong secret, a tampered body and a changed header are
rejected (403) and logged, If-None-Match/If-Match are enforced, keep-alive
and chunked uploads work, listing and delete work.  TAP output.
"""
import hashlib
import http.client
import sys
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

url = urlsplit(sys.argv[1])
faillog = sys.argv[2]
host = "%s:%d" % (url.hostname, url.port)
bucket = url.path.strip("/")
n = 0
failed = 0


def ok(cond, name):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))


def log_lines():
    with open(faillog) as f:
        return [l for l in f.read().splitlines() if l]


conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def request(method, key, body=b"", headers=None, secret="S3RVER", query="",
            tamper=None, chunked=False):
    path = "/%s/%s" % (bucket, key) if key is not None else "/%s" % bucket
    full = "http://%s%s%s" % (host, path, ("?" + query) if query else "")
    h = {"Host": host}
    h.update(headers or {})
    req = AWSRequest(method=method, url=full, data=body, headers=h)
    S3SigV4Auth(Credentials("S3RVER", secret), "s3", "us-east-1").add_auth(req)
    hdrs = dict(req.headers.items())
    if tamper:
        tamper(hdrs)
    sendbody = body
    if tamper and "body" in hdrs:
        sendbody = hdrs.pop("body")
    conn.putrequest(method, path + (("?" + query) if query else ""),
                    skip_host=True, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    if chunked:
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(sendbody), 7):
            piece = sendbody[i:i + 7]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    else:
        if method in ("PUT", "POST") or sendbody:
            conn.putheader("Content-Length", str(len(sendbody)))
        conn.endheaders(sendbody if sendbody else None)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data


key = "resource=t/data/id=caf\u00e9 x"
qkey = "resource%3Dt/data/id%3Dcaf%C3%A9%20x"

st, h, _ = request("PUT", qkey, b"hello", {"x-amz-meta-0": "u:caf%C3%A9", "Content-Type": "text/plain"})
ok(st == 200, "signed PUT passes (%d)" % st)
etag = h.get("etag", "").strip('"')
ok(etag == hashlib.md5(b"hello").hexdigest(), "PUT returns the MD5 ETag")
st, h, data = request("GET", qkey)
ok(st == 200 and data == b"hello", "GET returns the body")
ok(h.get("x-amz-meta-0") == "u:caf%C3%A9", "metadata is relayed")
st, h, data = request("HEAD", qkey)
ok(st == 200 and data == b"" and h.get("content-length") == "5", "HEAD relays Content-Length without a body")
st, h, data = request("GET", qkey, headers={"Range": "bytes=1-3"})
ok(st == 206 and data == b"ell", "Range GET (%d %r)" % (st, data))
ok(log_lines() == [], "no failures logged so far")

st, _, data = request("GET", qkey, secret="wrong")
ok(st == 403 and b"SignatureDoesNotMatch" in data, "wrong secret rejected (%d)" % st)
ok(len(log_lines()) == 1, "wrong secret logged")

def tamper_body(h):
    h["body"] = b"HELLO"
st, _, _ = request("PUT", qkey, b"hello", tamper=tamper_body)
ok(st == 403, "body not matching x-amz-content-sha256 rejected")
ok(len(log_lines()) == 2, "tampered body logged")

def tamper_meta(h):
    h["x-amz-meta-0"] = "other"
st, _, _ = request("PUT", qkey, b"hello", {"x-amz-meta-0": "one"}, tamper=tamper_meta)
ok(st == 403, "changed signed header rejected")
def add_unsigned(h):
    h["x-amz-meta-extra"] = "sneaky"
st, _, _ = request("PUT", qkey, b"hello", tamper=add_unsigned)
ok(st == 403, "unsigned x-amz-meta header rejected")
st, _, data = request("GET", qkey)
ok(data == b"hello", "rejected writes changed nothing")
ok(len(log_lines()) == 4, "all rejections logged")

st, _, data = request("PUT", qkey, b"again", {"If-None-Match": "*"})
ok(st == 412 and b"PreconditionFailed" in data, "If-None-Match: * on an existing key -> 412 (%d)" % st)
st, _, _ = request("PUT", "resource%3Dt/data/id%3Dnew", b"", {"If-None-Match": "*"})
ok(st == 200, "If-None-Match: * on a new key -> 200")
st, _, _ = request("PUT", "resource%3Dt/data/id%3Dnew", b"", {"If-None-Match": "*"})
ok(st == 412, "second If-None-Match: * PUT -> 412")
st, _, _ = request("PUT", qkey, b"v2", {"If-Match": '"0123"'})
ok(st == 412, "If-Match with a stale ETag -> 412")
st, h, _ = request("PUT", qkey, b"v2", {"If-Match": '"%s"' % etag})
ok(st == 200, "If-Match with the current ETag -> 200")
st, _, _ = request("PUT", "resource%3Dt/data/id%3Dmissing", b"x", {"If-Match": '"%s"' % etag})
ok(st == 404, "If-Match on a missing key -> 404")
st, _, _ = request("PUT", "resource%3Dt/data/id%3Dnew", b"",
                   {"If-Match": '"0123"', "x-amz-copy-source": bucket + "/resource=t/data/id=new",
                    "x-amz-metadata-directive": "REPLACE"})
ok(st == 412, "CopyObject with a stale If-Match -> 412")
st, _, data = request("PUT", "resource%3Dt/data/id%3Dnew", b"",
                      {"x-amz-copy-source": bucket + "/resource=t/data/id=new",
                       "x-amz-metadata-directive": "REPLACE", "x-amz-meta-1": "copied"})
ok(st == 200 and b"CopyObjectResult" in data, "CopyObject passes")

body = b"chunked body " * 20
st, _, _ = request("PUT", "resource%3Dt/data/id%3Dchunk", body, chunked=True)
ok(st == 200, "chunked upload passes (%d)" % st)
st, _, data = request("GET", "resource%3Dt/data/id%3Dchunk")
ok(data == body, "chunked upload stored intact")

st, _, data = request("GET", None, query="list-type=2&prefix=resource%3Dt%2Fdata")
ok(st == 200 and data.count(b"<Key>") == 3, "ListObjectsV2 with prefix lists 3 keys")
ok(("<Key>%s</Key>" % key).encode() in data, "listed key is raw UTF-8")
st, _, data = request("GET", None, query="list-type=2&max-keys=1&prefix=resource%3Dt%2F")
ok(st == 200 and b"<IsTruncated>true</IsTruncated>" in data, "truncated listing works")

st, _, _ = request("DELETE", "resource%3Dt/data/id%3Dchunk")
ok(st == 204, "DELETE -> 204")
st, _, _ = request("HEAD", "resource%3Dt/data/id%3Dchunk")
ok(st == 404, "deleted object is gone")
ok(len(log_lines()) == 4, "no further failures logged")
print("1..%d" % n)
sys.exit(1 if failed else 0)
