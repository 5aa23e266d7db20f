#!/usr/bin/env python3
"""Seed corpora of the fuzz targets, generated from the shared fixtures (never committed).

Usage: make_corpora.py SHARED_DIR OUT_DIR
Writes OUT_DIR/<Target>/seed-<name> files. Sources: the Phoenix wire transcripts
(fixtures/phoenix/*.jsonl and index.json), the Clustaar payload fixtures (fixtures/clustaar),
and the v2 binary frame test vectors of PHOENIX-PROTOCOL.md. Each file's layout matches what its
target reads (configuration bytes first, see the target's main.swift).
"""
import hashlib
import json
import os
import re
import struct
import sys

SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's, for the key the handshake target uses
OPCODES = {"text": 0x1, "binary": 0x2, "close": 0x8}
# Index of 1 MiB in the frame target's limit table, for both the frame and the message limit.
LIMIT_1MIB = 9
# Larger seeds slow every run down and teach nothing the small ones do not.
MAX_SEED = 16 << 10


def frame(opcode, payload, fin=True):
    """A server (unmasked) WebSocket frame."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        header = bytes([first, n])
    elif n <= 0xFFFF:
        header = bytes([first, 126]) + struct.pack(">H", n)
    else:
        header = bytes([first, 127]) + struct.pack(">Q", n)
    return header + payload


def transcripts(shared):
    directory = os.path.join(shared, "fixtures", "phoenix")
    index = {entry["name"]: entry for entry in json.load(open(os.path.join(directory, "index.json")))}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".jsonl"):
            continue
        lines = [json.loads(line) for line in open(os.path.join(directory, name)) if line.strip()]
        yield name[:-6], index.get(name[:-6], {}), lines


def payload_bytes(line):
    if line["opcode"] == "binary":
        return bytes.fromhex(line["data"])
    if line["opcode"] == "close":
        code = line.get("close_code")
        return (struct.pack(">H", code) if code else b"") + line["data"].encode()
    return line["data"].encode()


def main():
    shared, out = sys.argv[1], sys.argv[2]
    seeds = {}

    def add(target, data):
        if len(data) > MAX_SEED:
            return
        seeds.setdefault(target, set()).add(bytes(data))

    for name, entry, lines in transcripts(shared):
        vsn1 = "vsn=1.0.0" in entry.get("url", "")
        inbound = [line for line in lines if line["dir"] == "in"]
        stream = b"".join(frame(OPCODES[line["opcode"]], payload_bytes(line)) for line in inbound)
        add("FuzzFrameDecoder", bytes([LIMIT_1MIB, LIMIT_1MIB, 0]) + stream)
        add("FuzzFrameDecoder", bytes([LIMIT_1MIB, 4, 3, 1, 7, 2]) + stream)
        operations = b""
        for line in lines:
            data = payload_bytes(line)
            if line["opcode"] == "close":
                continue
            if line["dir"] == "in" and len(data) <= 0xFFFF:
                operations += bytes([0 if line["opcode"] == "text" else 1]) + struct.pack(">H", len(data)) + data
                if line["opcode"] == "text":
                    (add("FuzzPhoenixJSONv1", data) if vsn1 else add("FuzzPhoenixJSONv2", data))
                else:
                    add("FuzzPhoenixV2Binary", data)
            elif line["dir"] == "out" and line["opcode"] == "binary":
                add("FuzzPhoenixV2Binary", data)
            operations += bytes([2, 0])  # time to the next deadline
        if not vsn1:
            add("FuzzSocketMachine", operations)
        headers = entry.get("handshake_headers", {})
        if headers:
            head = "HTTP/1.1 %d Switching Protocols\r\n" % entry.get("handshake_status", 101)
            for key, value in headers.items():
                if key == "sec-websocket-accept":
                    value = SAMPLE_ACCEPT
                head += "%s: %s\r\n" % (key, value)
            add("FuzzHandshakeResponse", b"\x00" + (head + "\r\n").encode() + stream[:64])

    add("FuzzHandshakeResponse", b"\x05\x03\x01\x09" + (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: phoenix\r\n\r\n" % SAMPLE_ACCEPT).encode())
    add("FuzzHandshakeResponse", b"\x00HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")

    # The v2 binary frame vectors of PHOENIX-PROTOCOL.md (hex after a colon, in backquotes).
    protocol = open(os.path.join(shared, "PHOENIX-PROTOCOL.md")).read()
    for vector in re.findall(r"`((?:[0-9a-f]{2} )+[0-9a-f]{2})`", protocol):
        add("FuzzPhoenixV2Binary", bytes.fromhex(vector.replace(" ", "")))

    selectors = [("bot_reply", 0), ("agent_reply", 1), ("interlocutor_reply", 2), ("control", 3), ("join_reply", 4)]
    clustaar = os.path.join(shared, "fixtures", "clustaar")
    for folder in (clustaar, os.path.join(clustaar, "invalid")):
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not name.endswith(".json") or not os.path.isfile(path):
                continue
            selector = next((value for prefix, value in selectors if name.startswith(prefix)), None)
            if selector is not None:
                add("FuzzBotReply", bytes([selector]) + open(path, "rb").read())

    for target, datas in sorted(seeds.items()):
        directory = os.path.join(out, target)
        os.makedirs(directory, exist_ok=True)
        for data in datas:
            with open(os.path.join(directory, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as handle:
                handle.write(data)
        print("%-22s %3d seeds" % (target, len(datas)))


if __name__ == "__main__":
    main()
