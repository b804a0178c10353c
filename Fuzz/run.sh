#!/usr/bin/env bash
# Builds the fuzz targets, replays each one's whole checked-in corpus (Fuzz/Corpus/<target>), then
# fuzzes each for a bounded time. Fails on any crash, sanitizer report or timeout; a crashing input
# is saved as Fuzz/.build/crash-<target>-* (copy it into Fuzz/Corpus/<target>/ with the fix).
#
#   FUZZ_SECONDS   seconds of fuzzing per target (default 60; 0 = replay only)
#   FUZZ_TARGETS   which targets (default: "config member-record proxy-protocol")
# Prints one line per target: executions and time (libFuzzer's stat::number_of_executed_units).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-config member-record proxy-protocol}

./build.sh >/dev/null
# libFuzzer and ASan report crashes themselves; the Swift runtime's backtracer would only get in the way.
export SWIFT_BACKTRACE=enable=no
status=0
for target in $TARGETS; do
    binary=.build/fuzz-$target
    corpus=Corpus/$target
    work=.build/work-$target
    rm -rf "$work"; mkdir -p "$work"
    # Replay: every checked-in input once (crash inputs found earlier must stay fixed).
    if ! "$binary" -runs=0 -timeout=10 -rss_limit_mb=2048 "$corpus" >"$work/replay.log" 2>&1; then
        echo "fuzz $target: corpus replay FAILED"; tail -40 "$work/replay.log"; status=1; continue
    fi
    if [ "$SECONDS_PER_TARGET" -eq 0 ]; then
        echo "fuzz $target: corpus replayed ($(ls "$corpus" | wc -l) inputs)"; continue
    fi
    # Fuzz: new inputs go to the scratch directory; the checked-in corpus only seeds it.
    started=$(date +%s)
    if ! "$binary" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix=".build/crash-$target-" "$work" "$corpus" >"$work/fuzz.log" 2>&1; then
        echo "fuzz $target: CRASH"; grep -E "ERROR|Fatal|panic|precondition|SUMMARY|Test unit written" "$work/fuzz.log" | head -20
        status=1; continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
    echo "fuzz $target: ${runs:-?} executions in $(( $(date +%s) - started )) s, no crash (corpus $(ls "$corpus" | wc -l) inputs + $(ls "$work" | grep -vc '\.log$') found)"
done
exit $status
