#!/usr/bin/env bash
# Installs what Muster needs from Debian's packages, if it is missing:
# the ZooKeeper C client (libzookeeper-mt-dev), the ZooKeeper server and a Java runtime to run it,
# plus the small tools the demo and the end-to-end test use (nc, python3, pgrep).
# Safe to run again: it only calls apt-get when something is missing.
set -euo pipefail

need=()
[ -f /usr/include/zookeeper/zookeeper.h ] || need+=(libzookeeper-mt-dev)
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v nc >/dev/null 2>&1 || need+=(netcat-openbsd)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
for pkg in "$@"; do need+=("$pkg"); done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
