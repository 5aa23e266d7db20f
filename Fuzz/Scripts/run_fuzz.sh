#!/bin/sh
# Runs each fuzz target for a bounded time and prints, per target: executions, corpus size and
# crashes. Exits non-zero when any target crashed (or broke an invariant).
#
# Usage: run_fuzz.sh SECONDS BUILD_DIR CORPUS_DIR ARTIFACTS_DIR TARGET...
# CORPUS_DIR/<target> grows across runs; CORPUS_DIR/seeds/<target> holds the generated seeds;
# a crashing input lands in ARTIFACTS_DIR/<target>/crash-<sha1> (replay it by passing the file to
# the target's binary). FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-jobs=2).
# FUZZ_TIMEOUT (seconds, default 120) is libFuzzer's per-input limit: wall-clock time, so it is
# generous; under `nice` on a busy machine a 1 ms input was seen to wait 11 s for the CPU.
set -u
seconds=$1 build=$2 corpus=$3 artifacts=$4
shift 4
# Swift's crash handler trips AddressSanitizer and buries the real report.
export SWIFT_BACKTRACE=enable=no
status=0
summary=""
for target in "$@"; do
    mkdir -p "$corpus/$target" "$artifacts/$target"
    seeds="$corpus/seeds/$target"
    [ -d "$seeds" ] || seeds=""
    log="$artifacts/$target/last-run.log"
    before=$(ls "$artifacts/$target" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
    echo "== $target: ${seconds}s"
    "$build/$target" "$corpus/$target" $seeds -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-120}" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$target/" ${FUZZ_ARGS:-} >"$log" 2>&1
    code=$?
    after=$(ls "$artifacts/$target" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    files=$(ls "$corpus/$target" | wc -l)
    crashes=$((after - before))
    if [ "$code" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=1
        grep -E 'ERROR|invariant broken|SUMMARY|Test unit written' "$log" | head -n 8
    fi
    line=$(printf '%-22s executions %10s  corpus %6s files  crashes %s  (exit %s)' \
        "$target" "${executions:-?}" "$files" "$crashes" "$code")
    echo "$line"
    summary="$summary$line
"
done
echo "== summary (${seconds}s per target)"
printf '%s' "$summary"
exit $status
