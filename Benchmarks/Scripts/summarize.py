#!/usr/bin/env python3
"""Reads the text output of `swift package benchmark` on stdin and prints, per benchmark, the
p50 wall-clock time (ns) and p50 malloc count, then the ratios of each benchmark to its anchor
(same name after the slash, other prefix). Used to write BENCHMARKS.md."""
import re
import sys

UNITS = {"ns": 1, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
results, name = {}, None
for line in sys.stdin:
    line = line.rstrip("\n")
    if re.match(r"^[a-z-]+/", line):
        name = line.strip()
        results[name] = {}
        continue
    if name is None or not line.startswith("│"):
        continue
    cells = [c.strip() for c in line.strip("│").split("│")]
    if len(cells) < 4:
        continue
    label, p50 = cells[0], cells[3]
    wall = re.match(r"Time \(wall clock\) \((\w+)\)", label)
    scale = 1000 if "(K)" in label else 1000000 if "(M)" in label else 1
    if wall:
        results[name]["ns"] = float(p50) * UNITS[wall.group(1)]
    elif label.startswith("Malloc (total)"):
        results[name]["mallocs"] = int(p50) * scale
    elif not label.startswith(("Throughput", "Metric")):
        # Suite 4's own metrics (RTT percentiles, messages/s, RSS per connection...): the median
        # of the iterations, with the table's (K)/(M) scale applied.
        metric = re.sub(r"\s*\((K|M|#)\)\s*\*?$", "", label)
        results[name].setdefault("custom", {})[metric] = int(p50) * scale
for name, r in results.items():
    if "custom" in r:
        extra = f"  mallocs {r['mallocs']}" if "mallocs" in r else ""
        print(f"{name:55s} " + "  ".join(f"{k} {v}" for k, v in r["custom"].items()) + extra)
    else:
        print(f"{name:55s} p50 {r.get('ns', 0):14.0f} ns  mallocs {r.get('mallocs', '?')}")
