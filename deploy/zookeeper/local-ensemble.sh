#!/usr/bin/env bash
# A 3-node ZooKeeper ensemble on loopback ports, to try failover on one machine.
#
#   deploy/zookeeper/local-ensemble.sh up        start the three nodes, wait for a quorum
#   deploy/zookeeper/local-ensemble.sh status    each node's pid, port and mode (leader/follower)
#   deploy/zookeeper/local-ensemble.sh stop N    stop node N (1..3) with SIGTERM   (try: stop the leader)
#   deploy/zookeeper/local-ensemble.sh kill N    kill -9 node N
#   deploy/zookeeper/local-ensemble.sh start N   start node N again
#   deploy/zookeeper/local-ensemble.sh connect   print the connect string
#   deploy/zookeeper/local-ensemble.sh down      stop all three, delete their data
#
# Then run the demo against it:
#   MUSTER_ZOOKEEPER=$(deploy/zookeeper/local-ensemble.sh connect) deploy/demo.sh up
#
# Environment: MUSTER_ENSEMBLE_DIR (default <repo>/.run/ensemble), MUSTER_ENSEMBLE_CLIENT_PORT
# (default 2281: nodes on 2281, 2282, 2283), MUSTER_ENSEMBLE_PEER_PORT (2888) and
# MUSTER_ENSEMBLE_ELECTION_PORT (3888), each + node - 1.
set -euo pipefail

MUSTER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${MUSTER_ENSEMBLE_DIR:-$MUSTER_ROOT/.run/ensemble}
CLIENT_PORT=${MUSTER_ENSEMBLE_CLIENT_PORT:-2281}
PEER_PORT=${MUSTER_ENSEMBLE_PEER_PORT:-2888}
ELECTION_PORT=${MUSTER_ENSEMBLE_ELECTION_PORT:-3888}
NODES=(1 2 3)
PIDS=$DIR/pids
LOGS=$DIR/logs
LOG_PREFIX=local-ensemble
# shellcheck source=deploy/lib/procs.sh
. "$MUSTER_ROOT/deploy/lib/procs.sh"

client_port() { echo $((CLIENT_PORT + $1 - 1)); }

connect_string() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("127.0.0.1:$(client_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

write_config() {
  local n=$1 d=$DIR/zk$1
  mkdir -p "$d/data"
  # myid names this node; it must match its server.N line below.
  echo "$n" >"$d/data/myid"
  {
    echo "# Written by deploy/zookeeper/local-ensemble.sh: node $n of a 3-node ensemble on loopback."
    echo "tickTime=1000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$d/data"
    echo "clientPort=$(client_port "$n")"
    echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=srvr,ruok,mntr,stat"
    local m
    for m in "${NODES[@]}"; do
      echo "server.$m=127.0.0.1:$((PEER_PORT + m - 1)):$((ELECTION_PORT + m - 1))"
    done
  } >"$d/zoo.cfg"
}

node_check() {
  local n=$1
  [[ $n =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '${n}')"
}

start_node() {
  local n=$1
  proc_alive "zk$n" && return 0
  [ -f "$DIR/zk$n/zoo.cfg" ] || write_config "$n"
  port_closed "$(client_port "$n")" || die "port $(client_port "$n") is taken by another process"
  start_zookeeper "zk$n" org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zk$n/zoo.cfg"
}

all_serving() {
  local n
  for n in "${NODES[@]}"; do proc_dead "zk$n" || zk_serving "$(client_port "$n")" || return 1; done
}

cmd_status() {
  local n pid mode
  printf '  %-5s %-8s %-16s %s\n' NODE PID ADDRESS MODE
  for n in "${NODES[@]}"; do
    if pid=$(proc_pid "zk$n"); then
      mode=$(zk_mode "$(client_port "$n")")
      [ -n "$mode" ] || mode="not serving (no quorum yet?)"
    else
      pid=-; mode=stopped
    fi
    printf '  %-5s %-8s %-16s %s\n' "zk$n" "$pid" "127.0.0.1:$(client_port "$n")" "$mode"
  done
  echo "connect string: $(connect_string)"
}

cmd_up() {
  mkdir -p "$DIR"
  local n
  for n in "${NODES[@]}"; do write_config "$n"; done
  for n in "${NODES[@]}"; do start_node "$n"; done
  if ! wait_until 60 all_serving; then
    cmd_status
    die "the ensemble did not form a quorum within 60s (logs: $LOGS)"
  fi
  cmd_status
  cat <<EOF

Try failover:
  MUSTER_ZOOKEEPER=$(connect_string) deploy/demo.sh up
  $0 status            # which node leads
  $0 stop N            # stop the leader: the others elect a new one within seconds,
  deploy/demo.sh status                      # and the members stay
  $0 start N
EOF
}

cmd_down() {
  stop_procs TERM zk1 zk2 zk3
  rm -rf "$DIR"/zk*/data
  say "stopped (logs kept in $LOGS)"
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    connect) connect_string ;;
    stop|kill)
      node_check "${1:-}"
      if [ "$cmd" = stop ]; then stop_procs TERM "zk$1"; else stop_procs KILL "zk$1"; fi
      # The others elect a leader (if it was the leader) and serve again: a bounded wait.
      wait_until 30 all_serving || say "the remaining nodes are not serving yet (no quorum?)"
      cmd_status ;;
    start)
      node_check "${1:-}"; start_node "$1"
      wait_until 60 zk_serving "$(client_port "$1")" || say "zk$1 is not serving yet (log: $LOGS/zk$1.log)"
      cmd_status ;;
    -h|--help|help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
