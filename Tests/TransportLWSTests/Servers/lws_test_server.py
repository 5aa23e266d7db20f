"""A WebSocket test peer for TransportLWS's tests (ws://, or wss:// with --cert/--key).

Prints "PORT <n>" once listening on 127.0.0.1 and exits when its stdin closes, so it never
outlives the test process. The path chooses the behaviour:
  /echo?id=X            echo every message; remember the client's close frame under X
  /headers              send the request headers as JSON, then echo
  /subprotocol          select the first offered of v2.json, v1.json (or none)
  /subprotocol-bogus    answer with a subprotocol the client did not offer
  /reject/<status>      refuse the upgrade with that HTTP status
  /hang                 never answer the upgrade
  /close/<code>/<text>  close at once with that code and reason
  /drop                 drop the TCP connection without a close frame
  /big/<n>              send one binary message of n bytes, then echo
  /fragmented           send one text message in three fragments, then echo
  /flood/<count>        send count text messages "0", "1", ..., then echo
  /stall?id=X           read nothing until /resume?id=X connects, then count (not echo) what arrives
  /resume?id=X          release /stall?id=X
  /report?id=X          send what was recorded under X as JSON, then close
"""
import asyncio
import json
import os
import ssl
import sys
import threading
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve

records = {}
releases = {}


def record(ident):
    return records.setdefault(ident, {"messages": 0, "bytes": 0, "close_code": None, "close_reason": None})


def release(ident):
    return releases.setdefault(ident, asyncio.Event())


async def echo(ws, rec, answer=True):
    async for message in ws:
        if rec is not None:
            rec["messages"] += 1
            rec["bytes"] += len(message)
        if answer:
            await ws.send(message)


def remember_close(ws, rec):
    received = ws.protocol.close_rcvd
    if rec is not None and received is not None:
        rec["close_code"] = received.code
        rec["close_reason"] = received.reason


async def handler(ws):
    url = urlsplit(ws.request.path)
    parts = [p for p in url.path.split("/") if p]
    ident = parse_qs(url.query).get("id", [None])[0]
    rec = record(ident) if ident else None
    kind = parts[0] if parts else "echo"
    try:
        if kind == "headers":
            await ws.send(json.dumps([[k, v] for k, v in ws.request.headers.raw_items()]))
        elif kind == "close":
            await ws.close(int(parts[1]), parts[2] if len(parts) > 2 else "")
            return
        elif kind == "drop":
            ws.transport.abort()
            return
        elif kind == "big":
            await ws.send(b"\xab" * int(parts[1]))
        elif kind == "fragmented":
            await ws.send(["fra", "gmen", "ted ✓"])
        elif kind == "flood":
            for i in range(int(parts[1])):
                await ws.send(str(i))
        elif kind == "stall":
            await release(ident).wait()
            await echo(ws, rec, answer=False)
            return
        elif kind == "resume":
            release(ident).set()
            rec = None
        elif kind == "report":
            await ws.send(json.dumps(records.get(ident)))
            await ws.close(1000, "report")
            return
        await echo(ws, rec)
    except Exception:
        pass
    finally:
        remember_close(ws, rec)


async def process_request(connection, request):
    path = urlsplit(request.path).path
    if path.startswith("/reject/"):
        return connection.respond(int(path.split("/")[2]), "rejected by the test server\n")
    if path == "/hang":
        await asyncio.sleep(3600)
    return None


def select_subprotocol(connection, offered):
    if connection.request.path.startswith("/subprotocol") and not connection.request.path.startswith(
        "/subprotocol-bogus"
    ):
        for candidate in ("v2.json", "v1.json"):
            if candidate in offered:
                return candidate
    return None


def process_response(connection, request, response):
    if request.path.startswith("/subprotocol-bogus"):
        response.headers["Sec-WebSocket-Protocol"] = "bogus"
    return response


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


async def main():
    context = None
    if "--cert" in sys.argv:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[sys.argv.index("--cert") + 1], sys.argv[sys.argv.index("--key") + 1])
    async with serve(
        handler,
        "127.0.0.1",
        0,
        ssl=context,
        process_request=process_request,
        process_response=process_response,
        select_subprotocol=select_subprotocol,
        max_size=None,
        max_queue=4,
        compression=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
asyncio.run(main())
