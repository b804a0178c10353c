#!/usr/bin/env python3
"""At least 1,000 malformed configs through the real `balancer check` binary.

Generated deterministically (seeded) from mutations of the valid configs in Fuzz/Corpus/config:
byte flips, truncations, huge numbers, huge tokens, control bytes, invalid UTF-8, overflowing
durations, deep nesting, duplicated and dropped lines. Each run must end in exit 0, or exit 1 with
`FILE:LINE:COL: message` on stderr; never a signal, never a hang (a timeout per run).

usage: Fuzz/malformed-configs.py [--binary .build/debug/balancer] [--count 1200] [--seed 9]
A failing input is kept in Fuzz/.build/malformed-failures/ and named in the output.
"""
import argparse, concurrent.futures, os, random, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

def seeds():
    corpus = os.path.join(HERE, "Corpus", "config")
    out = []
    for name in sorted(os.listdir(corpus)):
        if name.startswith("valid") or name in ("nginx-stream.conf", "deploy-balancer.conf"):
            with open(os.path.join(corpus, name), "rb") as f:
                out.append(f.read())
    return out

DURATION_KEYS = [b"proxy_timeout ", b"proxy_connect_timeout ", b"fail_timeout=", b"session_timeout=", b"proxy_next_upstream_timeout "]
HUGE_NUMBERS = [b"9223372036854775807", b"18446744073709551616", b"99999999999999999999999999", b"-1", b"0", b"4294967296", b"65536", b"2147483648"]
HUGE_DURATIONS = [b"1w106751991167d", b"9223372036854775807h", b"106751991167d", b"367d", b"1y1y", b"99999999999999y", b"1.5s", b"9223372036854775807ms"]

def mutate(rng, text):
    data = bytearray(text)
    kind = rng.randrange(14)
    if kind == 0 and data:  # byte flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data)); data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        data = data[:rng.randrange(len(data) + 1)]
    elif kind == 2:  # huge numbers in place of digits
        spans = [m.span() for m in re.finditer(rb"\d+", bytes(data))]
        if spans:
            a, b = rng.choice(spans); data[a:b] = rng.choice(HUGE_NUMBERS)
    elif kind == 3:  # huge tokens
        spans = [m.span() for m in re.finditer(rb"[A-Za-z_]+", bytes(data))]
        if spans:
            a, b = rng.choice(spans); data[a:b] = bytes([rng.choice(b"ax9.:/")]) * rng.choice([1000, 1000, 10_000, 100_000, 100_000, 1_000_000])
    elif kind == 4 and data:  # control bytes
        for _ in range(rng.randint(1, 4)):
            data.insert(rng.randrange(len(data) + 1), rng.choice([0, 1, 7, 8, 11, 12, 27, 127, 0x85]))
    elif kind == 5 and data:  # invalid UTF-8
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data) + 1):0] = rng.choice([b"\xff", b"\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"])
    elif kind == 6:  # overflowing durations
        for key in DURATION_KEYS:
            data = bytearray(re.sub(re.escape(key) + rb"[^;\s]+", key + rng.choice(HUGE_DURATIONS), bytes(data)))
        data = bytearray(re.sub(rb"(server \{)", rb"\1 proxy_timeout " + rng.choice(HUGE_DURATIONS) + b";", bytes(data), count=1))
    elif kind == 7:  # deep nesting
        depth = rng.choice([15, 16, 17, 100, 10_000])
        data = bytearray(b"stream { " + b"a { " * depth + b"} " * rng.choice([depth, depth - 1, 0]) + b"}") + data
    elif kind == 8:  # duplicate or drop lines
        lines = bytes(data).split(b"\n")
        if lines:
            i = rng.randrange(len(lines))
            if rng.random() < 0.5: lines.insert(i, lines[i])
            else: del lines[i]
        data = bytearray(b"\n".join(lines))
    elif kind == 9 and data:  # structural characters
        for _ in range(rng.randint(1, 6)):
            data.insert(rng.randrange(len(data) + 1), rng.choice(b"{};\"'\\#$"))
    elif kind == 10:  # hostile addresses
        data = bytearray(re.sub(rb"listen [^;]+", rng.choice([b"listen 256.256.256.256:1", b"listen localhost:1", b"listen [::1", b"listen :", b"listen 99999", b"listen [::]:0 backlog=99999999999"]), bytes(data), count=1))
        data = bytearray(re.sub(rb"zookeeper [^ ;]+", rng.choice([b"zookeeper zk1", b"zookeeper h:1//", b"zookeeper ,", b"zookeeper [::1]:2181/a/..", b"zookeeper h:+1"]), bytes(data), count=1))
    elif kind == 11:  # hostile paths and names
        data = bytearray(re.sub(rb"path=[^ ;]+", rng.choice([b"path=/svc/..", b"path=/a//b", b'"path=/a\\nb"', b"path=", b"path=/" + b"x" * 100_000]), bytes(data)))
    elif kind == 12 and data:  # splice two seeds' halves
        i = rng.randrange(len(data) + 1); data = data[:i] + data[rng.randrange(len(data) + 1):]
    else:  # random bytes
        data = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 512)))
    if rng.random() < 0.3:
        return mutate(rng, bytes(data))
    return bytes(data)

def check(binary, path, timeout):
    started = time.monotonic()
    try:
        result = subprocess.run([binary, "check", "--config", path], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang (no answer within %d s)" % timeout, time.monotonic() - started
    if result.returncode < 0:
        return "killed by signal %d" % -result.returncode, time.monotonic() - started
    if result.returncode == 0:
        return None, time.monotonic() - started
    err = result.stderr.decode("utf-8", "replace")
    if result.returncode == 1 and re.search(r"^balancer: " + re.escape(path) + r":\d+:\d+: ", err, re.M):
        if len(err) > 4096:
            return "error output of %d bytes (a token is not cut)" % len(err), time.monotonic() - started
        return None, time.monotonic() - started
    return "exit %d without FILE:LINE:COL: %s" % (result.returncode, err[:300]), time.monotonic() - started

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "balancer"))
    parser.add_argument("--count", type=int, default=1100)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--timeout", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit("malformed-configs: no balancer binary at %s (swift build first)" % args.binary)
    rng = random.Random(args.seed)
    bases = seeds()
    work = tempfile.mkdtemp(prefix="muster-malformed-")
    failures_dir = os.path.join(HERE, ".build", "malformed-failures")
    paths = []
    for n in range(args.count):
        path = os.path.join(work, "m%04d.conf" % n)
        with open(path, "wb") as f:
            f.write(mutate(rng, rng.choice(bases)))
        paths.append(path)
    started = time.monotonic()
    outcomes = {"ok": 0, "error": 0}
    failures = []
    slowest = 0.0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for path, (problem, seconds) in zip(paths, pool.map(lambda p: check(args.binary, p, args.timeout), paths)):
            slowest = max(slowest, seconds)
            if problem:
                os.makedirs(failures_dir, exist_ok=True)
                kept = os.path.join(failures_dir, os.path.basename(path))
                shutil.copy(path, kept)
                failures.append("%s: %s" % (kept, problem))
    shutil.rmtree(work, ignore_errors=True)
    print("malformed-configs: %d configs (seed %d) through balancer check in %.1f s, slowest %.2f s, %d failures"
          % (args.count, args.seed, time.monotonic() - started, slowest, len(failures)))
    for line in failures[:20]:
        print("  " + line)
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
