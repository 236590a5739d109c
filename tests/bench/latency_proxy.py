"""A loopback TCP proxy that imitates real S3 round trips: each chunk the client sends (an HTTP
request, in practice) is held for DELAY_MS before it is forwarded. It also counts requests by
their first line, so the benchmark can show how many listings a run made.

Usage: python latency_proxy.py UPSTREAM_PORT DELAY_MS COUNTS_FILE
Prints "READY <port>"; writes the running totals {"requests": n, "list_requests": n} to
COUNTS_FILE on every request.
"""
import asyncio
import json
import socket
import sys

UPSTREAM = int(sys.argv[1])
DELAY = int(sys.argv[2]) / 1000.0
COUNTS_FILE = sys.argv[3]
counts = {"requests": 0, "list_requests": 0}


def count(chunk: bytes):
    first = chunk.split(b"\r\n", 1)[0]
    if first[:4] in (b"GET ", b"PUT ", b"HEAD", b"POST", b"DELE"):
        counts["requests"] += 1
        # ListObjects(V2) is a GET on the bucket with a list-type or prefix query.
        if first.startswith(b"GET ") and (b"list-type=2" in first or b"prefix=" in first):
            counts["list_requests"] += 1
        with open(COUNTS_FILE, "w") as f:
            json.dump(counts, f)



async def pipe(reader, writer, delay):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if delay:
                count(chunk)
                await asyncio.sleep(delay)
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, up_writer, DELAY), pipe(up_reader, client_writer, 0))


async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(handle, sock=sock)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
