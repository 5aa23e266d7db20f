#!/usr/bin/env python3
"""Groups a profile by where the cost sits: reads `perf report --stdio --no-children --sort
dso,sym` (percentages) or `callgrind_annotate` output (instruction counts) on stdin and sums
the lines by Swift module (read from the mangled name: `$s11ClustaarSDK...` -> ClustaarSDK),
else by library, kernel apart. Used for the profile in BENCHMARKS.md (suite 5).

  perf report -i perf.data --stdio --no-children --sort dso,sym | python3 profile_modules.py
  callgrind_annotate --threshold=100 callgrind.out.N | python3 profile_modules.py
"""
import re
import sys
from collections import defaultdict


def swift_module(symbol):
    match = re.match(r"\$s(\d+)([A-Za-z_]\w*)", symbol)
    if not match:
        return None
    length = int(match.group(1))
    return match.group(2)[:length]


def group_of(dso, symbol):
    if symbol.startswith("[k]") or dso.startswith("[kernel"):
        return "kernel"
    symbol = symbol.replace("[.]", "").strip()
    module = swift_module(symbol)
    if module:
        return module
    if symbol.startswith("swift_task") or symbol.startswith("swift_job") or "swift::" in symbol:
        return "Swift runtime (" + dso + ")"
    return dso


totals = defaultdict(float)
grand = 0.0
for line in sys.stdin:
    perf = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+(\[.\]\s+.*)$", line)
    if perf:
        value, dso, symbol = float(perf.group(1)), perf.group(2), perf.group(3)
        totals[group_of(dso, symbol)] += value
        grand += value
        continue
    callgrind = re.match(r"^\s*([\d,]+)(?:\s+\([^)]*\))?\s+(?:\S+\.\w+|\?\?\?):(\S.*?)(?:\s+\[(.*)\])?$", line)
    if callgrind:
        value = float(callgrind.group(1).replace(",", ""))
        symbol, dso = callgrind.group(2), callgrind.group(3) or "?"
        totals[group_of(dso.split("/")[-1], symbol)] += value
        grand += value
for name, value in sorted(totals.items(), key=lambda item: -item[1]):
    share = 100 * value / grand if grand else 0
    print(f"{share:6.2f}%  {value:16.2f}  {name}")
