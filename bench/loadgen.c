// bench/loadgen.c: the load generator bench/compare uses for its rtt and connect modes.
//
//   loadgen rtt --target HOST:PORT [--connections 100] [--rate 0] [--duration 6] [--warmup 1] [--size 64]
//   loadgen connect --target HOST:PORT [--concurrency 16] [--duration 6] [--warmup 1] [--size 1]
//
// Why C and not chat-bench: at a fixed 20,000 msg/s chat-bench (SwiftNIO, a scheduled task and a
// flush per message) took a whole core of this 2-core machine, and its connect mode pays NIO's
// per-connection Channel, pipeline and promises for every cycle, so the machine was saturated and the
// figures measured its run queue more than the proxy under test. This is one thread, one epoll
// instance, no allocation after start: a read and a send per message, one epoll_pwait2 per wake-up
// with nanosecond timeouts for the pacing. It shares no code with the balancer.
//
// rtt, flat out (--rate 0): each connection has one message in flight and sends the next when the
// echo is complete. At a fixed rate the sends are spread evenly: the k-th send overall is due at
// start + k / rate and goes on connection k mod N, whatever is outstanding, and each round trip is
// timed from its *scheduled* send time, so a stalled target cannot hide its stall (coordinated
// omission). Only messages scheduled in [start + warmup, start + warmup + duration) are recorded.
//
// connect: `--concurrency` cycles at once, each a non-blocking connect, `--size` bytes sent, their
// echo awaited, close (the client closes first, as chat-bench connect does), then the next cycle.
// A cycle that fails (refused, reset, closed before the echo, 5 s without it) counts as a failure
// and its slot waits 10 ms before the next. Recorded: cycles started in the measured window.
//
// Prints one JSON object with chat-bench's field names (messagesPerSecond, rtt.p50Micros, ...;
// connectionsPerSecond, connect.p99Micros, firstEcho.p99Micros, failures) so bench/compare reads
// both alike. Exit status 1 with a message on stderr when it cannot run, or when anything failed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 10000
#define MAX_SIZE 65536
// Unanswered sends remembered per rtt connection; more outstanding than this is an error (the
// target has stalled for longer than the run can account for).
#define RING 8192

// A latency histogram: exact microseconds below 2048 µs, then 128 sub-buckets per power of two
// (under 1 % error), up to 2^40 µs.
#define LINEAR 2048
#define SUB 128
#define OCTAVES 30
struct histogram {
    uint64_t buckets[LINEAR + OCTAVES * SUB];
    uint64_t count, maxMicros;
};

static void record(struct histogram *h, uint64_t nanos) {
    uint64_t us = nanos / 1000;
    if (us > h->maxMicros) h->maxMicros = us;
    h->count++;
    if (us < LINEAR) {
        h->buckets[us]++;
        return;
    }
    int octave = 63 - __builtin_clzll(us) - 11;  // us in [2048 << octave, 4096 << octave)
    if (octave >= OCTAVES) octave = OCTAVES - 1;
    uint64_t base = (uint64_t)LINEAR << octave;
    uint64_t sub = (us - base) * SUB / base;
    if (sub >= SUB) sub = SUB - 1;
    h->buckets[LINEAR + octave * SUB + sub]++;
}

// The upper edge of a bucket, in µs, so a percentile is never reported lower than it was.
static double bucketValue(int index) {
    if (index < LINEAR) return index;
    int octave = (index - LINEAR) / SUB, sub = (index - LINEAR) % SUB;
    double base = (double)((uint64_t)LINEAR << octave);
    return base + base * (sub + 1) / SUB;
}

static double percentile(const struct histogram *h, double p) {
    if (h->count == 0) return 0;
    uint64_t rank = (uint64_t)(p * (double)h->count);
    if (rank >= h->count) rank = h->count - 1;
    uint64_t seen = 0;
    for (int i = 0; i < LINEAR + OCTAVES * SUB; i++) {
        seen += h->buckets[i];
        if (seen > rank) {
            double v = bucketValue(i);
            return v > (double)h->maxMicros ? (double)h->maxMicros : v;
        }
    }
    return (double)h->maxMicros;
}

static void printSummary(const char *name, const struct histogram *h) {
    printf("\"%s\":{\"count\":%llu,\"p50Micros\":%.1f,\"p90Micros\":%.1f,\"p99Micros\":%.1f,\"p999Micros\":%.1f,"
           "\"maxMicros\":%llu}",
           name, (unsigned long long)h->count, percentile(h, 0.5), percentile(h, 0.9), percentile(h, 0.99),
           percentile(h, 0.999), (unsigned long long)h->maxMicros);
}

static struct histogram latency, connectLatency;
static int size = -1;
static double duration = 6, warmup = 1;
static uint64_t start, measureFrom, stopAt;
static char payload[MAX_SIZE];
static char sink[1 << 16];
static struct sockaddr_in target;
static int ep;

static uint64_t now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

// Waits for events until `wake` (monotonic ns) at the latest.
static int waitUntil(struct epoll_event *events, int max, uint64_t wake) {
    uint64_t t = now(), wait = wake > t ? wake - t : 0;
    struct timespec timeout = {.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
    int n = epoll_pwait2(ep, events, max, &timeout, NULL);
    if (n < 0 && errno != EINTR) die("epoll_pwait2");
    return n < 0 ? 0 : n;
}

// --- rtt -------------------------------------------------------------------------------------------

struct conn {
    int fd;
    int unsent;            // bytes of queued messages not yet written (send hit EAGAIN)
    int partial;           // bytes of the next echo received so far
    uint32_t head, tail;   // ring of scheduled send times of unanswered messages
    uint64_t times[RING];
};

static struct conn *conns;
static int connections = 100;
static double rate = 0;  // flat out unless --rate, as chat-bench rtt
static uint64_t connectionErrors;

static void fail(struct conn *c) {
    if (c->fd < 0) return;
    connectionErrors++;
    close(c->fd);
    c->fd = -1;
}

// Writes what is queued; returns 0 when it is all written.
static int flushConn(struct conn *c) {
    while (c->unsent > 0) {
        // Every message is the same bytes, so what is queued is sent straight from `payload`.
        size_t chunk = c->unsent < MAX_SIZE ? (size_t)c->unsent : MAX_SIZE;
        ssize_t n = send(c->fd, payload, chunk, MSG_NOSIGNAL);
        if (n > 0) {
            c->unsent -= (int)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        } else {
            fail(c);
            return 1;
        }
    }
    return 0;
}

// Sends one message scheduled at `at`. A message that cannot start because earlier ones are still
// half-written waits behind them: its time is recorded all the same.
static void sendMessage(struct conn *c, uint64_t at) {
    if (c->fd < 0) return;
    if (c->tail - c->head >= RING) {
        errno = EOVERFLOW;
        die("more than 8192 messages outstanding on one connection");
    }
    c->times[c->tail % RING] = at;
    c->tail++;
    c->unsent += size;
    if (c->unsent == size) flushConn(c);  // else the bytes follow when the socket is writable
}

static void readConn(struct conn *c, uint64_t t) {
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n > 0) {
            c->partial += (int)n;
            while (c->partial >= size && c->head != c->tail) {
                c->partial -= size;
                uint64_t at = c->times[c->head % RING];
                c->head++;
                if (at >= measureFrom && at < stopAt) record(&latency, t - at);
            }
            if (rate == 0 && c->head == c->tail && t < stopAt) sendMessage(c, t);
            if ((size_t)n < sizeof sink) return;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            fail(c);  // EOF or error: an echo server never closes first
            return;
        }
    }
}

static int runRTT(void) {
    if (size < 0) size = 64;
    conns = calloc((size_t)connections, sizeof *conns);
    if (!conns) die("calloc");
    uint64_t connectFailures = 0;
    for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) die("socket");
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&target, sizeof target) != 0) {
            connectFailures++;
            close(c->fd);
            c->fd = -1;
            continue;
        }
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
    }

    start = now();
    measureFrom = start + (uint64_t)(warmup * 1e9);
    stopAt = measureFrom + (uint64_t)(duration * 1e9);
    // Answers to messages sent just before stopAt are waited for this long at most.
    uint64_t drainUntil = stopAt + 2000000000u;
    double gap = rate > 0 ? 1e9 / rate : 0;
    uint64_t k = 0;  // the next scheduled send overall
    if (rate == 0) {
        for (int i = 0; i < connections; i++) sendMessage(&conns[i], start);
    }
    struct epoll_event events[256];
    for (;;) {
        uint64_t t = now();
        if (rate > 0) {
            // Every send that is due, so the rate holds even when a wake-up is late.
            for (;;) {
                uint64_t due = start + (uint64_t)((double)k * gap);
                if (due > t || due >= stopAt) break;
                sendMessage(&conns[k % (uint64_t)connections], due);
                k++;
            }
        }
        if (t >= stopAt) {
            int outstanding = 0;
            for (int i = 0; i < connections && !outstanding; i++)
                outstanding = conns[i].fd >= 0 && conns[i].head != conns[i].tail;
            if (!outstanding || t >= drainUntil) break;
        }
        // Sleep until the next send is due (or the end), or until an echo arrives.
        uint64_t wake = rate > 0 ? start + (uint64_t)((double)k * gap) : stopAt;
        if (wake >= stopAt) wake = t < stopAt ? stopAt : drainUntil;
        int n = waitUntil(events, 256, wake);
        t = now();
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[events[i].data.u32];
            if (c->fd < 0) continue;
            if (events[i].events & EPOLLOUT && c->unsent > 0) flushConn(c);
            if (c->fd >= 0 && events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readConn(c, t);
        }
    }
    uint64_t lost = 0;
    for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        for (uint32_t j = c->head; j != c->tail; j++) {
            uint64_t at = c->times[j % RING];
            if (at >= measureFrom && at < stopAt) lost++;
        }
        if (c->fd >= 0) close(c->fd);
    }
    printf("{\"tool\":\"loadgen\",\"mode\":\"rtt\",\"connections\":%d,\"size\":%d,\"rate\":%.0f,\"durationSeconds\":%.3f,"
           "\"messagesPerSecond\":%.1f,\"completed\":%llu,\"lost\":%llu,\"connectFailures\":%llu,\"connectionErrors\":%llu,",
           connections, size, rate, duration, (double)latency.count / duration, (unsigned long long)latency.count,
           (unsigned long long)lost, (unsigned long long)connectFailures, (unsigned long long)connectionErrors);
    printSummary("rtt", &latency);
    printf("}\n");
    return connectFailures || connectionErrors ? 1 : 0;
}

// --- connect ---------------------------------------------------------------------------------------

enum { IDLE, CONNECTING, ECHOING };
struct cycle {
    int fd, state, received;
    uint32_t generation;  // tells a closed socket's late events from the next cycle's
    uint64_t startedAt, retryAt;
};

static struct cycle *cycles;
static int concurrency = 16;
static uint64_t failures, completed;
static char firstError[200];

static void cycleFailed(struct cycle *c, const char *why, int code) {
    failures++;
    if (!firstError[0]) snprintf(firstError, sizeof firstError, "%s%s%s", why, code ? ": " : "", code ? strerror(code) : "");
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->state = IDLE;
    c->retryAt = now() + 10000000u;  // a refused target must not become a busy loop
}

static void cycleDone(struct cycle *c) {
    close(c->fd);
    c->fd = -1;
    c->state = IDLE;
    c->retryAt = 0;
}

static void cycleStart(struct cycle *c, uint32_t index) {
    c->startedAt = now();
    c->received = 0;
    c->generation++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        cycleFailed(c, "socket", errno);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&target, sizeof target) != 0 && errno != EINPROGRESS) {
        cycleFailed(c, "connect", errno);
        return;
    }
    c->state = CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = (uint64_t)c->generation << 32 | index};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) cycleFailed(c, "epoll_ctl", errno);
}

static void cycleEvent(struct cycle *c, uint32_t events) {
    if (c->state == CONNECTING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            cycleFailed(c, "connect", error ? error : ECONNREFUSED);
            return;
        }
        if (!(events & EPOLLOUT)) return;
        uint64_t t = now();
        if (c->startedAt >= measureFrom && c->startedAt < stopAt) record(&connectLatency, t - c->startedAt);
        ssize_t n = send(c->fd, payload, (size_t)size, MSG_NOSIGNAL);
        if (n != size) {  // a fresh socket takes a few bytes at once
            cycleFailed(c, "send", n < 0 ? errno : EAGAIN);
            return;
        }
        c->state = ECHOING;
    }
    if (c->state != ECHOING || !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n > 0) {
            c->received += (int)n;
            if (c->received >= size) {
                if (c->startedAt >= measureFrom && c->startedAt < stopAt) {
                    record(&latency, now() - c->startedAt);
                    completed++;
                }
                cycleDone(c);
                return;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            cycleFailed(c, n == 0 ? "connection closed before the echo arrived" : "recv", n == 0 ? 0 : errno);
            return;
        }
    }
}

static int runConnect(void) {
    if (size < 0) size = 1;
    cycles = calloc((size_t)concurrency, sizeof *cycles);
    if (!cycles) die("calloc");
    start = now();
    measureFrom = start + (uint64_t)(warmup * 1e9);
    stopAt = measureFrom + (uint64_t)(duration * 1e9);
    for (int i = 0; i < concurrency; i++) cycles[i].fd = -1;
    struct epoll_event events[256];
    for (;;) {
        uint64_t t = now();
        int busy = 0;
        uint64_t wake = t < stopAt ? stopAt : t + 100000000u;
        for (int i = 0; i < concurrency; i++) {
            struct cycle *c = &cycles[i];
            if (c->state != IDLE && t - c->startedAt > 5000000000u) cycleFailed(c, "no echo within 5 s", 0);
            if (c->state == IDLE && t < stopAt) {
                if (c->retryAt <= t) cycleStart(c, (uint32_t)i);
                else if (c->retryAt < wake) wake = c->retryAt;
            }
            busy += c->state != IDLE;
        }
        if (t >= stopAt && !busy) break;
        int n = waitUntil(events, 256, wake);
        for (int i = 0; i < n; i++) {
            uint32_t index = (uint32_t)events[i].data.u64, generation = (uint32_t)(events[i].data.u64 >> 32);
            struct cycle *c = &cycles[index];
            if (c->state == IDLE || c->generation != generation) continue;
            cycleEvent(c, events[i].events);
            if (c->state == IDLE && c->retryAt == 0 && now() < stopAt) cycleStart(c, index);
        }
    }
    printf("{\"tool\":\"loadgen\",\"mode\":\"connect\",\"concurrency\":%d,\"size\":%d,\"durationSeconds\":%.3f,"
           "\"connectionsPerSecond\":%.1f,\"connections\":%llu,\"failures\":%llu,",
           concurrency, size, duration, (double)completed / duration, (unsigned long long)completed,
           (unsigned long long)failures);
    if (firstError[0]) printf("\"firstError\":\"%s\",", firstError);
    printSummary("connect", &connectLatency);
    printf(",");
    printSummary("firstEcho", &latency);
    printf("}\n");
    return failures ? 1 : 0;
}

// --- arguments -------------------------------------------------------------------------------------

static int parseTarget(const char *s, struct sockaddr_in *addr) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || colon - s >= (long)sizeof host) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) return -1;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

static double number(const char *flag, const char *value, double lo, double hi) {
    char *end;
    double v = value ? strtod(value, &end) : 0;
    if (!value || *end || v < lo || v > hi) {
        fprintf(stderr, "loadgen: %s wants a number in %g...%g\n", flag, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    int rtt = argc > 1 && !strcmp(argv[1], "rtt"), connectMode = argc > 1 && !strcmp(argv[1], "connect");
    if (!rtt && !connectMode) {
        fprintf(stderr, "usage: loadgen rtt|connect --target HOST:PORT [options] (bench/loadgen.c lists them)\n");
        return 2;
    }
    const char *address = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--target")) address = v;
        else if (!strcmp(argv[i], "--duration")) duration = number(argv[i], v, 0.1, 3600);
        else if (!strcmp(argv[i], "--warmup")) warmup = number(argv[i], v, 0, 3600);
        else if (!strcmp(argv[i], "--size")) size = (int)number(argv[i], v, 1, MAX_SIZE);
        else if (rtt && !strcmp(argv[i], "--connections")) connections = (int)number(argv[i], v, 1, MAX_CONNECTIONS);
        else if (rtt && !strcmp(argv[i], "--rate")) rate = number(argv[i], v, 0, 10000000);
        else if (connectMode && !strcmp(argv[i], "--concurrency")) concurrency = (int)number(argv[i], v, 1, MAX_CONNECTIONS);
        else if (!strcmp(argv[i], "--json")) continue;  // the only output there is
        else {
            fprintf(stderr, "loadgen %s: unknown argument '%s'\n", argv[1], argv[i]);
            return 2;
        }
        i++;
    }
    if (!address || parseTarget(address, &target) != 0) {
        fprintf(stderr, "loadgen: --target HOST:PORT (an IPv4 address) is required\n");
        return 2;
    }
    memset(payload, 'a', sizeof payload);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    return rtt ? runRTT() : runConnect();
}
