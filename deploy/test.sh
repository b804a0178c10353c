#!/usr/bin/env bash
# The test command: installs what is missing from Debian's packages, then runs every test.
# Tests that need ZooKeeper start their own throwaway server on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

swift test
