#!/usr/bin/env bash
# Runs a whole Muster cluster on this machine, all on loopback:
#   a standalone ZooKeeper, chat servers each beside a server-agent, and a balancer.
#
#   deploy/demo.sh up          install missing Debian packages, build (release), start everything
#   deploy/demo.sh down        stop everything this script started (by pid), wait for it to exit
#   deploy/demo.sh status      what runs, with pids, ports and `balancer members`
#   deploy/demo.sh scale N     start or stop chat servers so that N run
#   deploy/demo.sh kill NAME   kill -9 one process (chat-2, agent-chat-2, balancer, zookeeper)
#   deploy/demo.sh restart-zookeeper   stop ZooKeeper and start it again on the same port and data
#
# Everything it starts keeps its pid, exact command line and log under the run folder (.run/ at the
# repository top), so `down` only ever stops what `up` started. Running `up` twice is safe: it starts
# only what is not running.
#
# Environment overrides (the end-to-end test uses them to run beside a developer's demo):
#   MUSTER_RUN_DIR          run folder                          (default: <repo>/.run)
#   MUSTER_ZK_PORT          ZooKeeper client port               (default: 2181; the next free one if taken)
#   MUSTER_ZOOKEEPER        use this ensemble instead of starting ZooKeeper, e.g. 127.0.0.1:2281,127.0.0.1:2282
#   MUSTER_ZK_TICK_MS       ZooKeeper tickTime                  (default: 2000)
#   MUSTER_LISTEN_PORT      balancer port                       (default: 8000)
#   MUSTER_ADMIN_PORT       balancer admin port                 (default: 8001)
#   MUSTER_CHAT_PORT_BASE   first chat server port              (default: 6000)
#   MUSTER_PATH             service path (agents' and balancer's --path; members are its
#                           /members children)                  (default: /muster/services/chat)
#   MUSTER_WEIGHTS          weights of chat-1, chat-2, ...      (default: "1 1 2"; later ones get 1)
#   MUSTER_SERVERS          how many chat servers `up` starts   (default: 3)
#   MUSTER_AGENT_ARGS       extra server-agent flags, e.g. "--interval 500ms --fall 2"
#   MUSTER_CHECK_ARGS       the agent's health check    (default: "--check-send PING --check-expect PONG")
#   MUSTER_BALANCER_ARGS    extra `balancer run` flags
#   MUSTER_BIN_DIR          use binaries from here and skip the build
#   MUSTER_STOP_TIMEOUT     seconds to wait for a process to exit after SIGTERM (default: 15)
set -euo pipefail

MUSTER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${MUSTER_RUN_DIR:-$MUSTER_ROOT/.run}
ZK_PORT_WANTED=${MUSTER_ZK_PORT:-2181}
ZK_EXTERNAL=${MUSTER_ZOOKEEPER:-}
ZK_TICK_MS=${MUSTER_ZK_TICK_MS:-2000}
LISTEN_PORT=${MUSTER_LISTEN_PORT:-8000}
ADMIN_PORT=${MUSTER_ADMIN_PORT:-8001}
CHAT_PORT_BASE=${MUSTER_CHAT_PORT_BASE:-6000}
ZK_PATH=${MUSTER_PATH:-/muster/services/chat}
# Both server-agent and balancer take the service path; members live at <path>/members/<id>.
MEMBERS_PATH=$ZK_PATH/members
read -r -a WEIGHTS <<<"${MUSTER_WEIGHTS:-1 1 2}"
DEFAULT_SERVERS=${MUSTER_SERVERS:-3}
read -r -a AGENT_EXTRA <<<"${MUSTER_AGENT_ARGS:-}"
# The application check: the chat server answers PING with PONG (the agent skips its HELLO
# greeting). A hung server still completes TCP handshakes, so a plain connect check would not do.
read -r -a CHECK_ARGS <<<"${MUSTER_CHECK_ARGS:---check-send PING --check-expect PONG}"
read -r -a BALANCER_EXTRA <<<"${MUSTER_BALANCER_ARGS:-}"
STOP_TIMEOUT=${MUSTER_STOP_TIMEOUT:-15}

PIDS=$RUN_DIR/pids
LOGS=$RUN_DIR/logs
SERVERS=$RUN_DIR/servers
BIN=""
ZK_CONNECT=""

LOG_PREFIX=demo
# shellcheck source=deploy/lib/procs.sh
. "$MUSTER_ROOT/deploy/lib/procs.sh"

# --- build ----------------------------------------------------------------------------------------

find_swift() {
  command -v swift >/dev/null 2>&1 && return 0
  [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH" && return 0
  die "swift is not on PATH (install Swift 6, or add its usr/bin to PATH)"
}

resolve_bin() {
  if [ -n "${MUSTER_BIN_DIR:-}" ]; then
    BIN=$MUSTER_BIN_DIR
  elif [ -f "$RUN_DIR/bin-dir" ]; then
    BIN=$(cat "$RUN_DIR/bin-dir")
  else
    find_swift
    BIN=$(cd "$MUSTER_ROOT" && swift build -c release --show-bin-path)
  fi
  local exe
  for exe in balancer server-agent chat-server; do
    [ -x "$BIN/$exe" ] || die "$BIN/$exe is missing: run 'deploy/demo.sh up' (it builds), or set MUSTER_BIN_DIR"
  done
}

build() {
  if [ -n "${MUSTER_BIN_DIR:-}" ]; then
    say "using binaries in $MUSTER_BIN_DIR (no build)"
  else
    find_swift
    if [ -d "$MUSTER_ROOT/.build/release" ]; then say "building in release mode"
    else say "building in release mode (the first build takes several minutes)"
    fi
    (cd "$MUSTER_ROOT" && swift build -c release) \
      || die "swift build -c release failed (see above)"
    mkdir -p "$RUN_DIR"
    (cd "$MUSTER_ROOT" && swift build -c release --show-bin-path) >"$RUN_DIR/bin-dir"
  fi
  resolve_bin
}

# --- ZooKeeper ------------------------------------------------------------------------------------

zk_port() { cat "$RUN_DIR/zookeeper/port" 2>/dev/null; }

zk_connect() {
  if [ -n "$ZK_EXTERNAL" ]; then ZK_CONNECT=$ZK_EXTERNAL
  elif [ -f "$RUN_DIR/zookeeper/port" ]; then ZK_CONNECT=127.0.0.1:$(zk_port)
  else ZK_CONNECT=127.0.0.1:$ZK_PORT_WANTED
  fi
}

zk_start() {
  if [ -n "$ZK_EXTERNAL" ]; then
    ZK_CONNECT=$ZK_EXTERNAL
    say "using the ZooKeeper ensemble at $ZK_CONNECT (MUSTER_ZOOKEEPER)"
    return 0
  fi
  local dir=$RUN_DIR/zookeeper port
  mkdir -p "$dir/data"
  if proc_alive zookeeper; then
    ZK_CONNECT=127.0.0.1:$(zk_port)
    say "ZooKeeper already running on $ZK_CONNECT (pid $(proc_pid zookeeper))"
    return 0
  fi
  # Keep the port of an earlier run (running agents know it), unless someone else took it.
  port=$(zk_port || true)
  [ -n "$port" ] || port=$ZK_PORT_WANTED
  if port_open "$port"; then
    local taken=$port
    port=$((port + 1))
    while port_open "$port"; do
      port=$((port + 1))
      [ "$port" -lt $((taken + 100)) ] || die "no free port for ZooKeeper in $taken..$port"
    done
    say "port $taken is taken by another process: ZooKeeper will listen on 127.0.0.1:$port instead"
  fi
  cat >"$dir/zoo.cfg" <<EOF
# Written by deploy/demo.sh: a standalone ZooKeeper for the local demo, loopback only.
tickTime=$ZK_TICK_MS
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
# The admin HTTP server wants port 8080, and standalone mode exits if that port is taken.
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,mntr,stat
maxClientCnxns=0
EOF
  echo "$port" >"$dir/port"
  start_zookeeper zookeeper org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg"
  ZK_CONNECT=127.0.0.1:$port
  if ! wait_until 60 zk_serving "$port"; then
    tail -n 20 "$LOGS/zookeeper.log" >&2 || true
    die "ZooKeeper did not start serving on 127.0.0.1:$port within 60s (log: $LOGS/zookeeper.log)"
  fi
  say "ZooKeeper serving on $ZK_CONNECT (pid $(proc_pid zookeeper))"
}

zk_stop() { stop_procs TERM zookeeper; }

# zk_cli COMMANDS: runs zkCli commands (one per line) against the demo's ZooKeeper.
zk_cli() {
  printf '%b' "$1" | timeout 30 java -cp "$ZK_CLASSPATH" org.apache.zookeeper.ZooKeeperMain \
    -server "$ZK_CONNECT" 2>&1 | grep -v -e '^SLF4J' -e '^$' -e WATCHER -e WatchedEvent || true
}

# The balancer can watch the path before any agent has registered.
zk_ensure_path() {
  local p="" part cmds=""
  local IFS=/
  for part in ${MEMBERS_PATH#/}; do p="$p/$part"; cmds+="create $p \"\"\n"; done
  zk_cli "$cmds" >/dev/null
}

# --- chat servers and agents ----------------------------------------------------------------------

server_names() {
  [ -d "$SERVERS" ] || return 0
  find "$SERVERS" -mindepth 1 -maxdepth 1 -type f -name 'chat-*' -printf '%f\n' | sort -t- -k2,2n
}
server_port() { cut -d' ' -f1 "$SERVERS/$1"; }
server_weight() { cut -d' ' -f2 "$SERVERS/$1"; }

port_assigned() { grep -qs "^$1 " "$SERVERS"/chat-* ; }

# new_server: creates the next slot chat-<n> with a free port and its weight; prints its name.
new_server() {
  mkdir -p "$SERVERS"
  local n=1
  while [ -f "$SERVERS/chat-$n" ]; do n=$((n + 1)); done
  local port=$((CHAT_PORT_BASE + n - 1))
  while port_open "$port" || port_assigned "$port"; do
    port=$((port + 1))
    [ "$port" -lt $((CHAT_PORT_BASE + 1000)) ] || die "no free chat server port above $CHAT_PORT_BASE"
  done
  echo "$port ${WEIGHTS[$((n - 1))]:-1}" >"$SERVERS/chat-$n"
  echo "chat-$n"
}

chat_start() {
  local name=$1 port
  port=$(server_port "$name")
  if proc_alive "$name"; then return 0; fi
  if port_open "$port"; then
    die "$name: port $port is taken by another process (see 'ss -ltnp sport = :$port')"
  fi
  start_proc "$name" "$BIN/chat-server" --listen "127.0.0.1:$port" --name "$name"
}

agent_start() {
  local name=$1 port weight
  port=$(server_port "$name"); weight=$(server_weight "$name")
  if proc_alive "agent-$name"; then return 0; fi
  start_proc "agent-$name" "$BIN/server-agent" --zookeeper "$ZK_CONNECT" --path "$ZK_PATH" \
    --server "127.0.0.1:$port" --id "$name" --weight "$weight" \
    "${CHECK_ARGS[@]}" "${AGENT_EXTRA[@]}"
}

server_start() {
  chat_start "$1"
  agent_start "$1"
}

# server_remove NAME: the agent goes first (it deregisters on SIGTERM, so the balancer stops sending
# new clients), then the server.
server_remove() {
  stop_procs TERM "agent-$1"
  stop_procs TERM "$1"
  rm -f "$SERVERS/$1" "$PIDS/$1".* "$PIDS/agent-$1".*
}

# --- balancer -------------------------------------------------------------------------------------

balancer_start() {
  if proc_alive balancer; then return 0; fi
  for p in "$LISTEN_PORT" "$ADMIN_PORT"; do
    port_closed "$p" || die "port $p is taken by another process; set MUSTER_LISTEN_PORT / MUSTER_ADMIN_PORT"
  done
  start_proc balancer "$BIN/balancer" run --listen "127.0.0.1:$LISTEN_PORT" \
    --zookeeper "$ZK_CONNECT" --path "$ZK_PATH" --admin "127.0.0.1:$ADMIN_PORT" \
    --drain-timeout 5s "${BALANCER_EXTRA[@]}"
  if ! wait_until 30 port_open "$ADMIN_PORT"; then
    tail -n 20 "$LOGS/balancer.log" >&2 || true
    die "the balancer's admin endpoint did not come up on 127.0.0.1:$ADMIN_PORT (log: $LOGS/balancer.log)"
  fi
}

members() { "$BIN/balancer" members --admin "127.0.0.1:$ADMIN_PORT" "$@"; }

# members_include NAME...: every NAME is listed by the balancer.
members_include() {
  local json name
  json=$(members --json 2>/dev/null) || return 1
  for name in "$@"; do
    # A discovered member's id is "zk:<agent --id>".
    grep -Eq "\"id\"[[:space:]]*:[[:space:]]*\"(zk:)?$name\"" <<<"$json" || return 1
  done
}

# --- commands -------------------------------------------------------------------------------------

# show_bin: the binaries' folder as a user would type it from the repository top.
show_bin() {
  if [ "$(readlink -f "$MUSTER_ROOT/.build/release" 2>/dev/null)" = "$(readlink -f "$BIN")" ]; then
    echo .build/release
  else
    echo "$BIN"
  fi
}

cmd_up() {
  "$MUSTER_ROOT/deploy/install-deps.sh"
  build
  mkdir -p "$RUN_DIR" "$PIDS" "$LOGS" "$SERVERS"
  zk_start
  zk_ensure_path
  local names name i
  names=$(server_names)
  if [ -z "$names" ]; then
    for ((i = 0; i < DEFAULT_SERVERS; i++)); do new_server >/dev/null; done
    names=$(server_names)
  fi
  for name in $names; do chat_start "$name"; done
  for name in $names; do
    wait_until 30 port_open "$(server_port "$name")" \
      || die "$name did not start listening on 127.0.0.1:$(server_port "$name") (log: $LOGS/$name.log)"
    agent_start "$name"
  done
  balancer_start
  # shellcheck disable=SC2086
  if ! wait_until 30 members_include $names; then
    say "not every chat server is registered yet; see $LOGS/agent-*.log"
  fi
  echo
  members || true
  cat <<EOF

Muster is running (logs and pids in $RUN_DIR).
  Connect a chat client:   nc 127.0.0.1 $LISTEN_PORT      (then type: WHERE, PING, ...)
  Members:                 $(show_bin)/balancer members --admin 127.0.0.1:$ADMIN_PORT
  Kill a server:           deploy/demo.sh kill chat-2   (it leaves the members within a few seconds)
  More servers:            deploy/demo.sh scale 5
  Stop everything:         deploy/demo.sh down
EOF
}

cmd_down() {
  local names
  names=$(server_names)
  stop_procs TERM balancer
  # shellcheck disable=SC2046
  stop_procs TERM $(for n in $names; do echo "agent-$n"; done)
  # shellcheck disable=SC2086
  stop_procs TERM $names
  zk_stop
  # The demo's ZooKeeper data is only demo state; a fresh `up` starts from an empty tree.
  rm -rf "$RUN_DIR/zookeeper/data" "$RUN_DIR/zookeeper/port" "$RUN_DIR/bin-dir"
  rm -f "$SERVERS"/chat-*
  say "stopped (logs kept in $LOGS)"
}

row() { printf '  %-16s %-8s %-9s %s\n' "$@"; }

cmd_status() {
  local name pid
  echo "run folder: $RUN_DIR"
  row NAME PID STATE ADDRESS
  status_row() {
    if pid=$(proc_pid "$1"); then row "$1" "$pid" running "$2"
    elif [ -f "$PIDS/$1.pid" ]; then row "$1" - dead "$2"
    else row "$1" - stopped "$2"
    fi
  }
  if [ -n "$ZK_EXTERNAL" ]; then row zookeeper - external "$ZK_EXTERNAL"
  else status_row zookeeper "127.0.0.1:$(zk_port || echo "$ZK_PORT_WANTED")"
  fi
  for name in $(server_names); do
    status_row "$name" "127.0.0.1:$(server_port "$name") weight=$(server_weight "$name")"
    status_row "agent-$name" "checks 127.0.0.1:$(server_port "$name")"
  done
  status_row balancer "127.0.0.1:$LISTEN_PORT admin 127.0.0.1:$ADMIN_PORT"
  if proc_alive balancer && resolve_bin 2>/dev/null; then
    echo
    members || true
  fi
}

cmd_scale() {
  local want=${1:-}
  [[ $want =~ ^[0-9]+$ ]] || die "usage: demo.sh scale N (N >= 0)"
  proc_alive balancer || die "the cluster is not up; run 'deploy/demo.sh up' first"
  resolve_bin
  zk_connect
  local names name running=() started=()
  names=$(server_names)
  for name in $names; do proc_alive "$name" && running+=("$name"); done
  if [ "${#running[@]}" -lt "$want" ]; then
    # Bring back killed servers first, then add new ones.
    for name in $names; do
      [ "$((${#running[@]} + ${#started[@]}))" -lt "$want" ] || break
      proc_alive "$name" && continue
      server_start "$name"; started+=("$name")
    done
    while [ "$((${#running[@]} + ${#started[@]}))" -lt "$want" ]; do
      name=$(new_server)
      server_start "$name"; started+=("$name")
    done
    say "started ${started[*]} (new members appear once their agent has seen 'rise' healthy checks)"
    # shellcheck disable=SC2086
    wait_until 30 members_include "${started[@]}" || say "not registered yet: see $LOGS/agent-*.log"
  else
    local i
    for ((i = ${#running[@]} - 1; i >= want; i--)); do
      server_remove "${running[$i]}"
      say "stopped ${running[$i]} (deregistered first, then stopped)"
    done
  fi
  members || true
}

cmd_kill() {
  local name=${1:-} pid
  [ -n "$name" ] || die "usage: demo.sh kill NAME   (chat-N, agent-chat-N, balancer or zookeeper)"
  pid=$(proc_pid "$name") || die "$name is not running (see 'deploy/demo.sh status')"
  kill -KILL "$pid"
  wait_until 5 proc_dead "$name" || true
  case $name in
    chat-*) say "killed $name (pid $pid) with SIGKILL; its agent deregisters it after 'fall' failed checks" ;;
    agent-*) say "killed $name (pid $pid) with SIGKILL; ZooKeeper drops its member when the session times out" ;;
    *) say "killed $name (pid $pid) with SIGKILL" ;;
  esac
  say "watch it: deploy/demo.sh status    bring it back: deploy/demo.sh up"
}

cmd_restart_zookeeper() {
  [ -z "$ZK_EXTERNAL" ] || die "ZooKeeper is external (MUSTER_ZOOKEEPER); restart it there"
  [ -f "$RUN_DIR/zookeeper/zoo.cfg" ] && [ -f "$RUN_DIR/zookeeper/port" ] || die "the demo's ZooKeeper was never started; run 'deploy/demo.sh up'"
  local port
  port=$(zk_port)
  zk_stop
  wait_until 10 port_closed "$port" || die "port $port still open after ZooKeeper stopped"
  start_zookeeper zookeeper org.apache.zookeeper.server.ZooKeeperServerMain "$RUN_DIR/zookeeper/zoo.cfg"
  wait_until 60 zk_serving "$port" || die "ZooKeeper did not come back on 127.0.0.1:$port (log: $LOGS/zookeeper.log)"
  say "ZooKeeper restarted on 127.0.0.1:$port (pid $(proc_pid zookeeper))"
}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    up|down|status|scale|kill|restart-zookeeper) ;;
    -h|--help|help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  mkdir -p "$RUN_DIR"
  # One demo.sh at a time per run folder.
  exec 9>"$RUN_DIR/lock"
  flock -w 120 9 || die "another deploy/demo.sh is running on $RUN_DIR"
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    scale) cmd_scale "$@" ;;
    kill) cmd_kill "$@" ;;
    restart-zookeeper) cmd_restart_zookeeper ;;
  esac
}

main "$@"
