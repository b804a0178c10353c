#!/usr/bin/env python3
"""bench/engine_counts.py: counts, not timings, for the balancer's data path, against nginx.

  bench/engine_counts.py [--small N] [--large N] [--no-nginx] [--instructions | --only-instructions] [--valgrind PATH]
                         [--multi-accept on|off] [--balancer PATH]

Runs the release `balancer` (and nginx's stream proxy) twice, with a small and a large amount of
work from a sequential client on loopback, and divides the difference of the two totals by the
difference of the work, so start-up and shutdown cancel out:

- heap allocations per forwarded message: the whole process's malloc/calloc/realloc/posix_memalign
  calls, counted by bench/malloc_count.c (LD_PRELOAD); one proxied connection, 64-byte messages
  echoed through it;
- system calls per proxied connection and per message (`strace -f -c`): connect, send 1 byte, read
  the echo, close, one at a time.

- with --instructions: instructions per proxied connection (the same connect, 1 byte, close) and per
  echoed message (the 64-byte messages above, both ways through the proxy), the
  whole process's, counted by valgrind's cachegrind (`--cache-sim=no`: instruction counts only). They
  need valgrind 3.20 or newer: 3.19 (bookworm's) stops on the Swift 6.3 binaries' DWARF 5 debug info.
  Give one with --valgrind PATH (for example a trixie valgrind .deb unpacked with `dpkg -x` into /tmp;
  VALGRIND_LIB is set to its libexec folder). `perf stat` has no counters on this VM.

These are counts, not timings: they repeat on a loaded machine.
"""
import argparse, os, re, signal, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BALANCER = os.path.join(ROOT, ".build", "release", "balancer")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def echo_backend(listener):
    def serve(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def wait_port(port, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def messages(port, count):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"m" * 64
    for _ in range(count):
        s.sendall(payload)
        got = 0
        while got < 64:
            chunk = s.recv(64 - got)
            if not chunk:
                raise RuntimeError("closed")
            got += len(chunk)
    s.close()


def connections(port, count):
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise RuntimeError("no echo")
        s.close()


def run(command, port, work, count, tool, parse):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        prefix, env = tool(out)
        proc = subprocess.Popen(prefix + command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, **env})
        try:
            if not wait_port(port):
                raise RuntimeError("proxy did not start: " + " ".join(prefix + command))
            work(port, 10)
            work(port, count)
            time.sleep(0.5)
        finally:
            # Under strace, the proxy is strace's child: it gets the signal.
            target = proc.pid
            try:
                children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
                if prefix and children:
                    target = int(children[0])
            except OSError:
                pass
            os.kill(target, signal.SIGTERM)
            proc.wait(timeout=120)
        time.sleep(0.2)
        return parse(out)


MALLOC_SO = "/tmp/malloc_count.so"


def malloc_tool(out):
    return [], {"LD_PRELOAD": MALLOC_SO, "MALLOC_COUNT_FILE": out}


def malloc_parse(out):
    return int(open(out).read().strip())


def strace_tool(out):
    return ["strace", "-f", "-c", "-o", out], {}


# Per system call, the calls of each strace run in order (per_unit prints the difference).
STRACE_TABLES = []


def strace_parse(out):
    table = {}
    for line in open(out):
        fields = line.split()
        if len(fields) >= 5 and fields[-1] != "total" and fields[3].isdigit():
            table[fields[-1]] = int(fields[3])
    STRACE_TABLES.append(table)
    for line in open(out):
        fields = line.split()
        if fields and fields[-1] == "total":
            # "100.00 0.001 1 1234 56 total": calls is the fourth column (errors may be missing)
            numbers = [f for f in fields[:-1]]
            return int(numbers[3]) if len(numbers) >= 4 else int(numbers[-1])
    raise RuntimeError("no strace total in " + out)


VALGRIND = ["valgrind"]


SIGSUSPEND_SO = "/tmp/valgrind_sigsuspend.so"


def cachegrind_tool(out):
    return VALGRIND + ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=" + out], {}


def cachegrind_balancer_tool(out):
    # valgrind passes LD_PRELOAD on to the program (bench/valgrind_sigsuspend.c says why).
    prefix, env = cachegrind_tool(out)
    return prefix, {**env, "LD_PRELOAD": SIGSUSPEND_SO}


def cachegrind_parse(out):
    for line in open(out):
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError("no cachegrind summary in " + out)


def per_unit(label, command, port, work, small, large, tool_args, parse):
    a = run(command, port, work, small, tool_args, parse)
    b = run(command, port, work, large, tool_args, parse)
    value = (b - a) / (large - small)
    print(f"{label}: {a} at {small}, {b} at {large}: {value:.2f} per unit", flush=True)
    if parse is strace_parse and len(STRACE_TABLES) >= 2:
        first, second = STRACE_TABLES[-2], STRACE_TABLES[-1]
        for name in sorted(set(first) | set(second)):
            each = (second.get(name, 0) - first.get(name, 0)) / (large - small)
            if abs(each) >= 0.05:
                print(f"    {name}: {each:.2f} per unit", flush=True)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2200)
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per proxied connection (cachegrind)")
    parser.add_argument("--only-instructions", action="store_true", help="count instructions only")
    parser.add_argument("--valgrind", default="valgrind", help="valgrind 3.20+ (see above)")
    parser.add_argument("--multi-accept", choices=["on", "off"],
                        help="events { multi_accept ...; } for the balancer (and nginx); default: none written")
    parser.add_argument("--balancer", default=BALANCER, help="the balancer binary (default: this tree's release build)")
    args = parser.parse_args()
    if args.only_instructions:
        args.instructions = True
    VALGRIND[0] = args.valgrind
    if args.valgrind != "valgrind":
        libexec = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.valgrind))), "libexec", "valgrind")
        if os.path.isdir(libexec):
            os.environ["VALGRIND_LIB"] = libexec

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    backend = listener.getsockname()[1]
    threading.Thread(target=echo_backend, args=(listener,), daemon=True).start()

    tmp = tempfile.mkdtemp()
    port, admin = free_port(), free_port()
    multi = "" if args.multi_accept is None else " multi_accept %s;" % args.multi_accept
    events = "events {%s }\n" % multi if multi else ""
    conf = os.path.join(tmp, "balancer.conf")
    with open(conf, "w") as f:
        f.write("worker_processes 1;\n%sstream {\n  upstream u { server 127.0.0.1:%d; }\n"
                "  server { listen 127.0.0.1:%d; proxy_pass u; }\n}\n" % (events, backend, port))
    balancer = [args.balancer, "run", "--config", conf, "--admin", "127.0.0.1:%d" % admin, "--log-level", "error"]

    subprocess.check_call(["gcc", "-O2", "-shared", "-fPIC", "-o", MALLOC_SO,
                           os.path.join(ROOT, "bench", "malloc_count.c"), "-ldl"])
    # What is counted, each as (what per unit, label, workload, tool, parser); nginx gets the same.
    mallocs = [("heap allocations per forwarded message", "mallocs, messages", messages, malloc_tool, malloc_parse),
               ("heap allocations per proxied connection", "mallocs, connections", connections, malloc_tool,
                malloc_parse)]
    syscalls = [("system calls per proxied connection", "strace, connections", connections, strace_tool, strace_parse),
                ("system calls per echoed message", "strace, messages", messages, strace_tool, strace_parse)]
    results = {}

    def count(name, command, port, what):
        for key, label, workload, tool, parse in what:
            results[f"{name} {key}"] = per_unit(
                f"{name} {label}", command, port, workload, args.small, args.large, tool, parse)

    if not args.only_instructions:
        count("muster", balancer, port, mallocs + syscalls)
    if args.instructions:
        subprocess.check_call(["gcc", "-O2", "-shared", "-fPIC", "-o", SIGSUSPEND_SO,
                               os.path.join(ROOT, "bench", "valgrind_sigsuspend.c")])
        count("muster", balancer, port, [("instructions per proxied connection", "instructions, connections",
                                          connections, cachegrind_balancer_tool, cachegrind_parse),
                                         ("instructions per echoed message", "instructions, messages",
                                          messages, cachegrind_balancer_tool, cachegrind_parse)])
    if not args.no_nginx:
        nport = free_port()
        nconf = os.path.join(tmp, "nginx.conf")
        with open(nconf, "w") as f:
            f.write("load_module /usr/lib/nginx/modules/ngx_stream_module.so;\ndaemon off;\nmaster_process off;\nworker_processes 1;\nerror_log %s/nginx.err;\npid %s/nginx.pid;\n"
                    "events { worker_connections 1024;%s }\nstream {\n  upstream u { server 127.0.0.1:%d; }\n"
                    "  server { listen 127.0.0.1:%d; proxy_pass u; }\n}\n" % (tmp, tmp, multi, backend, nport))
        nginx = ["/usr/sbin/nginx", "-c", nconf, "-p", tmp]
        if not args.only_instructions:
            count("nginx", nginx, nport, syscalls)
        if args.instructions:
            count("nginx", nginx, nport, [("instructions per proxied connection", "instructions, connections",
                                           connections, cachegrind_tool, cachegrind_parse),
                                          ("instructions per echoed message", "instructions, messages",
                                           messages, cachegrind_tool, cachegrind_parse)])
    print()
    for key, value in results.items():
        print(f"| {key} | {value:.1f} |")


if __name__ == "__main__":
    main()
