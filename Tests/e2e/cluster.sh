#!/usr/bin/env bash
# End-to-end test of a whole local cluster, with the real binaries, through deploy/demo.sh.
#
# It runs beside a developer's own demo: its own run folder (a temp dir) and free ports, handed to
# demo.sh through its MUSTER_* environment overrides. Every wait has a deadline; sleeps only pace
# polling. Prints "N passed, N failed" and exits non-zero if anything failed.
#
#   Tests/e2e/cluster.sh              (builds in release mode through `demo.sh up` if needed)
#   MUSTER_BIN_DIR=.build/release Tests/e2e/cluster.sh    (use already built binaries)
#
# The agent runs with its defaults: --interval 1s --timeout 500ms --rise 2 --fall 2, so a killed
# server leaves the members within fall x interval + timeout = 2.5 s of its death; the test allows
# 1.5 s more for ZooKeeper's watch, the balancer and a loaded machine.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEMO=$ROOT/deploy/demo.sh
CLIENTS=$ROOT/Tests/e2e/chat_clients.py
DETECT_BOUND_MS=${E2E_DETECT_BOUND_MS:-2500}
DETECT_SLACK_MS=${E2E_DETECT_SLACK_MS:-1500}
TOLERANCE=5

PASSED=0
FAILED=0
BG_PIDS=()
TORN_DOWN=0
SUMMARY_PRINTED=0

pass() { PASSED=$((PASSED + 1)); printf 'ok   - %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL - %s\n' "$*"; }
# check DESCRIPTION CMD...: one test assertion.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
note() { printf '     %s\n' "$*"; }
now_ms() { date +%s%3N; }

wait_until() {
  local deadline=$(( $(now_ms) + $1 )); shift
  while :; do
    "$@" && return 0
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

command -v python3 >/dev/null 2>&1 || "$ROOT/deploy/install-deps.sh" python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/muster-e2e.XXXXXX")
export MUSTER_RUN_DIR=$WORK/run
read -r ZK_PORT LISTEN_PORT ADMIN_PORT < <(python3 "$CLIENTS" free-ports 3)
export MUSTER_ZK_PORT=$ZK_PORT MUSTER_LISTEN_PORT=$LISTEN_PORT MUSTER_ADMIN_PORT=$ADMIN_PORT
# demo.sh skips ports that are taken; a random base keeps two test runs apart. Below the kernel's
# ephemeral range (32768 and up here), where outgoing connections and bind(0) never pick a port.
export MUSTER_CHAT_PORT_BASE=$((20000 + RANDOM % 10000))
export MUSTER_WEIGHTS="1 1 2"
export MUSTER_SERVERS=3
ADDR=127.0.0.1:$LISTEN_PORT
# Where the agents' member nodes are (server-agent --path P registers P/members/<id>).
ZK_PATH=${MUSTER_PATH:-/muster/services/chat}/members

demo() { "$DEMO" "$@" >>"$WORK/demo.log" 2>&1; }

BIN=${MUSTER_BIN_DIR:-}
members() {
  "$BIN/balancer" members \
    --admin "127.0.0.1:$ADMIN_PORT" --json 2>/dev/null | python3 "$CLIENTS" members 2>/dev/null
}
all_up() { local m out; out=$(members) || return 1; for m in "$@"; do grep -qx "$m up" <<<"$out" || return 1; done; }
member_gone() { local out; out=$(members) || return 1; ! grep -q "^$1 " <<<"$out"; }

# zk_children: the member nodes under the service path, sorted, space-separated.
zk_children() {
  printf 'ls %s\n' "$ZK_PATH" | timeout 30 java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
    org.apache.zookeeper.ZooKeeperMain -server "127.0.0.1:$(cat "$MUSTER_RUN_DIR/zookeeper/port")" 2>/dev/null \
    | grep '^\[' | tail -n 1 | tr -d '[],' | tr ' ' '\n' | sort | xargs
}
zk_children_are() { [ "$(zk_children)" = "$*" ]; }

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# --- holders: long-lived connections that keep talking ---------------------------------------------
HOLD_STATUS=$WORK/hold.json
hold_alive_on() { json "$HOLD_STATUS" "sum(1 for c in d['conns'] if c['alive'] and c['server'] in '$1'.split())"; }
hold_dead_on() { json "$HOLD_STATUS" "sum(1 for c in d['conns'] if not c['alive'] and c['server'] in '$1'.split())"; }
hold_rounds() { json "$HOLD_STATUS" "d['rounds']"; }
hold_connected() { [ -f "$HOLD_STATUS" ] && [ "$(json "$HOLD_STATUS" "sum(1 for c in d['conns'] if c['alive'])")" -eq "$1" ]; }
hold_progressed() { [ "$(hold_rounds)" -ge "$1" ]; }

# storm_start NAME / storm_stop NAME: new clients back to back, results in $WORK/NAME.json.
storm_start() {
  rm -f "$WORK/$1.stop" "$WORK/$1.json" "$WORK/$1.progress"
  python3 "$CLIENTS" storm --addr "$ADDR" --stop-file "$WORK/$1.stop" --out "$WORK/$1.json" \
    --progress "$WORK/$1.progress" &
  STORM_PID=$!
  BG_PIDS+=("$STORM_PID")
  # Under way: its first clients got through.
  wait_until 10000 storm_going "$1"
}
storm_going() { [ -f "$WORK/$1.progress" ] && [ "$(json "$WORK/$1.progress" "d['ok']")" -ge 1 ]; }
storm_stop() {
  touch "$WORK/$1.stop"
  wait_until 10000 test -f "$WORK/$1.json" || { kill "$STORM_PID" 2>/dev/null; return 1; }
  wait "$STORM_PID" 2>/dev/null || true
}

# --- teardown --------------------------------------------------------------------------------------
# Every process of this run has one of these in its command line.
stray_patterns() {
  echo "$MUSTER_RUN_DIR"
  echo "127.0.0.1:$LISTEN_PORT"
  echo "127.0.0.1:$ADMIN_PORT"
  [ -f "$MUSTER_RUN_DIR/zookeeper/port" ] && echo "127.0.0.1:$(cat "$MUSTER_RUN_DIR/zookeeper/port")"
  for f in "$MUSTER_RUN_DIR"/servers/chat-*; do [ -f "$f" ] && echo "127.0.0.1:$(cut -d' ' -f1 "$f")"; done
  echo "$CLIENTS"
}
strays() {
  local pids=() pid cmd pat
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$pid" = $$ ] && continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
    [ -n "$cmd" ] || continue
    while read -r pat; do
      if [[ $cmd == *"$pat "* || $cmd == *"$pat" ]]; then pids+=("$pid: $cmd"); break; fi
    done <<<"$PATTERNS"
  done
  printf '%s\n' "${pids[@]}"
}
no_strays() { [ -z "$(strays)" ]; }

teardown() {
  [ "$TORN_DOWN" = 1 ] && return 0
  TORN_DOWN=1
  local pid
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  demo down
}

summary() {
  [ "$SUMMARY_PRINTED" = 1 ] && return 0
  SUMMARY_PRINTED=1
  echo
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -gt 0 ]; then
    echo "logs kept in $WORK (demo.log, run/logs/)"
  else
    rm -rf "$WORK"
  fi
}

on_exit() {
  local code=$?
  [ "$code" -eq 0 ] || [ "$FAILED" -gt 0 ] || fail "the test script itself failed (exit code $code)"
  if [ "$TORN_DOWN" = 0 ]; then
    teardown
    [ -n "${PATTERNS:-}" ] && { no_strays || fail "stray processes after teardown: $(strays)"; }
  fi
  summary
  if [ "$FAILED" -gt 0 ]; then exit 1; fi
  exit 0
}
trap on_exit EXIT
trap 'fail "interrupted"; exit 1' INT TERM

abort() { fail "$*"; note "aborting; see $WORK/demo.log and $MUSTER_RUN_DIR/logs/"; tail -n 30 "$WORK/demo.log" | sed 's/^/     | /'; exit 1; }

echo "e2e: run folder $MUSTER_RUN_DIR; balancer 127.0.0.1:$LISTEN_PORT admin :$ADMIN_PORT; ZooKeeper :$ZK_PORT; chat ports from $MUSTER_CHAT_PORT_BASE"

# --- 1. bring the cluster up --------------------------------------------------------------------------
if timeout 3600 "$DEMO" up >>"$WORK/demo.log" 2>&1; then pass "demo.sh up"; else abort "demo.sh up failed"; fi
PATTERNS=$(stray_patterns)
[ -n "$BIN" ] || BIN=$(cat "$MUSTER_RUN_DIR/bin-dir")
check "chat-1, chat-2, chat-3 listed up by 'balancer members' (deadline 30 s)" \
  wait_until 30000 all_up chat-1 chat-2 chat-3
pids_now() { cat "$MUSTER_RUN_DIR"/pids/*.pid | sort | xargs; }
PIDS_BEFORE=$(pids_now)
check "demo.sh up a second time succeeds" demo up
check "the second 'up' started nothing new (same pids)" test "$(pids_now)" = "$PIDS_BEFORE"
check "all three still listed up" wait_until 3000 all_up chat-1 chat-2 chat-3
status_all_running() {
  local out n
  out=$("$DEMO" status 2>/dev/null) || return 1
  for n in "$@"; do grep -Eq "^ +$n +[0-9]+ +running" <<<"$out" || return 1; done
}
check "demo.sh status shows zookeeper, chat-1..3, their agents and the balancer running" \
  status_all_running zookeeper chat-1 chat-2 chat-3 agent-chat-1 agent-chat-2 agent-chat-3 balancer

# --- 2. established clients ------------------------------------------------------------------------
python3 "$CLIENTS" hold --addr "$ADDR" --n 12 --status "$HOLD_STATUS" --interval 0.2 &
HOLD_PID=$!
BG_PIDS+=("$HOLD_PID")
check "12 long-lived clients connected through the balancer (deadline 15 s)" wait_until 15000 hold_connected 12
note "held connections per server: chat-1 $(hold_alive_on chat-1), chat-2 $(hold_alive_on chat-2), chat-3 $(hold_alive_on chat-3)"

# --- 3. 60 clients spread by weight ----------------------------------------------------------------
# Sequential clients under smooth weighted round robin: any 4k consecutive picks over weights 1,1,2
# are exactly k,k,2k, so 15/15/30 is expected; the tolerance is +-5 each.
SAMPLE=$(python3 "$CLIENTS" sample --addr "$ADDR" --n 60)
count_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['counts'].get(sys.argv[2], 0))" "$SAMPLE" "$1"; }
failures_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['failures'])" "$1"; }
within() { local v=$1 want=$2; [ "$v" -ge $((want - TOLERANCE)) ] && [ "$v" -le $((want + TOLERANCE)) ]; }
note "60 clients: $SAMPLE"
check "60 clients: none failed" test "$(failures_of "$SAMPLE")" -eq 0
check "60 clients: chat-1 got $(count_of chat-1), want 15 +-$TOLERANCE" within "$(count_of chat-1)" 15
check "60 clients: chat-2 got $(count_of chat-2), want 15 +-$TOLERANCE" within "$(count_of chat-2)" 15
check "60 clients: chat-3 got $(count_of chat-3), want 30 +-$TOLERANCE" within "$(count_of chat-3)" 30

# --- 4. kill -9 one chat server --------------------------------------------------------------------
HELD_ON_2=$(hold_alive_on chat-2)
storm_start storm-kill
# A watcher polls the balancer's members (GET /members, what `balancer members` prints) and chat-2's
# pid every 20 ms, so the time from the server's death to its exit is measured, not the test's
# own latency on a loaded machine.
CHAT2_PID=$(cat "$MUSTER_RUN_DIR/pids/chat-2.pid")
python3 "$CLIENTS" watch-leave --admin "127.0.0.1:$ADMIN_PORT" --id chat-2 --pid "$CHAT2_PID" \
  --ready "$WORK/watch.ready" --out "$WORK/watch.json" --timeout 30 &
WATCH_PID=$!
BG_PIDS+=("$WATCH_PID")
wait_until 10000 test -f "$WORK/watch.ready" || fail "the members watcher did not start"
check "demo.sh kill chat-2" demo kill chat-2
wait_until 35000 test -f "$WORK/watch.json"
wait "$WATCH_PID" 2>/dev/null
note "chat-2 leaving: $(cat "$WORK/watch.json" 2>/dev/null)"
NOT_UP=$(json "$WORK/watch.json" "d['not_up_after_death_ms']" 2>/dev/null)
GONE=$(json "$WORK/watch.json" "d['gone_after_death_ms']" 2>/dev/null)
# Passive health usually marks it unavailable at once (new clients hit a refused connect); the
# bound is on the registry path: the agent's checks, ZooKeeper's watch, the balancer dropping it.
note "chat-2 no longer 'up' ${NOT_UP:-?} ms after it died (passive health, from the clients' failed connects)"
if [[ $GONE =~ ^[0-9]+$ ]]; then
  check "chat-2 left 'balancer members' ${GONE} ms after it died (bound ${DETECT_BOUND_MS} ms + ${DETECT_SLACK_MS} ms slack)" \
    test "$GONE" -le $((DETECT_BOUND_MS + DETECT_SLACK_MS))
else
  fail "chat-2 still listed by the balancer 30 s after kill -9 ($(cat "$WORK/watch.json" 2>/dev/null))"
fi
check "'balancer members' (the CLI) no longer lists chat-2" wait_until 5000 member_gone chat-2
# Keep new clients coming for a moment after the removal too.
R=$(hold_rounds); wait_until 5000 hold_progressed $((R + 3))
check "storm stopped" storm_stop storm-kill
note "new clients during the kill: $(cat "$WORK/storm-kill.json" 2>/dev/null)"
check "new clients during the kill: some connected" test "$(json "$WORK/storm-kill.json" "d['ok']")" -gt 0
check "new clients during the kill: none failed" test "$(json "$WORK/storm-kill.json" "d['failures']")" -eq 0
check "new clients during the kill: only chat-2 dropped a client mid-conversation" \
  test "$(json "$WORK/storm-kill.json" "sum(v for k, v in d['dropped'].items() if k != 'chat-2')")" -eq 0
check "held connections on the killed chat-2 were closed (${HELD_ON_2} of them; proves drops are seen)" \
  wait_until 5000 test "$(hold_dead_on chat-2)" -eq "$HELD_ON_2"
SURVIVORS=$(hold_alive_on "chat-1 chat-3")
check "held connections on chat-1 and chat-3 all still talking (${SURVIVORS})" \
  test "$(hold_dead_on "chat-1 chat-3")" -eq 0

# --- 5. new servers ----------------------------------------------------------------------------------
# scale 4 with 2 running: brings chat-2 back and adds a new chat-4 (weight 1).
check "demo.sh scale 4" demo scale 4
PATTERNS=$(stray_patterns)
check "chat-2 (restarted) and chat-4 (new) listed up (deadline 20 s)" \
  wait_until 20000 all_up chat-1 chat-2 chat-3 chat-4
SAMPLE=$(python3 "$CLIENTS" sample --addr "$ADDR" --n 50)
note "50 clients over weights 1,1,2,1: $SAMPLE"
check "50 clients after scale: none failed" test "$(failures_of "$SAMPLE")" -eq 0
check "50 clients after scale: new chat-4 got $(count_of chat-4), want 10 +-$TOLERANCE" within "$(count_of chat-4)" 10
check "50 clients after scale: restarted chat-2 got $(count_of chat-2), want 10 +-$TOLERANCE" within "$(count_of chat-2)" 10
check "held connections on chat-1 and chat-3 still talking after scale" test "$(hold_dead_on "chat-1 chat-3")" -eq 0

# --- 6. restart ZooKeeper ---------------------------------------------------------------------------
storm_start storm-zk
check "demo.sh restart-zookeeper" demo restart-zookeeper
check "membership recovered: chat-1..4 registered in ZooKeeper again (deadline 30 s)" \
  wait_until 30000 zk_children_are chat-1 chat-2 chat-3 chat-4
note "ZooKeeper $ZK_PATH children: $(zk_children)"
check "membership recovered: chat-1..4 listed up by the balancer (deadline 30 s)" \
  wait_until 30000 all_up chat-1 chat-2 chat-3 chat-4
R=$(hold_rounds); wait_until 5000 hold_progressed $((R + 3))
check "storm stopped" storm_stop storm-zk
note "new clients during the ZooKeeper restart: $(cat "$WORK/storm-zk.json" 2>/dev/null)"
check "new clients during the ZooKeeper restart: none failed" test "$(json "$WORK/storm-zk.json" "d['failures']")" -eq 0
check "new clients during the ZooKeeper restart: none dropped mid-conversation" \
  test "$(json "$WORK/storm-zk.json" "sum(d['dropped'].values())")" -eq 0
check "no held connection dropped during the ZooKeeper restart" test "$(hold_dead_on "chat-1 chat-3")" -eq 0
# The watch is live again: a server leaving now must still reach the balancer.
check "demo.sh scale 3 (stops chat-4: deregister, then stop)" demo scale 3
check "chat-4 left 'balancer members' after the restart (deadline 10 s)" wait_until 10000 member_gone chat-4

# --- 7. established clients, final -------------------------------------------------------------------
R=$(hold_rounds)
check "held connections kept making round trips" wait_until 5000 hold_progressed $((R + 3))
kill -TERM "$HOLD_PID" 2>/dev/null
wait_until 5000 eval "! kill -0 $HOLD_PID 2>/dev/null"
note "held connections at the end: $(json "$HOLD_STATUS" "[(c['server'], c['alive'], c['pongs']) for c in d['conns']]")"
check "all $SURVIVORS held connections on surviving servers talked throughout" \
  test "$(hold_alive_on "chat-1 chat-3")" -eq "$SURVIVORS" -a "$(hold_dead_on "chat-1 chat-3")" -eq 0

# --- 8. teardown ---------------------------------------------------------------------------------------
PATTERNS=$(stray_patterns)
if teardown; then pass "demo.sh down"; else fail "demo.sh down"; fi
check "no stray process left (deadline 5 s)" wait_until 5000 no_strays
no_strays || note "strays: $(strays)"
for p in "$LISTEN_PORT" "$ADMIN_PORT"; do
  check "port $p closed" eval "! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null"
done
