#!/usr/bin/env python3
"""Puts each sample of a `perf record -g` profile of the WholePath driver in the first group its
call stack passes through (the order below), counting only the client's threads (the task pool
and the transport's I/O thread, which inherit the pool's thread name; the sandbox runs on
NIO-* threads). Used for the profile of suite 5 in BENCHMARKS.md.

  perf script -i perf.data -F comm,ip,sym | python3 profile_groups.py PUSHES
prints samples per push for each group (for a malloc uprobe profile: mallocs per push; for a
CPU profile at F Hz: divide by F for seconds per push). Run it on a profile of 0 pushes too
and subtract: that is the set-up.
"""
import collections
import sys

GROUPS = [
    ("typed decoding of pushes (ChannelSink.deliver)", ["ChannelSinkC7deliver"]),
    ("join/connect", ["0A10SocketCoreC4join_", "0A10SocketCoreC7connect", "0A6SocketC7connect"]),
    ("encoding the push payload (ClustaarJSON.encode: JSONTextWriter or JSONEncoder)",
     ["0A4JSONO6encode", "JSONEncoder", "JSONWriter", "14JSONTextWriter", "handWrittenJSON"]),
    ("JSONDecoder elsewhere (the reply's JSONValue when not {})", ["JSONDecoder"]),
    ("per-push timer (rearmTimer, timerFired, Task.sleep)",
     ["0A10SocketCoreC10rearmTimer", "0A10SocketCoreC10timerFired", "_sleep5until",
      "DispatchGlobalTaskExecutorC7enqueue_2at"]),
    ("Phoenix machine + serializer (PhoenixProtocol)", ["$s15PhoenixProtocol"]),
    ("actor plumbing (PhoenixSocketCore, PhoenixChannel, outlets, InterlocutorChannel)",
     ["$s13PhoenixClient", "$s11ClustaarSDK"]),
    ("transport (TransportPOSIX/Core/LWS)", ["$s14TransportPOSIX", "$s13TransportCore", "$s12TransportLWS"]),
    ("tasks, continuations", ["swift_task", "swift_continuation", "swift_job"]),
    ("benchmark driver", ["9WholePath"]),
    ("kernel: futex, scheduling (thread hand-offs)", ["futex", "schedule", "finish_task_switch", "try_to_wake_up"]),
    ("kernel: socket I/O, poll, epoll", ["sys_write", "sys_read", "sys_poll", "epoll", "tcp_", "sock_", "sys_recvfrom",
                                         "sys_sendto", "sys_writev", "do_sys_poll", "ksys_"]),
    ("libdispatch worker plumbing", ["_dispatch"]),
]
CLIENT_THREADS = ("oot.default-qos", "-qos.overcommit")


def main():
    pushes = max(1, int(sys.argv[1])) if len(sys.argv) > 1 else 1
    counts = collections.Counter()
    total = 0
    frames, client = [], False

    def flush():
        nonlocal total
        if not client or not frames:
            return
        total += 1
        stack = "\n".join(frames)
        for name, keys in GROUPS:
            if any(key in stack for key in keys):
                counts[name] += 1
                return
        counts["other"] += 1

    for line in sys.stdin:
        if not line.strip():
            flush()
            frames, client = [], False
        elif not line.startswith((" ", "\t")):
            client = line.startswith(CLIENT_THREADS)
        else:
            frames.append(line.strip())
    flush()
    for name, count in counts.most_common():
        print(f"{count / pushes:9.2f} per push  {name}")
    print(f"{total / pushes:9.2f} per push  the client's threads in all")


if __name__ == "__main__":
    main()
