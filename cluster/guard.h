/* The guard in front of Raft's port. Private to cluster/.
 *
 * With TLS contexts (cluster__guard_options), every Raft connection is mutual TLS first:
 * the accepting side demands a certificate from the cluster's CA, the connecting side checks
 * that the other's names the member called, and what follows runs inside TLS. Then, TLS or
 * not, every Raft connection goes on with a handshake of ours, before raft sees a byte of
 * it (under TLS the accepting side also checks that the client certificate names the
 * HELLO's `from`; the key may be empty, the certificates proving membership):
 *
 *   connecting side                           accepting side
 *   HELLO: magic, version, its member id,  ─►  checks the MAC, that `to` is itself and that
 *          the id it calls, nonce A, MAC        `from` is a member other than itself
 *                                          ◄─  CHALLENGE: nonce B, MAC over HELLO and B
 *   checks the MAC (the other side holds
 *   the secret, and answered this HELLO)
 *   PROOF: MAC over HELLO and CHALLENGE    ─►  checks the MAC (the caller holds the secret
 *   raft_uv_tcp's own handshake            ─►  and answered this CHALLENGE: a replayed
 *   Raft messages                          ─►  HELLO and PROOF fail on a fresh nonce B)
 *
 * Every MAC is HMAC-SHA256 keyed with the cluster secret over a label naming the message,
 * so that no MAC of one kind serves as another. All integers are big-endian; names are
 * NUL-padded to ENGINE_NAME_MAX bytes.
 *
 * Then raft_uv_tcp's handshake (raft 0.15, src/uv_tcp_connect.c): protocol 1, the sender's
 * Raft id and the length of its address, as three little-endian u64, then the address,
 * NUL-terminated and padded to a multiple of 8. We send the member's whole address
 * ("raft|api|id", as in Raft's configuration, so that raft answers a message through the
 * connection it already has to that member rather than open one to another address). The
 * accepting side checks it (the id is the one the member's name maps to; the address is
 * short, and names that member) before raft reads it.
 *
 * After the handshakes, what flows to raft is checked message by message against raft's
 * framing (raft 0.15, src/uv_encoding.c): a 16-byte preamble (type, header length), the
 * header, and a payload whose length the header gives. cluster__frames checks each header
 * is as long as raft will read from it and each message no larger than a maximum; it does
 * not look inside entries or snapshots. */
#ifndef CD_CLUSTER_GUARD_H
#define CD_CLUSTER_GUARD_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "engine/engine.h"
#include "net/net.h"

/* ---- Handshake codec (guard.c) -------------------------------------------------------- */

#define CLUSTER__GUARD_VERSION 1
#define CLUSTER__NONCE_LEN 32
#define CLUSTER__MAC_LEN 32
#define CLUSTER__HELLO_LEN (8 + 2 * ENGINE_NAME_MAX + CLUSTER__NONCE_LEN + CLUSTER__MAC_LEN)
#define CLUSTER__CHALLENGE_LEN (8 + CLUSTER__NONCE_LEN + CLUSTER__MAC_LEN)
#define CLUSTER__PROOF_LEN (8 + CLUSTER__MAC_LEN)

/* The cluster secret. Borrowed; len 0 (an insecure node) is a valid, public key. */
struct cluster__key
{
    const uint8_t *bytes;
    size_t len;
};

struct cluster__iov
{
    const void *base;
    size_t len;
};

/* HMAC-SHA256 under key of the parts, in order. Returns 0 or CD_ENOMEM. */
int cluster__hmac(const struct cluster__key *key,
                  const struct cluster__iov *parts,
                  size_t n,
                  uint8_t out[CLUSTER__MAC_LEN]);
/* Equal MACs, in time that does not depend on where they differ. */
bool cluster__mac_equal(const uint8_t a[CLUSTER__MAC_LEN], const uint8_t b[CLUSTER__MAC_LEN]);
/* n unpredictable bytes. Returns 0 or CD_EIO. */
int cluster__random(uint8_t *out, size_t n);

struct cluster__hello
{
    char from[ENGINE_NAME_MAX]; /* the caller's member id */
    char to[ENGINE_NAME_MAX];   /* the member it means to reach */
    uint8_t nonce[CLUSTER__NONCE_LEN];
};

/* Writes the HELLO of h into out. Returns 0, CD_EINVAL (a name empty or too long) or
 * CD_ENOMEM. */
int cluster__hello_encode(const struct cluster__key *key,
                          const struct cluster__hello *h,
                          uint8_t out[CLUSTER__HELLO_LEN]);
/* Reads a HELLO. Returns 0, CD_ECORRUPT (not a HELLO: magic, kind, a name not
 * NUL-terminated and padded, an empty name), CD_EVERSION or CD_EINVAL (its MAC is not
 * made with key); out is set only on success. */
int cluster__hello_decode(const struct cluster__key *key,
                          const uint8_t in[CLUSTER__HELLO_LEN],
                          struct cluster__hello *out);

/* The CHALLENGE answering hello (the HELLO's bytes) with nonce. Returns 0 or CD_ENOMEM. */
int cluster__challenge_encode(const struct cluster__key *key,
                              const uint8_t hello[CLUSTER__HELLO_LEN],
                              const uint8_t nonce[CLUSTER__NONCE_LEN],
                              uint8_t out[CLUSTER__CHALLENGE_LEN]);
/* 0 when in is a CHALLENGE made with key for hello; CD_ECORRUPT, CD_EVERSION, CD_EINVAL
 * (wrong MAC) or CD_ENOMEM. */
int cluster__challenge_check(const struct cluster__key *key,
                             const uint8_t hello[CLUSTER__HELLO_LEN],
                             const uint8_t in[CLUSTER__CHALLENGE_LEN]);

/* The PROOF answering challenge, which answered hello. Returns 0 or CD_ENOMEM. */
int cluster__proof_encode(const struct cluster__key *key,
                          const uint8_t hello[CLUSTER__HELLO_LEN],
                          const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                          uint8_t out[CLUSTER__PROOF_LEN]);
/* 0 when in is that PROOF; CD_ECORRUPT, CD_EVERSION, CD_EINVAL (wrong MAC) or CD_ENOMEM. */
int cluster__proof_check(const struct cluster__key *key,
                         const uint8_t hello[CLUSTER__HELLO_LEN],
                         const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                         const uint8_t in[CLUSTER__PROOF_LEN]);

/* ---- raft_uv_tcp's handshake (guard.c) ------------------------------------------------ */

#define CLUSTER__RAFT_PREAMBLE_LEN 24
#define CLUSTER__RAFT_ADDRESS_MAX 1024 /* the longest address accepted, padding included */

/* Writes raft_uv_tcp's handshake for id and address into out (cap bytes). Returns its
 * length, or 0 when it does not fit or the address is longer than
 * CLUSTER__RAFT_ADDRESS_MAX allows. */
size_t cluster__raft_hello_encode(raft_id id, const char *address, uint8_t *out, size_t cap);
/* Checks the preamble: protocol 1, the id expected, an address length from 8 to
 * CLUSTER__RAFT_ADDRESS_MAX that is a multiple of 8, returned in *address_len. Returns 0,
 * CD_EVERSION, CD_EINVAL (another id) or CD_ETOOBIG / CD_ECORRUPT (the length). */
int cluster__raft_preamble_check(const uint8_t in[CLUSTER__RAFT_PREAMBLE_LEN],
                                 raft_id id,
                                 size_t *address_len);
/* 0 when the address holds a NUL (raft reads it as a C string); CD_ECORRUPT otherwise. */
int cluster__raft_address_check(const uint8_t *in, size_t len);

/* ---- Raft's message framing (guard.c) ------------------------------------------------- */

#define CLUSTER__HEADER_MAX (16u << 20) /* AppendEntries: up to about a million entries */

/* A stream of Raft messages being checked. */
struct cluster__frames
{
    uint64_t max; /* largest message: header and payload */
    uint8_t preamble[16];
    size_t have;     /* bytes of the preamble, or of the header, received */
    uint64_t type;   /* of the message under way; 0 while reading its preamble */
    uint8_t *header; /* owned; header_len bytes once the preamble is read */
    size_t header_len;
    uint64_t payload_left;
    uint64_t messages; /* complete messages seen */
};

/* max: the largest message accepted, its header and payload together. */
void cluster__frames_init(struct cluster__frames *f, uint64_t max);
void cluster__frames_close(struct cluster__frames *f);
/* Takes the next n bytes of the stream. Returns 0 when every byte so far belongs to a
 * well-formed message (complete or under way); CD_ECORRUPT (an unknown type, a header of a
 * length raft would read past, an entry of an unknown type, a malformed configuration),
 * CD_ETOOBIG (a message over max) or CD_ENOMEM. It checks the whole header of a message
 * before returning 0 for the call that completes it. After an error the stream is lost. */
int cluster__frames_feed(struct cluster__frames *f, const uint8_t *p, size_t n);

/* ---- The transport (transport.c, dial.c) ---------------------------------------------- */

/* Bounds of the guard; cluster__transport_init() takes them as given (tests shrink them). */
struct cluster__guard_limits
{
    unsigned handshake_ms; /* a connection not through both handshakes by then is closed */
    unsigned pending_max;  /* connections in their handshake at once; more are closed */
    unsigned per_member;   /* a member's connections at once; a new one closes the oldest */
    unsigned live_max;     /* connections through the handshake at once, all members */
    uint64_t message_max;  /* the largest Raft message */
};

#define CLUSTER__GUARD_LIMITS_DEFAULT                                 \
    ((struct cluster__guard_limits){.handshake_ms = 3000,             \
                                    .pending_max = 32,                \
                                    .per_member = 4,                  \
                                    .live_max = 4 * CONFIG_PEERS_MAX, \
                                    .message_max = 64u << 20})

struct cluster__guard_options
{
    const char *name;        /* this member's id; borrowed for the transport's life */
    struct cluster__key key; /* borrowed likewise */
    struct cluster__guard_limits limits;
    /* Mutual TLS (net/net.h), borrowed likewise. server_tls: accepted connections run TLS
     * with it (it must demand client certificates from the cluster's CA), and the HELLO's
     * `from` must be a name of the client's certificate; NULL: plain TCP. client_tls:
     * connections made run TLS with it, the other side's certificate naming the member
     * called, and raft writes to them through a socketpair (link.c); NULL: plain TCP,
     * handed to raft as it is. */
    struct net_tls *server_tls;
    struct net_tls *client_tls;
    /* Whether name is a member that may connect (this node excepted). */
    bool (*is_member)(void *data, const char *name);
    void *data;
};

struct guard_conn;
struct guard_dial;
struct guard_link;

/* What guarded connections this transport refused, since it started. */
struct cluster__guard_stats
{
    uint64_t accepted; /* through both handshakes */
    /* closed during the handshake: malformed, wrong MAC, not a member; a TLS handshake that
     * failed, a certificate that does not name the member the HELLO claims to come from; on
     * the connecting side, a CHALLENGE or certificate that does not answer for the member
     * called */
    uint64_t refused;
    uint64_t timed_out;  /* not through the handshakes by the deadline */
    uint64_t over_cap;   /* closed at accept, or evicted, to respect the caps */
    uint64_t bad_frames; /* closed after the handshake for a malformed or oversized message */
};

/* A raft_uv_transport: TCP with the guard's handshake on every connection. */
#define CLUSTER__GIVEN_MAX 32

struct cluster__transport
{
    struct raft_uv_transport outer; /* what raft_uv sees */
    uv_loop_t *loop;
    struct cluster__guard_options opt;
    raft_id id;
    /* This member's address as raft_uv gave it ("raft|api|peer|id"), sent in raft's
     * handshake. */
    char address[4 * (CONFIG_HOST_MAX + 8)];
    raft_uv_accept_cb accept;
    raft_uv_transport_close_cb close_cb;
    uv_tcp_t listener;
    uv_timer_t timer; /* closes connections whose handshake is late */
    bool listening, timer_inited, closing;
    unsigned open; /* listener, timer, connections and dials not yet closed */
    struct guard_conn *pending, *live;
    unsigned n_pending, n_live;
    struct guard_dial *dials; /* plain connections being made */
    struct guard_link *links; /* TLS connections made or being made (link.c) */
    struct cluster__guard_stats stats;
    /* The pumps' backpressure, since start: how often a pump stopped reading because what
     * it had read was not yet taken (accepting side: by raft; connecting side: by the
     * kernel, through TLS). */
    uint64_t accept_pauses, link_pauses;
    uint64_t warned_at; /* uv_now() of the last refusal logged (refusals are rate-limited) */
    uint64_t unwarned;  /* refusals not logged since */
    /* A drill's isolation (cluster_isolate()): until this loop time no connection is made
     * or taken; 0: none. */
    uint64_t isolated_until;
    /* The plain TCP connections dial.c gave raft, which raft owns and closes: the socket
     * and both its ends when given, so that an isolation shuts down only a socket that is
     * still the one given (a number raft closed may name another socket since). */
    struct cluster__given
    {
        int fd;
        struct sockaddr_storage local, remote;
    } given[CLUSTER__GIVEN_MAX];
    unsigned n_given;
};

/* Sets up t (no handle is opened before raft_uv calls t->outer.init). opt is copied; the
 * strings and key it points to are borrowed for as long as t lives. Returns 0. */
int cluster__transport_init(struct cluster__transport *t,
                            uv_loop_t *loop,
                            const struct cluster__guard_options *opt);

/* transport.c, for dial.c and link.c */
void cluster__guard_arm(struct cluster__transport *t);
void cluster__guard_object_closed(struct cluster__transport *t);
/* A socketpair for raft: ours is initialised on loop whatever happens (its owner closes
 * it), and open on success; raft's end (allocated with raft_malloc(), which raft frees) in
 * *theirs. Returns 0, CD_ENOMEM or CD_EIO. */
int cluster__guard_socketpair(uv_loop_t *loop, uv_pipe_t *ours, uv_pipe_t **theirs);
/* Counts a refusal (stats.refused). With why (what failed), also logs it, at most once
 * every 10 s with the number not logged since: the refusals that say a member's TLS is
 * misconfigured (or its key stolen) rather than a stranger knocking. dir: "from" (the
 * accepting side) or "to" (the connecting side); peer: the member, or "" when unknown. */
void cluster__guard_refused(struct cluster__transport *t,
                            const char *dir,
                            const char *peer,
                            const char *why);
/* "host:port" or "[v6]:port", an IP address, as a socket address. Returns 0 or CD_EINVAL. */
int cluster__guard_sockaddr(const char *address, struct sockaddr_storage *out);

/* dial.c */
int cluster__dial(struct raft_uv_transport *transport,
                  struct raft_uv_connect *req,
                  raft_id id,
                  const char *address,
                  raft_uv_connect_cb cb);
/* Closes the dials whose handshake is late (now past their deadline), or all of them. */
void cluster__dial_expire(struct cluster__transport *t, uint64_t now, bool all);
/* What both kinds of dial need: the HELLO to the member at address ("raft|api|peer|id"),
 * its id (its certificate's name) and where it listens. Returns 0 or a CD code. */
int cluster__dial_hello(struct cluster__transport *t,
                        const char *address,
                        uint8_t hello[CLUSTER__HELLO_LEN],
                        char member[ENGINE_NAME_MAX],
                        struct sockaddr_storage *sa);
/* Checks the CHALLENGE answering hello and writes what follows it (the PROOF and raft's
 * handshake) into out (cap bytes); its length in *len. Returns 0 or a CD code. */
int cluster__dial_answer(struct cluster__transport *t,
                         const uint8_t hello[CLUSTER__HELLO_LEN],
                         const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                         uint8_t *out,
                         size_t cap,
                         size_t *len);
/* The room cluster__dial_answer() needs. */
#define CLUSTER__ANSWER_MAX \
    (CLUSTER__PROOF_LEN + CLUSTER__RAFT_PREAMBLE_LEN + CLUSTER__RAFT_ADDRESS_MAX)

/* link.c: a connection to a member over TLS. As cluster__dial(), for t->opt.client_tls. */
int cluster__link_dial(struct cluster__transport *t,
                       struct raft_uv_connect *req,
                       const char *address,
                       raft_uv_connect_cb cb);
/* As cluster__dial_expire(), for the links: those still in their handshake fail, and those
 * flushing before they close are closed, once past their deadline; all: every link. Returns
 * whether a link still has a deadline (the sweep must go on). */
bool cluster__link_expire(struct cluster__transport *t, uint64_t now, bool all);

/* Isolation (cluster_isolate()): whether it holds now; cutting every connection, both ways,
 * until the loop time until. */
bool cluster__guard_isolated(const struct cluster__transport *t);
void cluster__guard_isolate(struct cluster__transport *t, uint64_t until);
/* dial.c: remembers a plain connection given to raft; fails the dials under way and shuts
 * down the sockets given that are still open (raft's next write fails, and it closes). */
void cluster__dial_given(struct cluster__transport *t, uv_tcp_t *tcp);
void cluster__dial_cut(struct cluster__transport *t);
/* link.c: closes every link, those raft has and those it is waiting for. */
void cluster__link_cut(struct cluster__transport *t);

#endif
