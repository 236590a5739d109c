"""A fault-injecting HTTP proxy on loopback, between trailproof and the emulator.

Each request is forwarded to UPSTREAM_PORT unless a fault is drawn (probability RATE, from a
random generator seeded with SEED, so a run can be repeated). A fault is one of KINDS, chosen
uniformly:

  slowdown   503 SlowDown (S3's XML error; a JSON ThrottlingException for JSON APIs)
  internal   500 InternalError
  reset      the connection is reset before any response
  truncate   the response's headers and only half its body, then the connection closes
  stall      nothing is sent for STALL seconds, then the connection closes
  stallbody  the headers and half the body, then nothing for STALL seconds, then a reset
  loop       the first page again, whatever page was asked for, with its page token always
             "loop" (S3 ListObjectsV2 XML: IsTruncated true; JSON APIs: NextToken), so a client
             that trusts it pages forever

Usage: python fault_proxy.py UPSTREAM_PORT RATE SEED COUNTS_FILE [KINDS] [STALL] [ONLY]
KINDS is a comma-separated list (default: all but loop). ONLY limits faults to requests whose request
line contains that text (e.g. "/CloudTrail/" for log-file GETs). Prints "READY <port>" and serves until stdin
closes. COUNTS_FILE gets {"requests": n, "faults": {kind: n}} after every request.
"""
import asyncio
import json
import re
import random
import socket
import struct
import sys

UPSTREAM = int(sys.argv[1])
RATE = float(sys.argv[2])
RNG = random.Random(int(sys.argv[3]))
COUNTS_FILE = sys.argv[4]
# The transient faults; "loop" is a broken server, not a transient fault, so it is only drawn when named.
ALL_KINDS = ["slowdown", "internal", "reset", "truncate", "stall", "stallbody"]
KINDS = sys.argv[5].split(",") if len(sys.argv) > 5 and sys.argv[5] else ALL_KINDS
STALL = float(sys.argv[6]) if len(sys.argv) > 6 else 30.0
ONLY = sys.argv[7].encode() if len(sys.argv) > 7 and sys.argv[7] else b""
counts = {"requests": 0, "faults": {k: 0 for k in KINDS}}


def save():
    with open(COUNTS_FILE, "w") as f:
        json.dump(counts, f)


async def read_message(reader):
    """One HTTP/1.1 request: head and Content-Length body (the SDKs send no chunked requests)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


def with_connection_close(head):
    lines = [l for l in head.rstrip(b"\r\n").split(b"\r\n") if not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


async def forward(head, body):
    """Sends the request upstream with Connection: close and returns the whole response."""
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    up_writer.write(with_connection_close(head) + body)
    await up_writer.drain()
    response = await up_reader.read()
    up_writer.close()
    return response


def error_response(status, reason, code, json_api):
    if json_api:
        body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
        ctype = b"application/x-amz-json-1.1"
    else:
        body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected {code}</Message></Error>".encode()
        ctype = b"application/xml"
    return (
        f"HTTP/1.1 {status} {reason}\r\n".encode()
        + b"Content-Type: " + ctype + b"\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )


def first_page(head):
    """The request without its S3 continuation token (the emulator knows no token "loop")."""
    line, rest = head.split(b"\r\n", 1)
    line = re.sub(rb"&continuation-token=[^&\s]*", b"", line)
    line = re.sub(rb"\?continuation-token=[^&\s]*&?", b"?", line)
    return line + b"\r\n" + rest


def endless_page(response):
    """The response with its page token replaced by "loop", and Content-Length to match."""
    split = response.find(b"\r\n\r\n")
    head, body = response[:split], response[split + 4 :]
    if body.lstrip().startswith(b"{"):
        doc = json.loads(body)
        doc["NextToken"] = "loop"
        body = json.dumps(doc).encode()
    else:
        body = re.sub(rb"<(IsTruncated|NextContinuationToken)>[^<]*</\1>", b"", body)
        body = body.replace(b"</ListBucketResult>", b"<IsTruncated>true</IsTruncated><NextContinuationToken>loop</NextContinuationToken></ListBucketResult>")
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-length:")]
    return b"\r\n".join(lines + [f"Content-Length: {len(body)}".encode()]) + b"\r\n\r\n" + body


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER 0: close() sends RST, as a crashed peer or middlebox would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def handle(reader, writer):
    try:
        head, body = await read_message(reader)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        writer.close()
        return
    counts["requests"] += 1
    eligible = ONLY in head.split(b"\r\n", 1)[0]
    kind = RNG.choice(KINDS) if eligible and RNG.random() < RATE else None
    if kind:
        counts["faults"][kind] += 1
    save()
    json_api = b"x-amz-target:" in head.lower()
    try:
        if kind == "slowdown":
            writer.write(error_response(503, "Slow Down", "ThrottlingException" if json_api else "SlowDown", json_api))
        elif kind == "internal":
            writer.write(error_response(500, "Internal Server Error", "InternalFailure" if json_api else "InternalError", json_api))
        elif kind == "reset":
            reset(writer)
            return
        elif kind == "stall":
            await asyncio.sleep(STALL)
            reset(writer)
            return
        else:
            response = await forward(first_page(head) if kind == "loop" else head, body)
            if kind in ("truncate", "stallbody"):
                split = response.find(b"\r\n\r\n") + 4
                body_len = len(response) - split
                # Headers intact (so Content-Length promises the whole body), half the body.
                writer.write(response[: split + body_len // 2])
                await writer.drain()
                if kind == "stallbody":
                    await asyncio.sleep(STALL)
                reset(writer)
                return
            writer.write(endless_page(response) if kind == "loop" else response)
        await writer.drain()
        writer.close()
    except (ConnectionError, OSError):
        writer.close()


async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(handle, sock=sock, limit=1 << 20)
    save()
    print(f"READY {sock.getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    async with server:
        await asyncio.wait([asyncio.ensure_future(server.serve_forever()), stdin_closed], return_when=asyncio.FIRST_COMPLETED)


asyncio.run(main())
