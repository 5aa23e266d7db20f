#!/usr/bin/env python3
"""Loopback WebSocket peers for the transport conformance suite.

Started by the tests as a subprocess; prints one JSON line with its ports, e.g.
{"ws": 40001, "ws6": 40002, "raw": 40003}, and exits when its stdin closes (so it never
outlives the test process).

- "ws" / "ws6": a `websockets` (v15+) server on 127.0.0.1 / ::1, behaviours by URL path:
  /echo, /headers, /subprotocol, /close?code=&reason=, /reject?status=, /ping?payload=,
  /fragmented?count=, /send?size=&type=, /tls-session (over TLS: "resumed" or "full", how
  the connection's handshake went).
- "raw": a hand-written asyncio server for what `websockets` will not do: /never-answer,
  /wrong-subprotocol, /bad-accept, /drop, /mid-frame, /invalid-utf8, /oversized?size=&fragment=,
  /fragmented-with-ping, /ping-burst?count=, /no-status-close, /ignore-close,
  /invalid-close-code?code=, /record-close, and /report?of= which tells what the client sent on
  an earlier connection that carried the same ?id= (its close code and reason, its pongs);
  /hold-then-echo?id= reads nothing until a connection to /release?of=<id> comes, then echoes
  every frame as it came (a full socket for the client's outbound backpressure).
- "raw" also plays a hostile Phoenix server for the SDK at /hostile/<case>/websocket?id=
  (see `hostile_session`): it answers joins, heartbeats and pushes like Phoenix (JSON v2), and
  on the first connection of an id, right after the join reply, sends what <case> names.
- With `--tls-dir DIR` (the certificates of TLSTestCertificates: valid, wronghost, expired,
  selfsigned), TLS listeners too: "wss"/"wss6"/"raw_tls" are the three servers above behind
  TLS with the valid certificate ("raw_tls_close" a second "raw_tls"); "wss_<name>" (and
  "wss_<name>_other") an echo server with certificate <name>;
  "tls_bytewise"/"tls_random" relay to "wss" and write its TLS byte stream to the client one
  byte per write / in random chunk sizes; "tls_reset" relays to "wss" and resets TCP in the
  middle of the first TLS record of 4 KiB or more the server sends; "plain_http" answers any
  bytes with a plain HTTP 400; "silent" accepts and never writes.
"""
import asyncio
import base64
import contextlib
import hashlib
import json
import random
import socket
import ssl
import struct
import sys
import threading
from urllib.parse import parse_qs, urlsplit

try:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed
except ImportError as error:
    # Exit status 3 tells LoopbackTestServer (Swift) that this Python lacks the package.
    sys.stderr.write(f"the Python package `websockets` (15 or later) is missing: {error}\n")
    sys.exit(3)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
reports: dict[str, dict] = {}
releases: dict[str, asyncio.Event] = {}


def query_of(path: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(path).query, keep_blank_values=True).items()}


# ---- websockets behaviours ---------------------------------------------------------------

def process_request(connection, request):
    route = urlsplit(request.path).path
    if route == "/reject":
        status = int(query_of(request.path).get("status", "403"))
        return connection.respond(status, "rejected by the test server\n")
    return None


def select_subprotocol(connection, offered):
    return "chat.v1" if "chat.v1" in offered else None


async def websockets_handler(ws):
    try:
        await websockets_behaviour(ws)
    except ConnectionClosed:
        pass  # the client closed with a code other than 1000/1001, or dropped: expected in tests


async def websockets_behaviour(ws):
    route = urlsplit(ws.request.path).path
    query = query_of(ws.request.path)
    if route == "/echo":
        async for message in ws:
            await ws.send(message)
    elif route == "/headers":
        await ws.send(json.dumps({name.lower(): value for name, value in ws.request.headers.raw_items()}))
        await ws.wait_closed()
    elif route == "/tls-session":
        # Whether this connection's TLS handshake resumed a session ("resumed") or was full.
        ssl_object = ws.transport.get_extra_info("ssl_object")
        await ws.send("resumed" if ssl_object is not None and ssl_object.session_reused else "full")
        await ws.wait_closed()
    elif route == "/subprotocol":
        await ws.send(ws.subprotocol or "")
        await ws.wait_closed()
    elif route == "/close":
        await ws.close(int(query.get("code", "1000")), query.get("reason", ""))
    elif route == "/ping":
        pong = await ws.ping(query.get("payload", "").encode())
        await pong
        await ws.send("pong:" + query.get("payload", ""))
        await ws.wait_closed()
    elif route == "/fragmented":
        count = int(query.get("count", "3"))
        await ws.send([f"part{i}-" for i in range(count)])
        await ws.send([bytes([i]) * 10 for i in range(count)])
        await ws.wait_closed()
    elif route == "/send":
        size = int(query.get("size", "0"))
        if query.get("type", "binary") == "text":
            await ws.send("a" * size)
        else:
            await ws.send(bytes(size))
        await ws.wait_closed()
    else:
        await ws.close(1008, "unknown path " + route)


# ---- raw behaviours ----------------------------------------------------------------------

def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


async def read_frame(reader):
    first, second = await reader.readexactly(2)
    n = second & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(n)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data)), bool(second & 0x80)


async def read_frame_whole(reader):
    """One client frame: (opcode, unmasked payload, fin); unmasks with one big XOR."""
    first, second = await reader.readexactly(2)
    n = second & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(n)
    if n:
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        data = (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
    return first & 0x0F, data, bool(first & 0x80)


async def until_close(reader, report: dict):
    """Reads client frames until its close frame; records pongs and the close code/reason."""
    while True:
        opcode, payload, masked = await read_frame(reader)
        report.setdefault("masked", []).append(masked)
        if opcode == 0xA:
            report.setdefault("pongs", []).append(payload.decode("utf-8", "replace"))
        elif opcode == 0x8:
            report["close_code"] = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            report["close_reason"] = payload[2:].decode("utf-8", "replace")
            return payload


# ---- a hostile Phoenix server (JSON v2) for the SDK's reliability tests ------------------

# Sent on the first connection of an id, after the join reply. "In-band" cases leave the
# connection usable: a valid bot_reply follows them. The others must make the client close
# (1007 or 1009); the server then records the close and the bytes it had sent.
HOSTILE_IN_BAND = {
    "malformed-json": lambda topic, join_ref: [frame(0x1, b'["' + join_ref + b'",null,"' + topic + b'","bot_reply",{"ful')],
    "binary-past-end": lambda topic, join_ref: [frame(0x2, bytes.fromhex("0005050a3132"))],
    "unknown-event": lambda topic, join_ref: [push_frame(join_ref, topic, b"mystery_event", b'{"x":1}')],
    "unknown-ref": lambda topic, join_ref: [
        frame(0x1, b'["' + join_ref + b'","999","' + topic + b'","phx_reply",{"status":"ok","response":{}}]')
    ],
}
HOSTILE_CLOSING = {"invalid-utf8", "oversized", "announce-100mb", "stream-100mb"}
HUNDRED_MB = 100 * 1000 * 1000
connection_counts: dict[str, int] = {}
# Set when the first connection of a closing case has recorded how it ended: a reconnect can
# be served before that connection's handler has read the client's close frame.
first_connection_done: dict[str, asyncio.Event] = {}


def push_frame(join_ref: bytes, topic: bytes, event: bytes, payload: bytes) -> bytes:
    return frame(0x1, b'["' + join_ref + b'",null,"' + topic + b'","' + event + b'",' + payload + b"]")


def bot_text(join_ref: bytes, topic: bytes, text: str) -> bytes:
    body = {"fulfillment": {"actions": [{"type": "send_text_action", "alternatives": [text]}]}}
    return push_frame(join_ref, topic, b"bot_reply", json.dumps(body).encode())


async def hostile_stream(writer, closed: asyncio.Event, chunks, report: dict):
    """Writes the chunks until the client's close frame arrives, counting in report["sent"]
    the bytes handed to the socket (kept up to date: the client may reconnect before the
    write that fails returns)."""
    report["sent"] = 0
    for chunk in chunks:
        if closed.is_set():
            break
        report["sent"] += len(chunk)
        writer.write(chunk)
        await writer.drain()
        # drain() does not yield while the client keeps up: without this the reader task would
        # not run, and the close frame would go unseen for as long as the client reads fast.
        await asyncio.sleep(0)


def hostile_chunks(case: str):
    if case == "invalid-utf8":
        yield frame(0x1, b'["1",null,"t","bot_reply",{"text":"\xed\xa0\x80"}]')
    elif case == "oversized":  # one 100 KiB frame; the tests allow 64 KiB
        yield frame(0x1, b"a" * (100 << 10))
    elif case == "announce-100mb":  # a header announcing 100 MB, then its payload streamed
        yield bytes([0x82, 127]) + struct.pack("!Q", HUNDRED_MB)
        for _ in range(HUNDRED_MB // (256 << 10)):
            yield bytes(256 << 10)
    elif case == "stream-100mb":  # one 100 MB message in 256 KiB fragments
        count = HUNDRED_MB // (256 << 10)
        for index in range(count):
            yield frame(0x2 if index == 0 else 0x0, bytes(256 << 10), fin=index == count - 1)


async def hostile_session(reader, writer, case: str, query: dict):
    """One connection of the hostile Phoenix server."""
    key = query.get("id", "") + "/" + case
    connection_counts[key] = connection_counts.get(key, 0) + 1
    number = connection_counts[key]
    report = reports.setdefault(key, {})
    done = first_connection_done.setdefault(key, asyncio.Event())
    try:
        await hostile_connection(reader, writer, case, number, report, done)
    finally:
        if number == 1:
            done.set()


async def hostile_connection(reader, writer, case: str, number: int, report: dict, done: asyncio.Event):
    while True:
        opcode, payload, _ = await read_frame(reader)
        if opcode == 0x8:
            writer.write(frame(0x8, payload[:2]))
            await writer.drain()
            return
        if opcode != 0x1:
            continue
        join_ref, ref, topic, event, _ = json.loads(payload)
        reply = {"status": "ok", "response": {}}
        if event == "phx_join":
            reply["response"] = {"control": False}
        writer.write(frame(0x1, json.dumps([join_ref, ref, topic, "phx_reply", reply]).encode()))
        if topic == "phoenix":
            continue
        join_ref_bytes, topic_bytes = (join_ref or "").encode(), topic.encode()
        if event == "phx_join" and number == 1 and case in HOSTILE_IN_BAND:
            for chunk in HOSTILE_IN_BAND[case](topic_bytes, join_ref_bytes):
                writer.write(chunk)
            writer.write(bot_text(join_ref_bytes, topic_bytes, "after " + case))
        elif event == "phx_join" and number == 1 and case in HOSTILE_CLOSING:
            await writer.drain()
            closed = asyncio.Event()

            async def read_until_close():
                await until_close(reader, report)
                closed.set()

            reading = asyncio.create_task(read_until_close())
            try:
                await hostile_stream(writer, closed, hostile_chunks(case), report)
                await asyncio.wait_for(reading, timeout=30)
            finally:
                reading.cancel()
            if case != "announce-100mb":  # that one stops mid-frame: no room for a close frame
                writer.write(frame(0x8, struct.pack("!H", report.get("close_code") or 1000)))
            await writer.drain()
            return
        elif event == "phx_join":
            if case in HOSTILE_CLOSING:
                await asyncio.wait_for(done.wait(), timeout=30)
            status = {"connection": number, "last_close": report.get("close_code"), "sent": report.get("sent")}
            writer.write(bot_text(join_ref_bytes, topic_bytes, json.dumps(status)))
        else:
            writer.write(bot_text(join_ref_bytes, topic_bytes, json.dumps({"connection": number, "event": event})))
        await writer.drain()


async def raw_handler(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        route, query = urlsplit(path).path, query_of(path)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if route == "/never-answer":
            await reader.read()  # until the client gives up
            return
        accept = base64.b64encode(hashlib.sha1((headers.get("sec-websocket-key", "") + GUID).encode()).digest())
        if route == "/bad-accept":
            accept = base64.b64encode(b"not the right digest")
        answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        answer += f"Sec-WebSocket-Accept: {accept.decode()}\r\n"
        if route == "/wrong-subprotocol":
            answer += "Sec-WebSocket-Protocol: not-offered\r\n"
        writer.write((answer + "\r\n").encode())
        report = reports.setdefault(query.get("id", ""), {})
        if route.startswith("/hostile/"):
            await writer.drain()
            await hostile_session(reader, writer, route.split("/")[2], query)
        elif route == "/drop":
            await writer.drain()
        elif route == "/mid-frame":
            writer.write(bytes([0x82, 100]) + bytes(10))
            await writer.drain()
        elif route == "/invalid-utf8":
            # "κόσμε" then an encoded surrogate (ED A0 80): invalid UTF-8 (Autobahn 6.3.1).
            writer.write(frame(0x1, bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564")))
            await until_close(reader, report)
            writer.write(frame(0x8, struct.pack("!H", report["close_code"] or 1000)))
        elif route == "/oversized":
            size, fragment = int(query.get("size", "2048")), int(query.get("fragment", "0"))
            if fragment:
                for offset in range(0, size, fragment):
                    chunk = bytes(min(fragment, size - offset))
                    writer.write(frame(0x2 if offset == 0 else 0x0, chunk, fin=offset + fragment >= size))
            else:
                writer.write(frame(0x2, bytes(size)))
            await until_close(reader, report)
            writer.write(frame(0x8, struct.pack("!H", report["close_code"] or 1000)))
        elif route == "/fragmented-with-ping":
            text = "héllo wörld".encode()  # é is split between the first two fragments
            writer.write(frame(0x1, text[:2], fin=False))
            writer.write(frame(0x9, b"between"))
            writer.write(frame(0x0, text[2:7], fin=False))
            writer.write(frame(0x0, text[7:], fin=True))
            await until_close(reader, report)
            writer.write(frame(0x8, struct.pack("!H", 1000)))
        elif route == "/ping-burst":
            # `count` pings ("ping-0", ...) then a text frame in one write, so a client reads
            # them together, as in Autobahn 2.10; the report lists the pongs in arrival order.
            burst = b"".join(frame(0x9, f"ping-{i}".encode()) for i in range(int(query.get("count", "10"))))
            writer.write(burst + frame(0x1, b"burst sent"))
            await until_close(reader, report)
            writer.write(frame(0x8, struct.pack("!H", 1000)))
        elif route == "/no-status-close":
            writer.write(frame(0x8, b""))
            await until_close(reader, report)
        elif route == "/ignore-close":
            await until_close(reader, report)
            await reader.read()  # never answers; waits for the client to give up
        elif route == "/invalid-close-code":
            writer.write(frame(0x8, struct.pack("!H", int(query.get("code", "999")))))
            await until_close(reader, report)
        elif route == "/hold-then-echo":
            await writer.drain()
            await releases.setdefault(query.get("id", ""), asyncio.Event()).wait()
            releases.pop(query.get("id", ""), None)
            while True:
                opcode, payload, fin = await read_frame_whole(reader)
                if opcode == 0x8:
                    writer.write(frame(0x8, payload[:2]))
                    break
                if opcode in (0x0, 0x1, 0x2):
                    writer.write(frame(opcode, payload, fin=fin))
                    await writer.drain()
        elif route == "/release":
            releases.setdefault(query.get("of", ""), asyncio.Event()).set()
            writer.write(frame(0x1, b"released"))
            writer.write(frame(0x8, struct.pack("!H", 1000)))
            await until_close(reader, {})
        elif route == "/record-close":
            await until_close(reader, report)
            writer.write(frame(0x8, struct.pack("!H", 1000)))
        elif route == "/report":
            recorded = reports.get(query.get("of", ""), {})
            writer.write(frame(0x1, json.dumps(recorded).encode()))
            writer.write(frame(0x8, struct.pack("!H", 1000)))
            await until_close(reader, {})
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


# ---- TLS faults ---------------------------------------------------------------------------

def tls_context(directory: str, name: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/{name}.pem", f"{directory}/{name}.key")
    return context


async def pipe(reader, writer):
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def relay(client_reader, client_writer, upstream_port: int, mode: str):
    """Relays a client to the wss server; how it writes the server's bytes depends on `mode`."""
    client_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_writer.transport.set_write_buffer_limits(0)
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_writer.close()
        return
    upward = asyncio.ensure_future(pipe(client_reader, upstream_writer))
    chunks = random.Random(13)
    try:
        if mode == "reset":
            while True:
                header = await upstream_reader.readexactly(5)
                length = struct.unpack("!H", header[3:5])[0]
                body = await upstream_reader.readexactly(length)
                if header[0] == 23 and length >= 4096:
                    client_writer.write(header + body[: length // 2])
                    await client_writer.drain()
                    client_writer.get_extra_info("socket").setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client_writer.transport.abort()  # linger 0: an RST, mid-record
                    return
                client_writer.write(header + body)
                await client_writer.drain()
        while data := await upstream_reader.read(1 << 16):
            offset = 0
            while offset < len(data):
                size = 1 if mode == "bytewise" else chunks.randint(1, 2000)
                client_writer.write(data[offset: offset + size])
                await client_writer.drain()
                offset += size
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        upward.cancel()
        upstream_writer.close()
        client_writer.close()


async def plain_http(reader, writer):
    try:
        await reader.read(1)  # the ClientHello's first bytes
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def silent(reader, writer):
    try:
        await reader.read()  # until the client gives up
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start_tls_servers(directory: str, options: dict, stack) -> dict:
    valid = tls_context(directory, "valid")
    ports = {}
    wss = await stack.enter_async_context(serve(websockets_handler, "127.0.0.1", 0, ssl=valid, **options))
    ports["wss"] = wss.sockets[0].getsockname()[1]
    wss6 = await stack.enter_async_context(serve(websockets_handler, "::1", 0, ssl=valid, **options))
    ports["wss6"] = wss6.sockets[0].getsockname()[1]
    raw_tls = await asyncio.start_server(raw_handler, "127.0.0.1", 0, limit=1 << 16, ssl=valid)
    ports["raw_tls"] = raw_tls.sockets[0].getsockname()[1]
    raw_tls_close = await asyncio.start_server(raw_handler, "127.0.0.1", 0, limit=1 << 16, ssl=valid)
    ports["raw_tls_close"] = raw_tls_close.sockets[0].getsockname()[1]
    # Two listeners per certificate: a test that checks its own sockets are gone uses the first alone.
    for name in ["wronghost", "expired", "selfsigned", "valid"]:
        for suffix in ["", "_other"]:
            server = await stack.enter_async_context(
                serve(websockets_handler, "127.0.0.1", 0, ssl=tls_context(directory, name), **options))
            ports[f"wss_{name}{suffix}"] = server.sockets[0].getsockname()[1]
    for mode in ["bytewise", "random", "reset"]:
        server = await asyncio.start_server(
            lambda r, w, mode=mode: relay(r, w, ports["wss"], mode), "127.0.0.1", 0)
        ports[f"tls_{mode}"] = server.sockets[0].getsockname()[1]
    ports["plain_http"] = (await asyncio.start_server(plain_http, "127.0.0.1", 0)).sockets[0].getsockname()[1]
    ports["silent"] = (await asyncio.start_server(silent, "127.0.0.1", 0)).sockets[0].getsockname()[1]
    return ports


async def main():
    stop = asyncio.get_running_loop().create_future()

    def watch_stdin(loop):
        sys.stdin.read()  # EOF when the test process ends
        loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

    threading.Thread(target=watch_stdin, args=(asyncio.get_running_loop(),), daemon=True).start()
    options = dict(
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        max_size=32 * 1024 * 1024,
        max_queue=64,
        compression=None,
        ping_interval=None,
    )
    async with contextlib.AsyncExitStack() as stack:
        ws4 = await stack.enter_async_context(serve(websockets_handler, "127.0.0.1", 0, **options))
        ws6 = await stack.enter_async_context(serve(websockets_handler, "::1", 0, **options))
        raw = await asyncio.start_server(raw_handler, "127.0.0.1", 0, limit=1 << 16)
        ports = {
            "ws": ws4.sockets[0].getsockname()[1],
            "ws6": ws6.sockets[0].getsockname()[1],
            "raw": raw.sockets[0].getsockname()[1],
        }
        if "--tls-dir" in sys.argv:
            ports["tls"] = await start_tls_servers(sys.argv[sys.argv.index("--tls-dir") + 1], options, stack)
        print(json.dumps(ports), flush=True)
        await stop
        raw.close()


if __name__ == "__main__":
    asyncio.run(main())
