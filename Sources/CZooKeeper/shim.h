#ifndef MUSTER_CZOOKEEPER_SHIM_H
#define MUSTER_CZOOKEEPER_SHIM_H

// The asynchronous and multi-threaded half of the API is only declared when THREADED is set.
#ifndef THREADED
#define THREADED 1
#endif
#include <zookeeper/zookeeper.h>
#include <stdio.h>

// ZooKeeper's constants are `extern const int` / mutable globals, which Swift 6 strict concurrency
// refuses to read directly. These accessors return copies.
static inline int muster_zoo_ephemeral(void) { return ZOO_EPHEMERAL; }
static inline int muster_zoo_sequence(void) { return ZOO_SEQUENCE; }
static inline int muster_zoo_persistent(void) { return ZOO_PERSISTENT; }

static inline int muster_state_expired(void) { return ZOO_EXPIRED_SESSION_STATE; }
static inline int muster_state_auth_failed(void) { return ZOO_AUTH_FAILED_STATE; }
static inline int muster_state_connecting(void) { return ZOO_CONNECTING_STATE; }
static inline int muster_state_associating(void) { return ZOO_ASSOCIATING_STATE; }
static inline int muster_state_connected(void) { return ZOO_CONNECTED_STATE; }
static inline int muster_state_readonly(void) { return ZOO_READONLY_STATE; }
static inline int muster_state_notconnected(void) { return ZOO_NOTCONNECTED_STATE; }

static inline int muster_event_created(void) { return ZOO_CREATED_EVENT; }
static inline int muster_event_deleted(void) { return ZOO_DELETED_EVENT; }
static inline int muster_event_changed(void) { return ZOO_CHANGED_EVENT; }
static inline int muster_event_child(void) { return ZOO_CHILD_EVENT; }
static inline int muster_event_session(void) { return ZOO_SESSION_EVENT; }
static inline int muster_event_notwatching(void) { return ZOO_NOTWATCHING_EVENT; }

static inline int muster_perm_read(void) { return ZOO_PERM_READ; }
static inline int muster_perm_write(void) { return ZOO_PERM_WRITE; }
static inline int muster_perm_create(void) { return ZOO_PERM_CREATE; }
static inline int muster_perm_delete(void) { return ZOO_PERM_DELETE; }
static inline int muster_perm_admin(void) { return ZOO_PERM_ADMIN; }
static inline int muster_perm_all(void) { return ZOO_PERM_ALL; }

// The C client logs to stderr by default; Muster routes it nowhere and logs through swift-log.
static inline void muster_zoo_quiet(void) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
}
static inline void muster_zoo_silence(void) {
    zoo_set_debug_level((ZooLogLevel)0);
}

#endif
