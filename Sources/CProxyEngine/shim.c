#define _GNU_SOURCE
#include "CProxyEngine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

const uint32_t CPE_EPOLLIN = EPOLLIN;
const uint32_t CPE_EPOLLOUT = EPOLLOUT;
const uint32_t CPE_EPOLLERR = EPOLLERR;
const uint32_t CPE_EPOLLHUP = EPOLLHUP;
const uint32_t CPE_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t CPE_EPOLLET = EPOLLET;
#ifdef EPOLLEXCLUSIVE
const uint32_t CPE_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;
#else
const uint32_t CPE_EPOLLEXCLUSIVE = 1u << 28;
#endif

void *cpe_events_alloc(int count) { return calloc((size_t)count, sizeof(struct epoll_event)); }
void cpe_events_free(void *events) { free(events); }

int cpe_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event) < 0 ? -errno : 0;
}

int cpe_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return ctl(epfd, EPOLL_CTL_ADD, fd, events, data); }
int cpe_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) { return ctl(epfd, EPOLL_CTL_MOD, fd, events, data); }
int cpe_epoll_del(int epfd, int fd) { return ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0); }

int cpe_epoll_wait(int epfd, void *events, int max, int timeout_ms) {
    int n = epoll_wait(epfd, (struct epoll_event *)events, max, timeout_ms);
    return n < 0 ? -errno : n;
}

cpe_event cpe_event_at(const void *events, int index) {
    const struct epoll_event *event = ((const struct epoll_event *)events) + index;
    cpe_event out;
    out.events = event->events;
    out.data = event->data.u64;
    return out;
}

int cpe_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void cpe_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof one);
    (void)ignored;
}

void cpe_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof value);
    (void)ignored;
}

int cpe_accept(int fd, struct sockaddr_storage *address, socklen_t *length) {
    *length = sizeof *address;
    int client = accept4(fd, (struct sockaddr *)address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return client < 0 ? -errno : client;
}

int cpe_socket(int family) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int cpe_connect(int fd, const struct sockaddr_storage *address, socklen_t length) {
    return connect(fd, (const struct sockaddr *)address, length) < 0 ? -errno : 0;
}

int cpe_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0) return errno;
    return error;
}

int cpe_set_nodelay(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0 ? -errno : 0;
}

int cpe_get_nodelay(int fd) {
    int on = 0;
    socklen_t length = sizeof on;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &length) < 0) return -errno;
    return on;
}

int cpe_listen(const struct sockaddr_storage *address, socklen_t length, int backlog, int reuseport, int nodelay) {
    int fd = socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) goto fail;
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) goto fail;
    if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) goto fail;
    if (bind(fd, (const struct sockaddr *)address, length) < 0) goto fail;
    if (listen(fd, backlog) < 0) goto fail;
    return fd;
fail:;
    int error = errno;
    close(fd);
    return -error;
}

int cpe_local_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) return -errno;
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return ntohs(((struct sockaddr_in *)&address)->sin_port);
}

long cpe_read(int fd, void *buffer, unsigned long count) {
    ssize_t n = read(fd, buffer, count);
    return n < 0 ? -errno : n;
}

long cpe_peek(int fd, void *buffer, unsigned long count) {
    ssize_t n = recv(fd, buffer, count, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 ? -errno : n;
}

int cpe_local_address(int fd, struct sockaddr_storage *address) {
    socklen_t length = sizeof *address;
    return getsockname(fd, (struct sockaddr *)address, &length) < 0 ? -errno : (int)length;
}

long cpe_send(int fd, const void *buffer, unsigned long count) {
    ssize_t n = send(fd, buffer, count, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n < 0 ? -errno : n;
}

int cpe_shutdown_write(int fd) { return shutdown(fd, SHUT_WR) < 0 ? -errno : 0; }
void cpe_close(int fd) { close(fd); }

void cpe_name_thread(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = 0;
    pthread_setname_np(pthread_self(), shortened);
}

long cpe_unacknowledged(int fd) {
    int bytes = 0;
    return ioctl(fd, SIOCOUTQ, &bytes) < 0 ? -errno : bytes;
}

int cpe_address_text(const struct sockaddr_storage *address, char *out, int capacity) {
    const void *raw;
    if (address->ss_family == AF_INET) raw = &((const struct sockaddr_in *)address)->sin_addr;
    else if (address->ss_family == AF_INET6) raw = &((const struct sockaddr_in6 *)address)->sin6_addr;
    else return -1;
    if (inet_ntop(address->ss_family, raw, out, (socklen_t)capacity) == NULL) return -1;
    return (int)strlen(out);
}

socklen_t cpe_address_parse(const char *host, int port, struct sockaddr_storage *address) {
    memset(address, 0, sizeof *address);
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return sizeof *v4;
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return sizeof *v6;
    }
    return 0;
}

int cpe_address_resolve_all(const char *host, int port, struct sockaddr_storage *out, socklen_t *lengths, int max,
                            int *gai_error) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    struct addrinfo *found = NULL;
    int error = getaddrinfo(host, NULL, &hints, &found);
    *gai_error = error;
    if (error != 0) return 0;
    int count = 0;
    for (struct addrinfo *at = found; at != NULL && count < max; at = at->ai_next) {
        if (at->ai_family != AF_INET && at->ai_family != AF_INET6) continue;
        if (at->ai_addrlen > sizeof out[count]) continue;
        memset(&out[count], 0, sizeof out[count]);
        memcpy(&out[count], at->ai_addr, at->ai_addrlen);
        if (at->ai_family == AF_INET6) ((struct sockaddr_in6 *)&out[count])->sin6_port = htons((uint16_t)port);
        else ((struct sockaddr_in *)&out[count])->sin_port = htons((uint16_t)port);
        // getaddrinfo repeats an address once per socket type or protocol on some systems: once is enough.
        int seen = 0;
        for (int i = 0; i < count && !seen; i++) {
            seen = lengths[i] == at->ai_addrlen && memcmp(&out[i], &out[count], at->ai_addrlen) == 0;
        }
        if (seen) continue;
        lengths[count] = at->ai_addrlen;
        count++;
    }
    freeaddrinfo(found);
    return count;
}

const char *cpe_gai_text(int error) { return gai_strerror(error); }

void cpe_address_set_port(struct sockaddr_storage *address, int port) {
    if (address->ss_family == AF_INET6) ((struct sockaddr_in6 *)address)->sin6_port = htons((uint16_t)port);
    else if (address->ss_family == AF_INET) ((struct sockaddr_in *)address)->sin_port = htons((uint16_t)port);
}

int64_t cpe_monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t cpe_realtime_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void cpe_counter_add(int64_t *counter, int64_t value) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + value, __ATOMIC_RELAXED);
}

int64_t cpe_counter_load(const int64_t *counter) { return __atomic_load_n(counter, __ATOMIC_RELAXED); }

int64_t cpe_shared_add(int64_t *counter, int64_t value) {
    return __atomic_add_fetch(counter, value, __ATOMIC_RELAXED);
}

void cpe_shared_store(int64_t *counter, int64_t value) { __atomic_store_n(counter, value, __ATOMIC_RELAXED); }
