#!/usr/bin/env python3
"""Observers for bench/failover, each writing one timestamped event per line (wall clock, ms).

  failover_probe.py clients HOST:PORT INTERVAL_MS FILE
      a new client connection every INTERVAL_MS: connect, read the chat server's greeting
      ("HELLO <name>"), close. Lines: "<start ms> <end ms> ok <name>" or "<start ms> <end ms> fail <reason>".
  failover_probe.py members ADMIN_HOST:PORT INTERVAL_MS FILE
      polls the balancer's GET /members; a line "<ms> <id,id,...>" each time the set of ids changes.
  failover_probe.py znodes ZK_HOST:PORT PATH_PREFIX INTERVAL_MS FILE
      polls ZooKeeper's `dump` four-letter word (ephemeral nodes by session); a line
      "<ms> <path,path,...>" each time the set of ephemerals under PATH_PREFIX changes.

Each runs until it is sent SIGTERM. Loopback only: the bench never measures remote targets.
"""
import json
import signal
import socket
import sys
import time

running = True


def stop(_signum, _frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def now_ms():
    return int(time.time() * 1000)


def split_address(text):
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        sys.exit(f"failover_probe: {text} is not a loopback address")
    return host, int(port)


def pace(started, interval):
    # Keep the schedule, but never sleep a negative time after a slow round.
    delay = interval / 1000 - (time.monotonic() - started)
    if delay > 0:
        time.sleep(delay)


def clients(target, interval, out):
    address = split_address(target)
    while running:
        started = time.monotonic()
        begin = now_ms()
        try:
            with socket.create_connection(address, timeout=2) as sock:
                sock.settimeout(2)
                data = b""
                while b"\n" not in data and len(data) < 256:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    data += chunk
                line = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
                if line.startswith("HELLO "):
                    out.write(f"{begin} {now_ms()} ok {line[6:]}\n")
                else:
                    out.write(f"{begin} {now_ms()} fail no-greeting:{line or 'closed'}\n")
        except OSError as error:
            out.write(f"{begin} {now_ms()} fail {type(error).__name__}\n")
        out.flush()
        pace(started, interval)


def ask(address, request):
    """Sends `request` (bytes) and returns everything the server sends until it closes."""
    with socket.create_connection(address, timeout=2) as sock:
        sock.settimeout(2)
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def http_get(address, path):
    answer = ask(address, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return answer.split(b"\r\n\r\n", 1)[1]


def log_changes(read, interval, out):
    """Calls `read` every `interval` seconds until stopped; writes each new answer (None: no answer) with its time."""
    last = None
    while running:
        started = time.monotonic()
        current = read()
        if current is not None and current != last:
            out.write(f"{now_ms()} {current}\n")
            out.flush()
            last = current
        pace(started, interval)


def members(target, interval, out):
    address = split_address(target)

    def read():
        try:
            report = json.loads(http_get(address, "/members"))
            ids = sorted(
                member["id"]
                for upstream in report.get("upstreams", [])
                for member in upstream.get("members", [])
                if member.get("state") != "draining"
            )
            return ",".join(ids) or "-"
        except (OSError, ValueError, KeyError, IndexError):
            return None

    log_changes(read, interval, out)


def four_letter(address, word):
    return ask(address, word.encode()).decode("utf-8", "replace")


def znodes(target, prefix, interval, out):
    address = split_address(target)

    def read():
        try:
            text = four_letter(address, "dump")
        except OSError:
            return None
        paths = sorted({line.strip() for line in text.splitlines() if line.strip().startswith(prefix)})
        return ",".join(paths) or "-"

    log_changes(read, interval, out)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode = argv[1]
    if mode == "clients" and len(argv) == 5:
        with open(argv[4], "a") as out:
            clients(argv[2], int(argv[3]), out)
    elif mode == "members" and len(argv) == 5:
        with open(argv[4], "a") as out:
            members(argv[2], int(argv[3]), out)
    elif mode == "znodes" and len(argv) == 6:
        with open(argv[5], "a") as out:
            znodes(argv[2], argv[3], int(argv[4]), out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
