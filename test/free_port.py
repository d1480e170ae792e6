#!/usr/bin/python3
"""Print a loopback TCP port that is free now, below the ephemeral range.

A port found free by binding port 0 comes from the kernel's ephemeral range
(32768-60999), where an outgoing connection may take it before the server
we start gets to listen on it.  Ports 10000-32767 are never handed out for
outgoing connections, so a port free there stays free unless another test
server takes it; callers still retry when the listen fails.
"""
import random
import socket

for _ in range(200):
    port = random.randint(10000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("free_port: no free port in 10000-32767")
