# Shared by deploy/demo.sh and deploy/zookeeper/local-ensemble.sh (sourced, not run).
# Process bookkeeping by pid file plus exact command line, bounded waits, loopback port probes.
# The caller sets PIDS and LOGS (directories) and LOG_PREFIX (for messages).

say() { printf '%s: %s\n' "${LOG_PREFIX:-muster}" "$*"; }
die() { printf '%s: error: %s\n' "${LOG_PREFIX:-muster}" "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# wait_until SECONDS CMD...: runs CMD every 100 ms until it succeeds; 1 if the deadline passes first.
wait_until() {
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  while :; do
    "$@" && return 0
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
port_closed() { ! port_open "$1"; }

# tcp_request PORT TEXT: sends TEXT, prints what comes back until the peer closes (bounded: 3 s).
tcp_request() {
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 || exit 1; printf "%b" "$1" >&3; cat <&3' "$1" "$2" 2>/dev/null
}

# zk_serving PORT: the ZooKeeper on PORT serves requests (standalone, leader or follower).
zk_serving() { tcp_request "$1" 'srvr\n' | grep -q '^Mode: '; }
zk_mode() { tcp_request "$1" 'srvr\n' | sed -n 's/^Mode: //p'; }

ZK_CLASSPATH=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar
# ZooKeeper logs through slf4j; without a binding it logs nothing at all.
ZK_LOG_CLASSPATH=/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar

# start_zookeeper NAME MAINCLASS CFG: a ZooKeeper server as process NAME, logging to logs/NAME.log.
start_zookeeper() {
  start_proc "$1" java -Dzookeeper.root.logger=INFO,CONSOLE -cp "$ZK_CLASSPATH:$ZK_LOG_CLASSPATH" "$2" "$3"
}

# --- processes ------------------------------------------------------------------------------------
# Each started process has <name>.pid and <name>.cmd (its exact command line). A pid counts as ours
# only while /proc/<pid>/cmdline still matches, so a stale pid file never makes us signal a stranger
# (and a zombie, whose cmdline is empty, counts as gone).

proc_pid() {
  local name=$1 pid
  [ -f "$PIDS/$name.pid" ] && [ -f "$PIDS/$name.cmd" ] || return 1
  pid=$(cat "$PIDS/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local want actual
  want=$(cat "$PIDS/$name.cmd")
  actual=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  # A script shows its interpreter first ("python3 /path/script args"); the rest must match exactly.
  [[ $actual == "$want" || $actual == *$'\n'"$want" ]] || return 1
  echo "$pid"
}
proc_alive() { proc_pid "$1" >/dev/null; }
proc_dead() { ! proc_alive "$1"; }

# start_proc NAME CMD...: starts CMD in its own session (so a Ctrl-C on this script does not reach
# it), output appended to logs/NAME.log.
start_proc() {
  local name=$1; shift
  mkdir -p "$PIDS" "$LOGS"
  printf '\n=== %s starting: %s\n' "$(date -Is)" "$*" >>"$LOGS/$name.log"
  printf '%s\n' "$@" >"$PIDS/$name.cmd"
  # 9>&-: the child must not inherit the run folder's lock.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDS/$name.pid"
}

# stop_procs SIGNAL NAME...: signals every named process that is ours, then waits (bounded) for all
# of them to exit; SIGKILLs whatever outlives the wait.
stop_procs() {
  local sig=$1; shift
  local name pid live=()
  for name in "$@"; do
    if pid=$(proc_pid "$name"); then
      kill "-$sig" "$pid" 2>/dev/null || true
      live+=("$name")
    else
      rm -f "$PIDS/$name.pid"
    fi
  done
  [ ${#live[@]} -gt 0 ] || return 0
  all_dead() { local n; for n in "$@"; do proc_dead "$n" || return 1; done; }
  if ! wait_until "${STOP_TIMEOUT:-15}" all_dead "${live[@]}"; then
    for name in "${live[@]}"; do
      if pid=$(proc_pid "$name"); then
        say "$name (pid $pid) did not exit within ${STOP_TIMEOUT:-15}s of SIG$sig; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    wait_until 5 all_dead "${live[@]}" || say "warning: still running: ${live[*]}"
  fi
  for name in "${live[@]}"; do proc_alive "$name" || rm -f "$PIDS/$name.pid"; done
}
