// bench/rtt_load.c: the round-trip load generator bench/compare uses for its rtt modes.
//
//   rtt_load --target HOST:PORT [--connections 100] [--rate 20000] [--duration 6] [--warmup 1]
//            [--size 64]
//
// Why C and not chat-bench: at a fixed 20,000 msg/s chat-bench (SwiftNIO, a scheduled task and a
// flush per message) took a whole core of this 2-core machine, so the machine was saturated and the
// latencies measured its run queue more than the proxy under test. This is one thread, one epoll
// instance, no allocation after start: about a read and a send per message, and one epoll_pwait2
// per wake-up, with nanosecond timeouts for the pacing. It shares no code with the balancer.
//
// Flat out (--rate 0): each connection has one message in flight and sends the next when the echo
// is complete. At a fixed rate the sends are spread evenly: the k-th send overall is due at
// start + k / rate and goes on connection k mod N, whatever is outstanding, and each round trip is
// timed from its *scheduled* send time, so a stalled target cannot hide its stall (coordinated
// omission). Only messages scheduled in [start + warmup, start + warmup + duration) are recorded.
//
// Prints one JSON object with chat-bench rtt's field names (messagesPerSecond, rtt.p50Micros, ...)
// so bench/compare reads both alike. Exit status 1 with a message on stderr when it cannot run.
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
// Unanswered sends remembered per connection; more outstanding than this is an error (the target
// has stalled for longer than the run can account for).
#define RING 8192

// Latency histogram: exact microseconds below 2048 µs, then 128 sub-buckets per power of two
// (under 1 % error), up to 2^40 µs.
#define LINEAR 2048
#define SUB 128
#define OCTAVES 30
static uint64_t histogram[LINEAR + OCTAVES * SUB];
static uint64_t recorded, maxMicros;

static void record(uint64_t nanos) {
    uint64_t us = nanos / 1000;
    if (us > maxMicros) maxMicros = us;
    recorded++;
    if (us < LINEAR) {
        histogram[us]++;
        return;
    }
    int octave = 63 - __builtin_clzll(us) - 11;  // us in [2048 << octave, 4096 << octave)
    if (octave >= OCTAVES) octave = OCTAVES - 1;
    uint64_t base = (uint64_t)LINEAR << octave;
    uint64_t sub = (us - base) * SUB / base;
    if (sub >= SUB) sub = SUB - 1;
    histogram[LINEAR + octave * SUB + sub]++;
}

// The upper edge of a bucket, in µs, so a percentile is never reported lower than it was.
static double bucketValue(int index) {
    if (index < LINEAR) return index;
    int octave = (index - LINEAR) / SUB, sub = (index - LINEAR) % SUB;
    double base = (double)((uint64_t)LINEAR << octave);
    return base + base * (sub + 1) / SUB;
}

static double percentile(double p) {
    if (recorded == 0) return 0;
    uint64_t rank = (uint64_t)(p * (double)recorded);
    if (rank >= recorded) rank = recorded - 1;
    uint64_t seen = 0;
    for (int i = 0; i < LINEAR + OCTAVES * SUB; i++) {
        seen += histogram[i];
        if (seen > rank) {
            double v = bucketValue(i);
            return v > (double)maxMicros ? (double)maxMicros : v;
        }
    }
    return (double)maxMicros;
}

struct conn {
    int fd;
    int unsent;            // bytes of the current message not yet written (send hit EAGAIN)
    int partial;           // bytes of the next echo received so far
    uint32_t head, tail;   // ring of scheduled send times of unanswered messages
    uint64_t times[RING];
};

static struct conn *conns;
static int connections = 100, size = 64;
static double rate = 0, duration = 6, warmup = 1;  // flat out unless --rate, as chat-bench rtt
static uint64_t measureFrom, stopAt;
static uint64_t sent, lost, connectionErrors;
static char payload[MAX_SIZE];
static char sink[1 << 16];

static uint64_t now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "rtt_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(struct conn *c) {
    if (c->fd < 0) return;
    connectionErrors++;
    close(c->fd);
    c->fd = -1;
}

// Writes what is left of the current message; returns 0 when it is all written.
static int flushConn(struct conn *c) {
    while (c->unsent > 0) {
        ssize_t n = send(c->fd, payload + (size - c->unsent), (size_t)c->unsent, MSG_NOSIGNAL);
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

// Sends one message scheduled at `at`. A message that cannot start because the previous one is
// still half-written waits behind it: its time is recorded all the same.
static void sendMessage(struct conn *c, uint64_t at) {
    if (c->fd < 0) return;
    if (c->tail - c->head >= RING) {
        errno = EOVERFLOW;
        die("more than 8192 messages outstanding on one connection");
    }
    c->times[c->tail % RING] = at;
    c->tail++;
    sent++;
    if (c->unsent > 0) {
        // Rare (64-byte messages); the bytes follow when the socket is writable.
        c->unsent += size;
        return;
    }
    c->unsent = size;
    flushConn(c);
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
                if (at >= measureFrom && at < stopAt) record(t - at);
            }
            if (rate == 0 && c->head == c->tail && t < stopAt) sendMessage(c, t);
            if ((size_t)n < sizeof sink) return;
        } else if (n == 0) {
            fail(c);
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            fail(c);
            return;
        }
    }
}

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
        fprintf(stderr, "rtt_load: %s wants a number in %g...%g\n", flag, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--target")) target = v;
        else if (!strcmp(argv[i], "--connections")) connections = (int)number(argv[i], v, 1, MAX_CONNECTIONS);
        else if (!strcmp(argv[i], "--rate")) rate = number(argv[i], v, 0, 10000000);
        else if (!strcmp(argv[i], "--duration")) duration = number(argv[i], v, 0.1, 3600);
        else if (!strcmp(argv[i], "--warmup")) warmup = number(argv[i], v, 0, 3600);
        else if (!strcmp(argv[i], "--size")) size = (int)number(argv[i], v, 1, MAX_SIZE);
        else if (!strcmp(argv[i], "--json")) continue;  // the only output there is
        else {
            fprintf(stderr, "rtt_load: unknown argument '%s'\n", argv[i]);
            return 2;
        }
        i++;
    }
    struct sockaddr_in addr;
    if (!target || parseTarget(target, &addr) != 0) {
        fprintf(stderr, "rtt_load: --target HOST:PORT (an IPv4 address) is required\n");
        return 2;
    }
    memset(payload, 'a', sizeof payload);
    conns = calloc((size_t)connections, sizeof *conns);
    if (!conns) die("calloc");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    uint64_t connectFailures = 0;
    for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) die("socket");
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            connectFailures++;
            close(c->fd);
            c->fd = -1;
            continue;
        }
        if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
    }

    uint64_t start = now();
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
        uint64_t wait = wake > t ? wake - t : 0;
        struct timespec timeout = {.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
        int n = epoll_pwait2(ep, events, 256, &timeout, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait2");
        }
        t = now();
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[events[i].data.u32];
            if (c->fd < 0) continue;
            if (events[i].events & EPOLLOUT && c->unsent > 0) flushConn(c);
            if (c->fd >= 0 && events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readConn(c, t);
        }
    }
    for (int i = 0; i < connections; i++) {
        struct conn *c = &conns[i];
        for (uint32_t j = c->head; j != c->tail; j++) {
            uint64_t at = c->times[j % RING];
            if (at >= measureFrom && at < stopAt) lost++;
        }
        if (c->fd >= 0) close(c->fd);
    }
    printf("{\"tool\":\"rtt_load\",\"connections\":%d,\"size\":%d,\"rate\":%.0f,\"duration\":%.3f,"
           "\"messagesPerSecond\":%.1f,\"completed\":%llu,\"lost\":%llu,\"sent\":%llu,"
           "\"connectFailures\":%llu,\"connectionErrors\":%llu,"
           "\"rtt\":{\"p50Micros\":%.1f,\"p90Micros\":%.1f,\"p99Micros\":%.1f,\"p999Micros\":%.1f,\"maxMicros\":%llu}}\n",
           connections, size, rate, duration, (double)recorded / duration, (unsigned long long)recorded,
           (unsigned long long)lost, (unsigned long long)sent, (unsigned long long)connectFailures,
           (unsigned long long)connectionErrors, percentile(0.5), percentile(0.9), percentile(0.99),
           percentile(0.999), (unsigned long long)maxMicros);
    return connectFailures || connectionErrors ? 1 : 0;
}
