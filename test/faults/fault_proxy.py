#!/usr/bin/python3
"""
fault_proxy.py - an HTTP/1.1 proxy that injects faults between the FDW and
the S3 test server, so the tests can show what the FDW does when the store
misbehaves.

Requests are forwarded unchanged (method, path, query, headers, body: the
SigV4 signature stays valid) over a fresh upstream connection each (s3rver
loses PUT bodies on reused connections), and the answer is relayed back,
unless a rule says otherwise.  Rules are set through a control port:

  GET /rule?action=A&count=N[&method=RE][&path=RE][&seconds=S][&bytes=B]
      for the next N requests whose operation (GET, HEAD, PUT, DELETE, POST,
      or LIST for a GET of the bucket itself) fully matches method and
      whose percent-decoded path and query contains a match of path:
        500       answer 500 <Code>InternalError</Code> (not forwarded)
        slowdown  answer 503 <Code>SlowDown</Code> (not forwarded)
        reset     read the request, then reset the connection (not forwarded)
        stall     hold the request S seconds (default 30), then forward it;
                  a request whose client gave up meanwhile is dropped, and
                  /clear releases every held request at once
        truncate  forward, then send the headers with the real
                  Content-Length but only half of the body, and close
        trickle   forward, then send the body B bytes (default 4) every
                  100 ms
        lost      forward, then reset the connection instead of answering:
                  the request took effect but the client never hears so
      Answers {"id": RULE_ID}.  Rules are tried in the order they were set.
  GET /down?on=1|0   while on, every connection is reset as it arrives (and
                     every request on an open one)
  GET /clear         removes all rules, switches "down" off, releases stalls
  GET /stats         {"requests": {OP: n}, "faults": {ACTION: n},
                      "rules": [{"id", "action", "left", "fired"}], "down",
                      "max_concurrent": the most requests in progress at once}
  GET /reset-stats   zeroes the request and fault counters and max_concurrent

If the upstream cannot be reached the client's connection is reset, as if
the server were gone.

Usage: fault_proxy.py --upstream HOST:PORT [--listen PORT] [--control PORT]
                      [--port-file FILE] [--control-port-file FILE]
                      [--trace FILE]
"""

import argparse
import http.client
import http.server
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect",
}
ACTIONS = ("500", "slowdown", "reset", "stall", "truncate", "trickle", "lost")

UPSTREAM = ("127.0.0.1", 0)
TRACE = None

LOCK = threading.Lock()
RELEASE = threading.Condition(LOCK)   # notified by /clear: held requests go on
STATE = {
    "rules": [],
    "next_id": 1,
    "down": False,
    "generation": 0,                    # bumped by /clear
    "requests": {},
    "faults": {},
    "concurrent": 0,                    # requests in progress now
    "max_concurrent": 0,                # ... at most, since the last reset
}


class Rule:
    def __init__(self, rid, action, count, method, path, seconds, nbytes):
        self.id = rid
        self.action = action
        self.left = count
        self.fired = 0
        self.method = re.compile(method) if method else None
        self.path = re.compile(path) if path else None
        self.seconds = seconds
        self.bytes = nbytes

    def matches(self, op, path):
        if self.left <= 0:
            return False
        if self.method is not None and not self.method.fullmatch(op):
            return False
        if self.path is not None and not self.path.search(path):
            return False
        return True

    def as_json(self):
        return {"id": self.id, "action": self.action, "left": self.left, "fired": self.fired}


def operation(method, path):
    """GET, HEAD, ...; LIST for a GET of the bucket (no object key)."""
    p = urlsplit(path).path
    if method == "GET" and p.strip("/").count("/") == 0:
        return "LIST"
    return method


def take_rule(op, path):
    """Count the request and consume the first matching rule, if any."""
    with LOCK:
        STATE["requests"][op] = STATE["requests"].get(op, 0) + 1
        for r in STATE["rules"]:
            if r.matches(op, path):
                r.left -= 1
                r.fired += 1
                STATE["faults"][r.action] = STATE["faults"].get(r.action, 0) + 1
                return r
    return None


def hard_close(sock):
    """Close with an RST instead of a FIN: the peer sees a reset connection."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def peer_gone(sock):
    """True when the client closed its end (EOF or error while peeking)."""
    try:
        sock.setblocking(False)
        try:
            data = sock.recv(1, socket.MSG_PEEK)
            return data == b""
        except (BlockingIOError, InterruptedError):
            return False
        finally:
            sock.setblocking(True)
    except OSError:
        return True


class Reset(Exception):
    """Abort the current connection with an RST."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"

    def log_message(self, fmt, *args):
        pass

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

    def send_error_xml(self, status, code, message):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                '<Message>%s</Message><RequestId>fault-proxy</RequestId></Error>'
                % (code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def stall(self, seconds):
        """Hold the request; False when the client gave up meanwhile."""
        deadline = time.time() + seconds
        with LOCK:
            gen = STATE["generation"]
        while True:
            now = time.time()
            if now >= deadline:
                break
            with LOCK:
                if STATE["generation"] != gen:
                    break
                RELEASE.wait(min(0.05, deadline - now))
            if peer_gone(self.connection):
                return False
        return not peer_gone(self.connection)

    def forward(self, body):
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        if self.command not in ("GET", "HEAD", "DELETE") or body:
            headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(UPSTREAM[0], UPSTREAM[1], timeout=120)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read() if self.command != "HEAD" else b""
            resp_headers = resp.getheaders()
            return resp.status, resp.reason, resp_headers, data
        except (OSError, http.client.HTTPException):
            raise Reset()
        finally:
            conn.close()

    def relay(self, status, reason, headers, data, rule):
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        self.send_response_only(status, reason)
        declared = None
        for name, value in headers:
            ln = name.lower()
            if ln in HOP_BY_HOP or ln == "content-length":
                if ln == "content-length" and no_body:
                    declared = value
                continue
            self.send_header(name, value)
        if no_body:
            if declared is not None:
                self.send_header("Content-Length", declared)
            self.end_headers()
            self.wfile.flush()
            return
        action = rule.action if rule else None
        if action == "truncate":
            sent = data[:len(data) // 2]
            self.send_header("Content-Length", str(len(data) if data else 16))
            self.end_headers()
            self.wfile.write(sent)
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if action == "trickle":
            step = max(1, rule.bytes or 4)
            self.wfile.flush()
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                if i + step < len(data):
                    time.sleep(0.1)
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def dispatch(self):
        started = time.time()
        op = operation(self.command, self.path)
        status = "-"
        rule = None
        with LOCK:
            STATE["concurrent"] += 1
            STATE["max_concurrent"] = max(STATE["max_concurrent"], STATE["concurrent"])
        try:
            body = self.read_body()
            if STATE["down"]:
                with LOCK:
                    STATE["requests"][op] = STATE["requests"].get(op, 0) + 1
                    STATE["faults"]["down"] = STATE["faults"].get("down", 0) + 1
                raise Reset()
            rule = take_rule(op, unquote(self.path))
            action = rule.action if rule else None
            if action == "500":
                status = 500
                self.send_error_xml(500, "InternalError", "We encountered an internal error. Please try again.")
                return
            if action == "slowdown":
                status = 503
                self.send_error_xml(503, "SlowDown", "Please reduce your request rate.")
                return
            if action == "reset":
                raise Reset()
            if action == "stall":
                if not self.stall(rule.seconds if rule.seconds is not None else 30):
                    status = "dropped"
                    raise Reset()
            st, reason, headers, data = self.forward(body)
            status = st
            if action == "lost":
                status = "%s lost" % st
                raise Reset()
            self.relay(st, reason, headers, data, rule)
        except Reset:
            self.close_connection = True
            hard_close(self.connection)
            if status == "-":
                status = "reset"
        except OSError:
            self.close_connection = True
        finally:
            with LOCK:
                STATE["concurrent"] -= 1
            if TRACE:
                with LOCK:
                    with open(TRACE, "a", encoding="utf-8") as f:
                        f.write("%.3f %s %s %s%s %dms\n" % (
                            started, op, unquote(self.path), status,
                            " [%s]" % rule.action if rule else "",
                            (time.time() - started) * 1000))

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = dispatch


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def process_request(self, request, client_address):
        if STATE["down"]:
            with LOCK:
                STATE["faults"]["down"] = STATE["faults"].get("down", 0) + 1
            hard_close(request)
            return
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        pass


class Control(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = (json.dumps(obj, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        try:
            if u.path == "/rule":
                action = q.get("action", "")
                if action not in ACTIONS:
                    return self.reply(400, {"error": "action must be one of " + ", ".join(ACTIONS)})
                with LOCK:
                    rid = STATE["next_id"]
                    STATE["next_id"] += 1
                    STATE["rules"].append(Rule(
                        rid, action, int(q.get("count", "1")), q.get("method"), q.get("path"),
                        float(q["seconds"]) if "seconds" in q else None,
                        int(q["bytes"]) if "bytes" in q else None))
                return self.reply(200, {"id": rid})
            if u.path == "/down":
                with LOCK:
                    STATE["down"] = q.get("on", "1") not in ("0", "false", "off")
                return self.reply(200, {"down": STATE["down"]})
            if u.path == "/clear":
                with LOCK:
                    STATE["rules"] = []
                    STATE["down"] = False
                    STATE["generation"] += 1
                    RELEASE.notify_all()
                return self.reply(200, {"cleared": True})
            if u.path == "/stats":
                with LOCK:
                    return self.reply(200, {
                        "requests": dict(STATE["requests"]), "faults": dict(STATE["faults"]),
                        "rules": [r.as_json() for r in STATE["rules"]], "down": STATE["down"],
                        "max_concurrent": STATE["max_concurrent"]})
            if u.path == "/reset-stats":
                with LOCK:
                    STATE["requests"] = {}
                    STATE["faults"] = {}
                    STATE["max_concurrent"] = STATE["concurrent"]
                return self.reply(200, {"reset": True})
            return self.reply(404, {"error": "unknown endpoint"})
        except (ValueError, re.error) as e:
            return self.reply(400, {"error": str(e)})


def write_port(path, port):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(path + ".tmp", path)


def main():
    global UPSTREAM, TRACE
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the S3 server")
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--control", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--control-port-file")
    ap.add_argument("--trace")
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    UPSTREAM = (host or "127.0.0.1", int(port))
    TRACE = args.trace
    proxy = ProxyServer(("127.0.0.1", args.listen), Handler)
    control = http.server.ThreadingHTTPServer(("127.0.0.1", args.control), Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    write_port(args.control_port_file, control.server_address[1])
    write_port(args.port_file, proxy.server_address[1])
    print("fault proxy 127.0.0.1:%d -> %s:%d, control 127.0.0.1:%d" % (
        proxy.server_address[1], UPSTREAM[0], UPSTREAM[1], control.server_address[1]), flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
