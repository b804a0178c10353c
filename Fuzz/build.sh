#!/usr/bin/env bash
# Builds the libFuzzer targets with the toolchain's -sanitize=fuzzer,address, straight from the
# main package's sources (the few files each target needs, compiled as one module), so the main
# `swift build` never needs the fuzzer runtime and is no slower. Output: Fuzz/.build/<target>.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=..
OUT=.build
mkdir -p "$OUT/src"

# The sources of one target, copied with their imports of this package's modules removed (one
# module here), so internal API (the tokenizer, the tree parser) is reachable.
stage() {
    local name=$1; shift
    local dir="$OUT/src/$name"
    rm -rf "$dir"; mkdir -p "$dir"
    for file in "$@"; do
        sed -E '/^import (MusterBase|Registry|ProxyEngine)$/d; /^@testable import/d' "$file" > "$dir/$(basename "$file")"
    done
    echo "$dir"
}

BASE=("$ROOT"/Sources/MusterBase/*.swift)
REGISTRY_RULES=("$ROOT/Sources/Registry/HostSyntax.swift" "$ROOT/Sources/Registry/HostPort.swift"
    "$ROOT/Sources/Registry/ServicePath.swift" "$ROOT/Sources/Registry/ZooKeeper/ZooKeeperConfiguration.swift")

# When the config code starts to use a type from elsewhere, add its file here (the build then fails
# with "cannot find type X in scope", naming it).
config=$(stage config "${BASE[@]}" "${REGISTRY_RULES[@]}" "$ROOT"/Sources/Balancer/Config/*.swift \
    "$ROOT/Sources/Balancer/Upstream/MemberID.swift" "$ROOT/Sources/Balancer/Upstream/FlapDamping.swift" Targets/FuzzConfig.swift)
record=$(stage member-record "${BASE[@]}" "$ROOT/Sources/Registry/HostSyntax.swift" \
    "$ROOT/Sources/Registry/MemberRecord.swift" "$ROOT/Sources/Registry/StrictJSON.swift" Targets/FuzzMemberRecord.swift)

FLAGS=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -g -O -module-name Fuzzed -use-ld=lld)
swiftc "${FLAGS[@]}" "$config"/*.swift -o "$OUT/fuzz-config"
swiftc "${FLAGS[@]}" "$record"/*.swift -o "$OUT/fuzz-member-record"
echo "built $OUT/fuzz-config $OUT/fuzz-member-record"
