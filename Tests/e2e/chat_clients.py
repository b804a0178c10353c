#!/usr/bin/env python3
"""Chat clients for the end-to-end test (Tests/e2e/cluster.sh); standard library only.

Every client speaks the demo ChatServer's line protocol: the server greets with `HELLO <name>`
on connect, and answers `PING` with `PONG`. The greeting tells which server the balancer chose.

  sample  --addr H:P --n N          N clients one after another; prints JSON {counts, failures, errors}
  hold    --addr H:P --n N --status F
                                    opens N connections and keeps them talking (PING/PONG every
                                    --interval) until SIGTERM; rewrites F (JSON) after every round
  storm   --addr H:P --stop-file F --out O
                                    new clients back to back until F exists; writes JSON to O
  watch-leave --admin H:P --id ID --pid PID --ready F --out O
                                    times a member leaving the balancer after process PID dies
  members                           reads `balancer members --json` on stdin; prints "id state" lines
                                    (a discovered member's id without its "zk:" prefix)
  free-ports N                      prints N free loopback ports
"""

import argparse
import json
import os
import signal
import socket
import sys
import time


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


class Client:
    """One chat connection with a line reader and a deadline on every read."""

    def __init__(self, addr, timeout):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.server = self.read_greeting()

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by peer")
            self.buf += chunk
            if len(self.buf) > 65536:
                raise ValueError("line too long")
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace").strip()

    def read_greeting(self):
        line = self.read_line()
        parts = line.split()
        if len(parts) < 2 or parts[0] != "HELLO":
            raise ValueError(f"unexpected greeting {line!r}")
        return parts[1]

    def ping(self):
        self.sock.sendall(b"PING\n")
        # Other lines (chat traffic) may come first; a bounded number of them is fine.
        for _ in range(100):
            line = self.read_line()
            if line.startswith("PONG"):
                return
        raise ValueError("no PONG among 100 lines")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class DroppedAfterGreeting(Exception):
    """The balancer did connect this client to a server, which then went away mid-conversation."""

    def __init__(self, server, error):
        super().__init__(f"{server}: {type(error).__name__}: {error}")
        self.server = server


def one_client(addr, timeout):
    """Connects, reads the greeting, does one PING round trip, closes; returns the server name."""
    client = Client(addr, timeout)
    try:
        client.ping()
        return client.server
    except Exception as error:  # noqa: BLE001
        raise DroppedAfterGreeting(client.server, error) from error
    finally:
        client.close()


def cmd_sample(args):
    addr = parse_addr(args.addr)
    counts, errors = {}, []
    for i in range(args.n):
        try:
            name = one_client(addr, args.timeout)
            counts[name] = counts.get(name, 0) + 1
        except Exception as error:  # noqa: BLE001 - every failure is a result here
            errors.append(f"client {i}: {type(error).__name__}: {error}")
    json.dump({"counts": counts, "failures": len(errors), "errors": errors[:10]}, sys.stdout)
    print()
    return 0


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def cmd_hold(args):
    addr = parse_addr(args.addr)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    conns = []
    for i in range(args.n):
        entry = {"i": i, "server": None, "alive": False, "pongs": 0, "error": None, "failed_at": None}
        try:
            entry["client"] = Client(addr, args.timeout)
            entry["server"] = entry["client"].server
            entry["alive"] = True
        except Exception as error:  # noqa: BLE001
            entry["error"] = f"connect: {type(error).__name__}: {error}"
            entry["failed_at"] = time.time()
        conns.append(entry)
    rounds = 0
    # Bounded: at most --max-seconds, even if nobody sends SIGTERM.
    deadline = time.monotonic() + args.max_seconds
    while not stop and time.monotonic() < deadline:
        for entry in conns:
            if not entry["alive"]:
                continue
            try:
                entry["client"].ping()
                entry["pongs"] += 1
            except Exception as error:  # noqa: BLE001
                entry["alive"] = False
                entry["error"] = f"{type(error).__name__}: {error}"
                entry["failed_at"] = time.time()
                entry["client"].close()
        rounds += 1
        public = [{k: v for k, v in e.items() if k != "client"} for e in conns]
        write_json(args.status, {"time": time.time(), "rounds": rounds, "conns": public})
        time.sleep(args.interval)
    for entry in conns:
        if "client" in entry:
            entry["client"].close()
    public = [{k: v for k, v in e.items() if k != "client"} for e in conns]
    write_json(args.status, {"time": time.time(), "rounds": rounds, "conns": public, "done": True})
    return 0


def cmd_storm(args):
    """A failure is a client that got no server (no greeting); a client whose server died after
    greeting it is counted apart, per server, as `dropped`."""
    addr = parse_addr(args.addr)
    ok, counts, errors, failures, dropped = 0, {}, [], 0, {}
    deadline = time.monotonic() + args.max_seconds
    while not os.path.exists(args.stop_file) and time.monotonic() < deadline:
        started = time.time()
        try:
            name = one_client(addr, args.timeout)
            ok += 1
            counts[name] = counts.get(name, 0) + 1
        except DroppedAfterGreeting as error:
            dropped[error.server] = dropped.get(error.server, 0) + 1
        except Exception as error:  # noqa: BLE001
            failures += 1
            if len(errors) < 20:
                errors.append(f"{started:.3f}: {type(error).__name__}: {error}")
        if args.progress and (ok + failures) % 10 == 1:
            write_json(args.progress, {"ok": ok, "failures": failures})
        time.sleep(args.interval)
    result = {"ok": ok, "failures": failures, "dropped": dropped, "counts": counts, "errors": errors}
    write_json(args.out, result)
    return 0


def member_states(admin):
    """{id: state} from the balancer's GET /members (what `balancer members` prints)."""
    import urllib.request

    with urllib.request.urlopen(f"http://{admin}/members", timeout=2) as response:
        data = json.load(response)
    states = {}
    for upstream in data.get("upstreams", []):
        for member in upstream.get("members", []):
            member_id = member["id"]
            states[member_id[3:] if member_id.startswith("zk:") else member_id] = member.get("state", "?")
    return states


def process_dead(pid):
    """Gone, or a zombie (a killed process nobody has reaped yet; PID 1 of a container may never)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def cmd_watch_leave(args):
    """Times a member's exit from the balancer against its server's death, both polled every
    20 ms: `not_up_ms` is when the balancer stopped listing it as up (gone, or draining until
    its last connection closes), `gone_ms` when it is no longer listed at all."""
    start = time.monotonic()
    since = lambda: round((time.monotonic() - start) * 1000)  # noqa: E731
    result = {"dead_ms": None, "not_up_ms": None, "gone_ms": None, "errors": 0}
    ready = False
    deadline = start + args.timeout
    while time.monotonic() < deadline:
        if result["dead_ms"] is None and process_dead(args.pid):
            result["dead_ms"] = since()
        try:
            state = member_states(args.admin).get(args.id)
        except Exception:  # noqa: BLE001 - a slow admin answer is retried
            result["errors"] += 1
            state = "?"
        if not ready:
            if state == "up":
                ready = True
                write_json(args.ready, {"ready": True})
        else:
            if result["not_up_ms"] is None and state != "up" and state != "?":
                result["not_up_ms"] = since()
            if result["gone_ms"] is None and state is None:
                result["gone_ms"] = since()
                break
        time.sleep(0.02)
    for key in ("not_up", "gone"):
        at, dead = result[f"{key}_ms"], result["dead_ms"]
        result[f"{key}_after_death_ms"] = at - dead if at is not None and dead is not None else None
    write_json(args.out, result)
    return 0


def cmd_members(_args):
    # {"listeners": [...], "upstreams": [{"name", "stale", "members": [{"id", "state", ...}]}]}
    data = json.load(sys.stdin)
    for upstream in data.get("upstreams", []):
        for member in upstream.get("members", []):
            # Discovered members are "zk:<record id>"; the record id is the agent's --id.
            member_id = member["id"]
            if member_id.startswith("zk:"):
                member_id = member_id[3:]
            print(member_id, member.get("state", "?"))
    return 0


def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def cmd_free_ports(args):
    """Free ports in 10000-19999 (below the kernel's ephemeral range, and below the chat ports that
    cluster.sh puts at 20000-30000): a port from bind(0) lies inside the ephemeral range, and between
    this check and the server's bind an outgoing connection or another test's bind(0) may take it."""
    import random
    low, _ = ephemeral_range()
    top = min(20000, max(low, 2048))
    rng = random.Random()
    socks, ports = [], []
    for _ in range(2000):
        if len(ports) == args.count:
            break
        port = rng.randrange(1024 if top <= 10000 else 10000, top)
        if port in ports:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
        ports.append(port)
    for s in socks:
        s.close()
    if len(ports) < args.count:
        print("free-ports: not enough free ports below %d" % top, file=sys.stderr)
        return 1
    print(" ".join(str(p) for p in ports))
    return 0



def add_pacing(p, interval, max_seconds, func):
    """The options of a command that repeats until stopped: its pace, each client's timeout, a bound."""
    p.add_argument("--interval", type=float, default=interval)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--max-seconds", type=float, default=max_seconds)
    p.set_defaults(func=func)

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sample")
    p.add_argument("--addr", required=True)
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("hold")
    p.add_argument("--addr", required=True)
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--status", required=True)
    add_pacing(p, interval=0.2, max_seconds=600, func=cmd_hold)
    p = sub.add_parser("storm")
    p.add_argument("--addr", required=True)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--progress", help="rewritten every 10 clients: {ok, failures}")
    add_pacing(p, interval=0.02, max_seconds=300, func=cmd_storm)
    p = sub.add_parser("watch-leave")
    p.add_argument("--admin", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--pid", required=True, type=int)
    p.add_argument("--ready", required=True, help="written once the member is seen up")
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.set_defaults(func=cmd_watch_leave)
    p = sub.add_parser("members")
    p.set_defaults(func=cmd_members)
    p = sub.add_parser("free-ports")
    p.add_argument("count", type=int)
    p.set_defaults(func=cmd_free_ports)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
