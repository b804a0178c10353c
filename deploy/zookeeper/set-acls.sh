#!/usr/bin/env bash
# Locks down a Muster service path with digest ACLs (run once per path, as the admin identity).
#
#   deploy/zookeeper/set-acls.sh --zookeeper HOSTS --path /muster/services/chat \
#       --admin /etc/muster/admin.auth --agent /etc/muster/agent-chat-1.auth \
#       --agent /etc/muster/agent-chat-2.auth --balancer /etc/muster/balancer.auth
#
# --path is the service path, the same that server-agent --path and the balancer's path= take.
# The ACL goes on its members node, P/members, whose children are the member nodes. Create it
# here, before any agent runs: an agent that finds it missing creates it itself, open to everyone.
# Run it again with a changed list of identities to replace the ACL.
#
# Each file holds one line "user:password" (any characters but a line break; passwords never go on
# a command line and are never printed). --agent and --balancer may be repeated: give each agent
# its own identity, one per ChatServer, and no agent can rewrite another member's record.
#
# Result, on the members path:
#   digest:<admin>:<hash>:cdrwa     the operator: everything, including changing the ACL
#   digest:<agent>:<hash>:cdr       each agent: create and delete member nodes, list them
#   digest:<balancer>:<hash>:r      each balancer: list members, nothing else
# and on its ancestors (created if missing): the admin may do everything, everyone may read.
# An agent with --auth-file creates its member node with "creator all, world read", so only the
# agent that created a member can change it, and the balancer can read it.
#
# Exit status 0 only when the ACL was set and read back as intended; 1 on any failure (file
# unreadable, ZooKeeper unreachable, not authorized, ...), with the reason on stderr.
#
# This wraps `muster-acl` (Sources/MusterACL), found in $MUSTER_BIN_DIR, .build/release,
# .build/debug or PATH, and built in release mode if none is there.
set -euo pipefail

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool=""
for dir in "${MUSTER_BIN_DIR:-}" "$root/.build/release" "$root/.build/debug"; do
  if [ -n "$dir" ] && [ -x "$dir/muster-acl" ]; then tool="$dir/muster-acl"; break; fi
done
if [ -z "$tool" ] && command -v muster-acl >/dev/null 2>&1; then tool=$(command -v muster-acl); fi
if [ -z "$tool" ]; then
  echo "set-acls: building muster-acl" >&2
  (cd "$root" && swift build -c release --product muster-acl >&2) || { echo "set-acls: error: cannot build muster-acl" >&2; exit 1; }
  tool="$root/.build/release/muster-acl"
fi
exec "$tool" "$@"
