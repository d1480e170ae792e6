#!/usr/bin/python3
"""
tls_relay.py - terminates TLS on 127.0.0.1 and relays the plain bytes to an
upstream port, so the S3 test server can be reached over https.

Usage: tls_relay.py --cert FILE --key FILE --upstream PORT --port-file FILE

Listens on a free loopback port (written to --port-file once listening);
each accepted connection gets its TLS handshake, then both directions are
copied until either side closes.  A failed handshake (a client that
rejected the certificate) closes that connection; the relay goes on.
"""

import argparse
import asyncio
import os
import ssl


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    async def handle(creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", args.upstream)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pump(creader, uwriter), pump(ureader, cwriter))

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
        port = server.sockets[0].getsockname()[1]
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
