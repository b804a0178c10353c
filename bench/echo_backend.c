// bench/echo_backend.c: the echo server bench/compare puts behind every proxy it measures.
//
//   echo_backend --listen HOST:PORT
//
// Why C and not `chat-server --echo`: on this 2-core machine the three SwiftNIO echo servers took
// about a core between them at 20,000 msg/s, the load generator another, and the proxy under test
// waited in the run queue. This is one thread and one edge-triggered epoll instance: a read and a
// send per message. What a client does not take is kept (a buffer per connection, allocated only
// then) and reading that connection pauses until it is written, so bulk streams are echoed whole.
// An idle connection costs its socket and a 16-byte record. It shares no code with the balancer.
//
// Runs until killed (SIGTERM). Exit status 1 with a message on stderr when it cannot listen.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)

struct conn {
    char *pending;  // bytes read but not yet echoed (NULL when none)
    uint32_t start, end;
};

static struct conn *conns;  // indexed by descriptor
static int maxFD;
static char buffer[READ_SIZE];

static void closeConn(int fd) {
    free(conns[fd].pending);
    conns[fd] = (struct conn){0};
    close(fd);
}

// Writes what waits for `fd`; returns 1 when all of it is written.
static int flushPending(int fd) {
    struct conn *c = &conns[fd];
    while (c->start < c->end) {
        ssize_t n = send(fd, c->pending + c->start, c->end - c->start, MSG_NOSIGNAL);
        if (n > 0) {
            c->start += (uint32_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            closeConn(fd);
            return 0;
        }
    }
    free(c->pending);
    *c = (struct conn){0};
    return 1;
}

static void echo(int fd) {
    for (;;) {
        if (conns[fd].pending) return;  // paused until what it has is written
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            ssize_t written = 0;
            while (written < n) {
                ssize_t w = send(fd, buffer + written, (size_t)(n - written), MSG_NOSIGNAL);
                if (w > 0) {
                    written += w;
                } else if (w < 0 && errno == EINTR) {
                    continue;
                } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    break;
                } else {
                    closeConn(fd);
                    return;
                }
            }
            if (written < n) {
                struct conn *c = &conns[fd];
                c->pending = malloc(READ_SIZE);
                if (!c->pending) {
                    closeConn(fd);
                    return;
                }
                memcpy(c->pending, buffer + written, (size_t)(n - written));
                c->start = 0;
                c->end = (uint32_t)(n - written);
                return;
            }
            if (n < (ssize_t)sizeof buffer) return;  // drained: the next bytes bring a new edge
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            closeConn(fd);  // EOF or error: the client is done
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--listen") != 0) {
        fprintf(stderr, "usage: echo_backend --listen HOST:PORT\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET};
    char host[64];
    const char *colon = strrchr(argv[2], ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (!colon || colon - argv[2] >= (long)sizeof host || port < 1 || port > 65535) {
        fprintf(stderr, "echo_backend: --listen wants HOST:PORT, not '%s'\n", argv[2]);
        return 2;
    }
    memcpy(host, argv[2], (size_t)(colon - argv[2]));
    host[colon - argv[2]] = 0;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "echo_backend: '%s' is not an IPv4 address\n", host);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = 1024;
    maxFD = limit.rlim_cur > 1048576 ? 1048576 : (int)limit.rlim_cur;
    conns = calloc((size_t)maxFD, sizeof *conns);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0) {
        fprintf(stderr, "echo_backend: cannot listen on %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    if (!conns || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0) {
        fprintf(stderr, "echo_backend: setup failed: %s\n", strerror(errno));
        return 1;
    }
    struct epoll_event events[512];
    for (;;) {
        int n = epoll_wait(ep, events, 512, -1);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "echo_backend: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                for (int accepted = 0; accepted < 256; accepted++) {
                    int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (client < 0) break;  // EAGAIN, or EMFILE: the rest wait in the backlog
                    if (client >= maxFD) {
                        close(client);
                        continue;
                    }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = client};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, client, &cev) != 0) close(client);
                }
                continue;
            }
            if (conns[fd].pending) {
                // Reading was paused for this: once it is written, read what waited meanwhile
                // (its edge came while paused).
                if (events[i].events & EPOLLOUT && flushPending(fd)) echo(fd);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) echo(fd);
        }
    }
}
