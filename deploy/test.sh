#!/usr/bin/env bash
# The test command: installs what is missing from Debian's packages, then runs every test.
# Tests that need ZooKeeper start their own throwaway server on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

# Test ZooKeeper servers are started with "muster-zk-" in their command line; kill any that a
# crashed test process left behind.
cleanup() { pkill -9 -f 'muster-zk-' 2>/dev/null || true; }
trap cleanup EXIT

swift test
