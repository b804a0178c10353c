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
        sed -E '/^import (MusterBase|Registry|ProxyEngine|ProxyProtocolCodec)$/d; /^@testable import/d' "$file" > "$dir/$(basename "$file")"
    done
    echo "$dir"
}

BASE=("$ROOT"/Sources/MusterBase/*.swift)
REGISTRY_RULES=("$ROOT/Sources/Registry/ZooKeeper/ZooKeeperConfiguration.swift")

config=$(stage config "${BASE[@]}" "${REGISTRY_RULES[@]}" "$ROOT"/Sources/Balancer/Config/*.swift \
    "$ROOT"/Sources/Balancer/Upstream/Balancing/*.swift \
    "$ROOT/Sources/Balancer/Upstream/MemberID.swift" Targets/FuzzConfig.swift)
record=$(stage member-record "${BASE[@]}" \
    "$ROOT/Sources/Registry/MemberRecord.swift" "$ROOT/Sources/Registry/StrictJSON.swift" Targets/FuzzMemberRecord.swift)
proxy=$(stage proxy-protocol "$ROOT"/Sources/ProxyProtocolCodec/*.swift Targets/FuzzProxyProtocol.swift)

FLAGS=(-sanitize=fuzzer,address -parse-as-library -swift-version 6 -g -O -module-name Fuzzed -package-name Muster -use-ld=lld)

# ProxyEngine's C shim, for the engine types the config reaches (addresses, the session record that
# the log variables read): its header as a module and its one C file as an object in every target.
CMOD="$OUT/cmodule"
mkdir -p "$CMOD"
printf 'module CProxyEngine {\n    header "%s/CProxyEngine.h"\n    export *\n}\n' \
    "$(cd "$ROOT/Sources/CProxyEngine/include" && pwd)" >"$CMOD/module.modulemap"
clang -c -O1 -g -I "$ROOT/Sources/CProxyEngine/include" "$ROOT/Sources/CProxyEngine/shim.c" -o "$OUT/cproxyengine.o"
FLAGS+=(-I "$CMOD" "$OUT/cproxyengine.o")

# Compiles one target. When the code starts to use a type defined in a file not listed above, the
# compiler names it ("cannot find type 'X' in scope"): that file is found in Sources/, staged, and
# the build retried (up to 12 rounds: the config reaches the balancing algorithms and the member
# types they pick over), so other developers' new config types need no edit here.
build() {
    local name=$1 dir=$2 output=$3
    for round in $(seq 1 12); do
        if swiftc "${FLAGS[@]}" "$dir"/*.swift -o "$output" >"$OUT/$name.log" 2>&1; then return 0; fi
        local missing added=0
        missing=$(sed -nE "s/.*cannot find (type )?'([A-Za-z0-9_]+)' in scope.*/\2/p" "$OUT/$name.log" | sort -u)
        for type in $missing; do
            local file
            file=$(grep -rlE "^(public |internal |package )?(final )?(struct|enum|class|protocol|actor) $type\b" "$ROOT/Sources" | head -1)
            if [ -n "$file" ] && [ ! -e "$dir/$(basename "$file")" ]; then
                sed -E '/^import (MusterBase|Registry|ProxyEngine|ProxyProtocolCodec)$/d' "$file" > "$dir/$(basename "$file")"
                added=1
            fi
        done
        [ $added -eq 1 ] || break
    done
    cat "$OUT/$name.log" >&2
    echo "Fuzz/build.sh: $name does not build" >&2
    return 1
}

build config "$config" "$OUT/fuzz-config"
build member-record "$record" "$OUT/fuzz-member-record"
build proxy-protocol "$proxy" "$OUT/fuzz-proxy-protocol"
echo "built $OUT/fuzz-config $OUT/fuzz-member-record $OUT/fuzz-proxy-protocol"
