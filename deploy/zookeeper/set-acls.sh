#!/usr/bin/env bash
# Locks down a Muster service path with digest ACLs (run once per path, as the admin identity).
#
#   deploy/zookeeper/set-acls.sh --zookeeper HOSTS --path /muster/services/chat \
#       --admin /etc/muster/admin.auth --agent /etc/muster/agent.auth --balancer /etc/muster/balancer.auth
#
# --path is the service path, the same that server-agent --path and the balancer's path= take.
# The ACL goes on its members node, P/members, whose children are the member nodes. Create it
# here, before any agent runs: an agent that finds it missing creates it itself, open to everyone.
#
# Each file holds one line "user:password". Passwords never go on a command line: the digests are
# computed here, and zkCli gets its `addauth` on stdin.
#
# Result, on the members path:
#   digest:<admin>:<hash>:cdrwa     the operator: everything, including changing the ACL
#   digest:<agent>:<hash>:cdr       agents: create and delete member nodes, list them
#   digest:<balancer>:<hash>:r      balancers: list members, nothing else
# and on its ancestors (created if missing): the admin may do everything, everyone may read.
# An agent with --auth-file creates its member node with "creator all, world read", so only the
# agent that created a member can change or delete it, and the balancer can read it.
set -euo pipefail

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { printf 'set-acls: error: %s\n' "$*" >&2; exit 2; }

ZK="" ZPATH="" ADMIN="" AGENT="" BALANCER=""
while [ $# -gt 0 ]; do
  case $1 in
    --zookeeper) ZK=${2:-}; shift 2 ;;
    --path) ZPATH=${2:-}; shift 2 ;;
    --admin) ADMIN=${2:-}; shift 2 ;;
    --agent) AGENT=${2:-}; shift 2 ;;
    --balancer) BALANCER=${2:-}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[ -n "$ZK" ] && [ -n "$ZPATH" ] && [ -n "$ADMIN" ] && [ -n "$AGENT" ] && [ -n "$BALANCER" ] \
  || { usage >&2; die "--zookeeper, --path, --admin, --agent and --balancer are all required"; }
[[ $ZPATH == /* && $ZPATH != */ ]] || die "--path must be absolute, without a trailing slash: '$ZPATH'"
# The service path given; the ACL belongs on its members node.
ZPATH=$ZPATH/members

# read_cred FILE: prints "user:password" from FILE's first line.
read_cred() {
  [ -r "$1" ] || die "cannot read credentials file $1"
  local line
  IFS= read -r line <"$1" || true
  line=${line%$'\r'}
  [[ $line == ?*:?* ]] || die "$1 must hold one line 'user:password'"
  printf '%s' "$line"
}

# digest_id "user:password": ZooKeeper's digest id "user:base64(sha1(user:password))", as
# org.apache.zookeeper.server.auth.DigestAuthenticationProvider computes it.
digest_id() {
  local hex
  hex=$(printf '%s' "$1" | sha1sum | cut -c1-40)
  # shellcheck disable=SC2059
  printf '%s:%s' "${1%%:*}" "$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64)"
}

admin_cred=$(read_cred "$ADMIN")
agent_id=$(digest_id "$(read_cred "$AGENT")")
balancer_id=$(digest_id "$(read_cred "$BALANCER")")
admin_id=$(digest_id "$admin_cred")

commands="addauth digest $admin_cred\n"
prefix=""
IFS=/ read -r -a parts <<<"${ZPATH#/}"
for part in "${parts[@]}"; do
  prefix="$prefix/$part"
  if [ "$prefix" != "$ZPATH" ]; then
    commands+="create $prefix \"\" digest:$admin_id:cdrwa,world:anyone:r\n"
  fi
done
commands+="create $ZPATH \"\"\n"
commands+="setAcl $ZPATH digest:$admin_id:cdrwa,digest:$agent_id:cdr,digest:$balancer_id:r\n"
commands+="getAcl $ZPATH\n"

printf '%b' "$commands" | timeout 60 java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
  org.apache.zookeeper.ZooKeeperMain -server "$ZK" 2>&1 \
  | grep -v -e '^SLF4J' -e '^$' -e 'WATCHER::' -e 'WatchedEvent' -e 'Node already exists' -e JLine
