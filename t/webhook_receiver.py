#!/usr/bin/env python3
"""A webhook receiver for the replication tests (t/005_replicator.pl).

Listens on 127.0.0.1 (a free port unless --port is given), writes the port
to --port-file once listening, and appends every accepted request to --log
as one JSON line: {"path", "headers", "body"}.  Control requests (not
logged):

  GET /_fail?n=N&status=S   refuse the next N deliveries with status S (500)
  GET /_count               number of deliveries accepted so far

Taking the receiver down is done by killing the process; restarting it with
--port on the same port brings it back.
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Lock()
state = {"fail": 0, "status": 500, "count": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/_fail":
            with lock:
                state["fail"] = int(q.get("n", ["1"])[0])
                state["status"] = int(q.get("status", ["500"])[0])
            self.reply(200, "ok")
        elif url.path == "/_count":
            with lock:
                self.reply(200, str(state["count"]))
        else:
            self.reply(404, "no")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            if state["fail"] > 0:
                state["fail"] -= 1
                self.reply(state["status"], "refused")
                return
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {"unparsable": body.decode("utf-8", "replace")}
            entry = {"path": self.path,
                     "headers": {k.lower(): v for k, v in self.headers.items()},
                     "body": parsed}
            with open(args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            state["count"] += 1
        self.reply(200, "ok")


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--port-file")
parser.add_argument("--log", required=True)
args = parser.parse_args()

ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
if args.port_file:
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
