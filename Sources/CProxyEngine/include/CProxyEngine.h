#ifndef C_PROXY_ENGINE_H
#define C_PROXY_ENGINE_H

// The few Linux calls the proxy engine makes that Swift's Glibc import handles badly: the packed
// `struct epoll_event` (its layout differs between architectures), `accept4` and `SOCK_NONBLOCK`
// (behind _GNU_SOURCE), the epoll flag values (an enum plus macros), and relaxed atomics on plain
// memory for the per-worker counters. Everything here is a thin wrapper; no state lives in C.

#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const uint32_t CPE_EPOLLIN;
extern const uint32_t CPE_EPOLLOUT;
extern const uint32_t CPE_EPOLLERR;
extern const uint32_t CPE_EPOLLHUP;
extern const uint32_t CPE_EPOLLRDHUP;
extern const uint32_t CPE_EPOLLET;
extern const uint32_t CPE_EPOLLEXCLUSIVE;

/// An unpacked copy of one `struct epoll_event`.
typedef struct {
    uint32_t events;
    uint64_t data;
} cpe_event;

/// Room for `count` kernel events (packed layout), allocated once per worker.
void *cpe_events_alloc(int count);
void cpe_events_free(void *events);

int cpe_epoll_create(void);
/// epoll_ctl ADD / MOD / DEL; returns 0 or -errno.
int cpe_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int cpe_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int cpe_epoll_del(int epfd, int fd);
/// epoll_wait into `events` (from cpe_events_alloc); returns the count or -errno.
int cpe_epoll_wait(int epfd, void *events, int max, int timeout_ms);
/// The i-th event of the last wait, unpacked.
cpe_event cpe_event_at(const void *events, int index);

/// A non-blocking, close-on-exec eventfd; returns the fd or -errno.
int cpe_eventfd(void);
/// Adds 1 to an eventfd (the wake-up); read side: `cpe_eventfd_drain`.
void cpe_eventfd_signal(int fd);
void cpe_eventfd_drain(int fd);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; returns the fd or -errno.
int cpe_accept(int fd, struct sockaddr_storage *address, socklen_t *length);
/// A non-blocking, close-on-exec TCP socket; returns the fd or -errno.
int cpe_socket(int family);
/// connect; returns 0 or -errno (-EINPROGRESS while it runs).
int cpe_connect(int fd, const struct sockaddr_storage *address, socklen_t length);
/// The pending error of a socket (SO_ERROR), 0 for none.
int cpe_socket_error(int fd);
/// TCP_NODELAY on or off; returns 0 or -errno.
int cpe_set_nodelay(int fd, int on);
int cpe_get_nodelay(int fd);
/// A listening socket bound to `address`: SO_REUSEADDR, SO_REUSEPORT if asked, TCP_NODELAY as
/// given (accepted sockets inherit it), non-blocking. Returns the fd or -errno.
int cpe_listen(const struct sockaddr_storage *address, socklen_t length, int backlog, int reuseport, int nodelay);
/// The port a socket is bound to (host order), or -errno.
int cpe_local_port(int fd);

/// read and send without SIGPIPE; return the count or -errno.
long cpe_read(int fd, void *buffer, unsigned long count);
long cpe_send(int fd, const void *buffer, unsigned long count);
/// recv(MSG_PEEK): the bytes stay in the socket (a PROXY header is looked at before it is consumed).
long cpe_peek(int fd, void *buffer, unsigned long count);
/// getsockname into `address`: its length, or -errno.
int cpe_local_address(int fd, struct sockaddr_storage *address);
/// shutdown(SHUT_WR).
int cpe_shutdown_write(int fd);
void cpe_close(int fd);
/// Names the calling thread (at most 15 bytes are kept), for `top -H` and `ps -L`.
void cpe_name_thread(const char *name);
/// Bytes written to a socket that its peer has not acknowledged yet, sent or not (SIOCOUTQ); -errno.
long cpe_unacknowledged(int fd);

/// Text form of an address (inet_ntop) into `out` (at least 46 bytes); returns its length or -1.
int cpe_address_text(const struct sockaddr_storage *address, char *out, int capacity);
/// Parses a numeric IPv4 or IPv6 address and a port into `address`; returns its length or 0.
socklen_t cpe_address_parse(const char *host, int port, struct sockaddr_storage *address);
/// Resolves a host name into up to `max` distinct TCP addresses with `port` (blocking getaddrinfo:
/// the control plane's, never a worker's). Returns the count; 0 with `*gai_error` set on failure.
int cpe_address_resolve_all(const char *host, int port, struct sockaddr_storage *out, socklen_t *lengths, int max,
                            int *gai_error);
/// Sets the port of an IPv4 or IPv6 address.
void cpe_address_set_port(struct sockaddr_storage *address, int port);
/// gai_strerror's text for a getaddrinfo error.
const char *cpe_gai_text(int error);

/// Monotonic milliseconds (vDSO clock_gettime, no system call).
int64_t cpe_monotonic_ms(void);
/// Wall-clock milliseconds since the epoch (vDSO clock_gettime).
int64_t cpe_realtime_ms(void);

/// Relaxed atomic counters on plain memory: one writer (its worker), any number of readers.
void cpe_counter_add(int64_t *counter, int64_t value);
int64_t cpe_counter_load(const int64_t *counter);
/// A shared counter written by every worker (the open client connections).
int64_t cpe_shared_add(int64_t *counter, int64_t value);
void cpe_shared_store(int64_t *counter, int64_t value);

#ifdef __cplusplus
}
#endif

#endif
