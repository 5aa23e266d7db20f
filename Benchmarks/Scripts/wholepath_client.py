#!/usr/bin/env python3
"""The anchor of suite 5 (the whole path): a plain Python `websockets` client doing what the
SDK does against the sandbox, written the way a user would write it (asyncio, Phoenix v2 JSON
frames by hand, `json` to read the replies).

  wholepath_client.py PORT awaited COUNT WARMUP   -> {"samples": [ns...], "seconds": s}
  wholepath_client.py PORT inflight COUNT WINDOW  -> {"seconds": s}
  wholepath_client.py PORT connect COUNT          -> {"samples": [ns...]}

One JSON object on stdout; the Swift benchmark computes the same percentiles as for its own
clients. Every interlocutor_reply push gets a phx_reply, then the echo and the bot's reply
(the sandbox's bot): the reader takes all three, as a real client must.
"""
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

TOPIC = "interlocutor:bench-interlocutor"
JOIN_PAYLOAD = {"bot_id": "bench-bot", "socketToken": "bench-socket-token"}
PUSH_PAYLOAD = {
    "body": {"message": "hello", "type": "text"},
    "params": {"channel": "clustaar_web_chat", "debug": 0, "display": True},
    "token": "bench-token",
}


class Client:
    def __init__(self, socket):
        self.socket = socket
        self.ref = 0

    async def send(self, event, payload):
        self.ref += 1
        await self.socket.send(json.dumps(["1", str(self.ref), TOPIC, event, payload]))
        return str(self.ref)

    async def next_message(self):
        """The next server message as [join_ref, ref, topic, event, payload]."""
        return json.loads(await self.socket.recv())

    async def until_reply(self, ref):
        while True:
            message = await self.next_message()
            if message[3] == "phx_reply" and message[1] == ref:
                if message[4].get("status") != "ok":
                    raise RuntimeError(f"error reply: {message}")
                return

    async def join(self):
        await self.until_reply(await self.send("phx_join", JOIN_PAYLOAD))


def url(port):
    return f"ws://127.0.0.1:{port}/socket/websocket?vsn=2.0.0"


async def awaited(port, count, warmup):
    samples = []
    async with connect(url(port), compression=None) as socket:
        client = Client(socket)
        await client.join()
        for index in range(warmup + count):
            start = time.perf_counter_ns()
            await client.until_reply(await client.send("interlocutor_reply", PUSH_PAYLOAD))
            if index >= warmup:
                samples.append(time.perf_counter_ns() - start)
    return {"samples": samples, "seconds": sum(samples) / 1e9}


async def inflight(port, count, window):
    async with connect(url(port), compression=None) as socket:
        client = Client(socket)
        await client.join()
        for _ in range(100):  # warm-up, as the Swift clients do
            await client.until_reply(await client.send("interlocutor_reply", PUSH_PAYLOAD))
        start = time.perf_counter_ns()
        sent = acknowledged = 0
        while sent < min(window, count):
            await client.send("interlocutor_reply", PUSH_PAYLOAD)
            sent += 1
        while acknowledged < count:
            message = await client.next_message()
            if message[3] != "phx_reply":
                continue
            acknowledged += 1
            if sent < count:
                await client.send("interlocutor_reply", PUSH_PAYLOAD)
                sent += 1
        return {"seconds": (time.perf_counter_ns() - start) / 1e9}


async def first_bot_reply(port, count):
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        async with connect(url(port), compression=None) as socket:
            client = Client(socket)
            await client.join()
            await client.send("interlocutor_reply", PUSH_PAYLOAD)
            while (await client.next_message())[3] != "bot_reply":
                pass
            samples.append(time.perf_counter_ns() - start)
    return {"samples": samples}


def main():
    port, mode, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    if mode == "awaited":
        result = asyncio.run(awaited(port, count, int(sys.argv[4])))
    elif mode == "inflight":
        result = asyncio.run(inflight(port, count, int(sys.argv[4])))
    elif mode == "connect":
        result = asyncio.run(first_bot_reply(port, count))
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
