#!/usr/bin/env bash
# The test command: installs what is missing from Debian's packages, then runs every test:
# the Swift tests (those that need ZooKeeper start their own throwaway server on a free loopback
# port), then the end-to-end test, which builds in release mode and runs a whole local cluster
# (ZooKeeper, chat servers with agents, a balancer) on free loopback ports; then a benchmark smoke
# run that fails if any load mode fails through the balancer.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

# Test ZooKeeper servers record their pid (and data folder) in MUSTER_TEST_PID_DIR while they run
# (Tests/TestSupport/ZooKeeperServer.swift); on exit, kill any that a crashed test process left
# behind: by pid, and only while that pid's command line still names the recorded data folder, so
# no other run's processes are touched.
export MUSTER_TEST_PID_DIR
MUSTER_TEST_PID_DIR=$(mktemp -d "${TMPDIR:-/tmp}/muster-test-pids.XXXXXX")
cleanup() {
  local file pid folder
  for file in "$MUSTER_TEST_PID_DIR"/zookeeper-*; do
    [ -f "$file" ] || continue
    pid=${file##*/zookeeper-}
    IFS= read -r folder <"$file" || true
    if [ -n "$folder" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$folder"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$MUSTER_TEST_PID_DIR"
}
trap cleanup EXIT

# Each step is bounded, so a hung test fails the run with a message instead of running into CI's
# limit (`timeout` signals the step's whole process group; the trap above kills stray ZooKeepers;
# stdin is /dev/null because a step outside the terminal's foreground group must not read it).
bounded() {
  local limit=$1; shift
  timeout -k 30 "$limit" "$@" </dev/null || {
    local status=$?
    if [ $status -eq 124 ] || [ $status -eq 137 ]; then
      echo "test.sh: '$*' did not finish within $limit s" >&2
    fi
    exit $status
  }
}

bounded 1800 swift test
# 1,100 generated malformed configs through `balancer check` (about a minute): exit 0, or 1 with
# FILE:LINE:COL; never a signal or a hang.
bounded 600 Fuzz/malformed-configs.py
# libFuzzer: replay the checked-in corpus, then fuzz each target (FUZZ_SECONDS, default 60 s each).
bounded 900 Fuzz/run.sh
bounded 900 Tests/e2e/cluster.sh
# A short benchmark smoke run (about 40 s): every chat-bench mode, direct and through the balancer.
bounded 900 bench/compare --quick

# Each step above stops the script on failure, so reaching here means all of them passed.
echo "test.sh: swift test, Fuzz/malformed-configs.py, Fuzz/run.sh, Tests/e2e/cluster.sh and bench/compare --quick all passed"
echo "steps: 5 passed, 0 failed"
