/* cluster: the guard in front of Raft's port (cluster/guard.h). The handshake codec and its
 * MACs, raft_uv_tcp's handshake and message framing checks, then the transport itself on a
 * real loop: two members connect; a wrong secret, a stranger, a replayed proof, a silent
 * connection, a malformed message and too many connections are each closed, and raft is
 * never given them. Then the same over mutual TLS, with certificates made by
 * ops/make-certs: members connect and raft's messages go through the connecting side's
 * socketpair pump; a certificate that names another member than the HELLO says, one from
 * another CA, a server whose certificate does not name the member called and a dialler
 * without TLS are refused; closing goes both ways; and both pumps stop reading while what
 * they read is not taken, and lose nothing. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "tests/unit/tls_fixture.h"

static const uint8_t KEY[] = "0123456789abcdef0123456789abcdef";
static const uint8_t OTHER_KEY[] = "fedcba9876543210fedcba9876543210";

/* NULL: no secret (an insecure node, or members that rely on their certificates). */
static struct cluster__key key_of(const uint8_t *bytes)
{
    return (struct cluster__key){bytes, bytes != NULL ? 32 : 0};
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static struct cluster__hello hello_of(const char *from, const char *to, uint8_t nonce_byte)
{
    struct cluster__hello h;
    memset(&h, 0, sizeof(h));
    snprintf(h.from, sizeof(h.from), "%s", from);
    snprintf(h.to, sizeof(h.to), "%s", to);
    memset(h.nonce, nonce_byte, sizeof(h.nonce));
    return h;
}

/* ---- HMAC ------------------------------------------------------------------------------- */

static void hmac_known_answers(void **state)
{
    (void)state;
    static const uint8_t jefe[] = "Jefe";
    static const uint8_t rfc4231_2[] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
                                        0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
                                        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
                                        0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    static const uint8_t empty_abc[] = {0xfd, 0x7a, 0xdb, 0x15, 0x2c, 0x05, 0xef, 0x80,
                                        0xdc, 0xcf, 0x50, 0xa1, 0xfa, 0x4c, 0x05, 0xd5,
                                        0xa3, 0xec, 0x6d, 0xa9, 0x55, 0x75, 0xfc, 0x31,
                                        0x2a, 0xe7, 0xc5, 0xd0, 0x91, 0x83, 0x63, 0x51};
    struct cluster__key k = {jefe, 4};
    struct cluster__iov whole = {"what do ya want for nothing?", 28};
    struct cluster__iov split[] = {{"what do ya ", 11}, {"want for nothing?", 17}};
    uint8_t mac[CLUSTER__MAC_LEN];
    assert_int_equal(cluster__hmac(&k, &whole, 1, mac), 0);
    assert_memory_equal(mac, rfc4231_2, sizeof(mac));
    assert_int_equal(cluster__hmac(&k, split, 2, mac), 0);
    assert_memory_equal(mac, rfc4231_2, sizeof(mac));
    /* An insecure node's key is empty: still a MAC, the same on every node. */
    struct cluster__key none = {NULL, 0};
    struct cluster__iov abc = {"abc", 3};
    assert_int_equal(cluster__hmac(&none, &abc, 1, mac), 0);
    assert_memory_equal(mac, empty_abc, sizeof(mac));
    assert_true(cluster__mac_equal(mac, empty_abc));
    mac[31] ^= 1;
    assert_false(cluster__mac_equal(mac, empty_abc));
}

/* ---- Our handshake ------------------------------------------------------------------------
 */

static void hello_round_trip(void **state)
{
    (void)state;
    struct cluster__key k = key_of(KEY);
    struct cluster__hello h = hello_of("n1", "n2", 7), got;
    uint8_t wire[CLUSTER__HELLO_LEN];
    assert_int_equal(cluster__hello_encode(&k, &h, wire), 0);
    assert_memory_equal(wire, "CDRG\0\1\0\1", 8);
    assert_int_equal(cluster__hello_decode(&k, wire, &got), 0);
    assert_string_equal(got.from, "n1");
    assert_string_equal(got.to, "n2");
    assert_memory_equal(got.nonce, h.nonce, sizeof(h.nonce));
}

static void hello_refused(void **state)
{
    (void)state;
    struct cluster__key k = key_of(KEY), other = key_of(OTHER_KEY);
    struct cluster__hello h = hello_of("n1", "n2", 7), got = hello_of("x", "y", 0);
    uint8_t wire[CLUSTER__HELLO_LEN], bad[CLUSTER__HELLO_LEN];
    assert_int_equal(cluster__hello_encode(&k, &h, wire), 0);
    /* Another secret. */
    assert_int_equal(cluster__hello_decode(&other, wire, &got), CD_EINVAL);
    /* A name changed after the MAC was made: n1 -> n3. */
    memcpy(bad, wire, sizeof(bad));
    bad[9] = '3';
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_EINVAL);
    /* Not ours at all: raft_uv_tcp's handshake starts with protocol 1. */
    memcpy(bad, wire, sizeof(bad));
    put_le64(bad, 1);
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_ECORRUPT);
    memcpy(bad, wire, sizeof(bad));
    bad[5] = 2;
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_EVERSION);
    memcpy(bad, wire, sizeof(bad));
    bad[7] = 3; /* a PROOF's kind */
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_ECORRUPT);
    /* A name with bytes after its NUL, or none at all. */
    memcpy(bad, wire, sizeof(bad));
    bad[8 + 10] = 'x';
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_ECORRUPT);
    memcpy(bad, wire, sizeof(bad));
    memset(bad + 8, 'x', ENGINE_NAME_MAX);
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_ECORRUPT);
    memcpy(bad, wire, sizeof(bad));
    memset(bad + 8, 0, ENGINE_NAME_MAX);
    assert_int_equal(cluster__hello_decode(&k, bad, &got), CD_ECORRUPT);
    /* Nothing was written to got on any of these. */
    assert_string_equal(got.from, "x");
    /* Names that cannot be sent. */
    h.from[0] = 0;
    assert_int_equal(cluster__hello_encode(&k, &h, wire), CD_EINVAL);
}

static void challenge_and_proof(void **state)
{
    (void)state;
    struct cluster__key k = key_of(KEY), other = key_of(OTHER_KEY);
    struct cluster__hello h = hello_of("n1", "n2", 7), h2 = hello_of("n1", "n2", 8);
    uint8_t hello[CLUSTER__HELLO_LEN], hello2[CLUSTER__HELLO_LEN];
    uint8_t nonce[CLUSTER__NONCE_LEN], ch[CLUSTER__CHALLENGE_LEN], ch2[CLUSTER__CHALLENGE_LEN];
    uint8_t proof[CLUSTER__PROOF_LEN];
    assert_int_equal(cluster__hello_encode(&k, &h, hello), 0);
    assert_int_equal(cluster__hello_encode(&k, &h2, hello2), 0);
    memset(nonce, 1, sizeof(nonce));
    assert_int_equal(cluster__challenge_encode(&k, hello, nonce, ch), 0);
    assert_int_equal(cluster__challenge_check(&k, hello, ch), 0);
    /* A challenge answers one HELLO, under one secret. */
    assert_int_equal(cluster__challenge_check(&k, hello2, ch), CD_EINVAL);
    assert_int_equal(cluster__challenge_check(&other, hello, ch), CD_EINVAL);
    assert_int_equal(cluster__proof_encode(&k, hello, ch, proof), 0);
    assert_int_equal(cluster__proof_check(&k, hello, ch, proof), 0);
    assert_int_equal(cluster__proof_check(&other, hello, ch, proof), CD_EINVAL);
    /* A replay: the same HELLO and PROOF against a fresh challenge. */
    nonce[0] = 2;
    assert_int_equal(cluster__challenge_encode(&k, hello, nonce, ch2), 0);
    assert_int_equal(cluster__proof_check(&k, hello, ch2, proof), CD_EINVAL);
    /* No MAC stands for another kind: the challenge's own MAC is no proof. */
    memcpy(proof + 8, ch + 8 + CLUSTER__NONCE_LEN, CLUSTER__MAC_LEN);
    assert_int_equal(cluster__proof_check(&k, hello, ch, proof), CD_EINVAL);
    proof[0] = 'X';
    assert_int_equal(cluster__proof_check(&k, hello, ch, proof), CD_ECORRUPT);
    ch[4] = 1;
    assert_int_equal(cluster__challenge_check(&k, hello, ch), CD_EVERSION);
}

/* ---- raft_uv_tcp's handshake ------------------------------------------------------------- */

static void raft_handshake(void **state)
{
    (void)state;
    uint8_t wire[CLUSTER__RAFT_PREAMBLE_LEN + CLUSTER__RAFT_ADDRESS_MAX + 8];
    size_t len = 0;
    size_t n = cluster__raft_hello_encode(42, "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|n1",
                                          wire, sizeof(wire));
    assert_int_equal(n, CLUSTER__RAFT_PREAMBLE_LEN + 48); /* 47 bytes and NUL */
    assert_int_equal(cluster__raft_preamble_check(wire, 42, &len), 0);
    assert_int_equal(len, 48);
    assert_int_equal(cluster__raft_address_check(wire + CLUSTER__RAFT_PREAMBLE_LEN, len), 0);
    assert_string_equal((const char *)wire + CLUSTER__RAFT_PREAMBLE_LEN,
                        "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|n1");
    assert_int_equal(cluster__raft_preamble_check(wire, 43, &len), CD_EINVAL);
    put_le64(wire + 16, 4ull << 30); /* 4 GiB of address */
    assert_int_equal(cluster__raft_preamble_check(wire, 42, &len), CD_ETOOBIG);
    put_le64(wire + 16, 0);
    assert_int_equal(cluster__raft_preamble_check(wire, 42, &len), CD_ECORRUPT);
    put_le64(wire + 16, 12);
    assert_int_equal(cluster__raft_preamble_check(wire, 42, &len), CD_ECORRUPT);
    put_le64(wire, 2);
    assert_int_equal(cluster__raft_preamble_check(wire, 42, &len), CD_EVERSION);
    memset(wire, 'a', 16);
    assert_int_equal(cluster__raft_address_check(wire, 16), CD_ECORRUPT);
    /* An address that does not fit. */
    char big[CLUSTER__RAFT_ADDRESS_MAX + 1];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(cluster__raft_hello_encode(42, big, wire, sizeof(wire)), 0);
}

/* ---- Member addresses as Raft carries them ----------------------------------------------- */

/* "raft|api|peer|id" round-trips; the three-part form of versions before the peer channel,
 * and anything else, is refused and leaves the member as it was. */
static void member_address(void **state)
{
    (void)state;
    char address[256];
    struct cluster_member m = {.id = "keep"};
    assert_int_equal(cluster__address_format(address, sizeof(address), "n1", "127.0.0.1:7001",
                                             "127.0.0.1:8080", "127.0.0.1:7002"),
                     0);
    assert_string_equal(address, "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|n1");
    assert_int_equal(cluster__address_parse(address, &m), 0);
    assert_string_equal(m.id, "n1");
    assert_string_equal(m.raft, "127.0.0.1:7001");
    assert_string_equal(m.api, "127.0.0.1:8080");
    assert_string_equal(m.peer, "127.0.0.1:7002");
    static const char *const refused[] = {
        "127.0.0.1:7001|127.0.0.1:8080|n2", /* before the peer channel */
        "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|n2|x",
        "127.0.0.1:7001||127.0.0.1:7002|n2",
        "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|",
        "",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(cluster__address_parse(refused[i], &m), CD_EINVAL);
        assert_string_equal(m.id, "n1");
        assert_string_equal(m.peer, "127.0.0.1:7002");
    }
    assert_int_equal(cluster__address_format(address, sizeof(address), "n1", "a:1", "b:2", ""),
                     CD_EINVAL);
    assert_int_equal(
        cluster__address_format(address, sizeof(address), "n|1", "a:1", "b:2", "c:3"),
        CD_EINVAL);
    assert_int_equal(cluster__address_format(address, 8, "n1", "a:1", "b:2", "c:3"),
                     CD_ETOOBIG);
}

/* ---- Raft's message framing ---------------------------------------------------------------
 */

#define MAX_MESSAGE 4096

struct message
{
    uint8_t bytes[1024];
    size_t len;
};

static void msg_begin(struct message *m, uint64_t type, uint64_t header_len)
{
    memset(m, 0, sizeof(*m));
    put_le64(m->bytes, type);
    put_le64(m->bytes + 8, header_len);
    /* What is sent of a message too long for the buffer is its start: the check stops there. */
    m->len = 16 + header_len < sizeof(m->bytes) ? 16 + header_len : sizeof(m->bytes);
}

/* AppendEntries as raft 0.15 writes it: a 48 + 16n header, then the entries. */
static void append_entries(struct message *m, unsigned n, uint8_t type, uint32_t entry_len)
{
    msg_begin(m, 1, 48 + 16 * n);
    put_le64(m->bytes + 16 + 32, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = m->bytes + 16 + 40 + 16 * i;
        put_le64(e, 3);
        e[8] = type;
        e[12] = (uint8_t)entry_len;
        e[13] = (uint8_t)(entry_len >> 8);
    }
    m->len += (size_t)n * entry_len;
}

/* InstallSnapshot with a one-server configuration and data_len bytes of snapshot. */
static void install_snapshot(struct message *m, uint64_t data_len)
{
    static const char address[] = "127.0.0.1:7001|127.0.0.1:8080|127.0.0.1:7002|n1";
    size_t conf_len = 1 + 8 + 8 + sizeof(address) + 1;
    msg_begin(m, 5, 56 + conf_len);
    uint8_t *h = m->bytes + 16;
    put_le64(h + 32, conf_len);
    h[40] = 1;
    put_le64(h + 41, 1);
    put_le64(h + 49, 42);
    memcpy(h + 57, address, sizeof(address));
    h[57 + sizeof(address)] = RAFT_VOTER;
    put_le64(h + 40 + conf_len, data_len);
    m->len += data_len;
}

static int feed(const struct message *m)
{
    struct cluster__frames f;
    cluster__frames_init(&f, MAX_MESSAGE);
    int rv = cluster__frames_feed(&f, m->bytes, m->len);
    if (rv == 0 && (f.messages != 1 || f.type != 0)) {
        rv = CD_ESTATE; /* not exactly one complete message */
    }
    cluster__frames_close(&f);
    return rv;
}

static void frames_accepted(void **state)
{
    (void)state;
    struct message m;
    struct cluster__frames f;
    append_entries(&m, 3, RAFT_COMMAND, 16);
    assert_int_equal(feed(&m), 0);
    append_entries(&m, 0, RAFT_COMMAND, 0); /* a heartbeat */
    assert_int_equal(feed(&m), 0);
    install_snapshot(&m, 100);
    assert_int_equal(feed(&m), 0);
    static const uint64_t fixed[][2] = {{2, 24}, {3, 32}, {3, 40}, {4, 16}, {4, 24}, {6, 24}};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        msg_begin(&m, fixed[i][0], fixed[i][1]);
        assert_int_equal(feed(&m), 0);
    }
    /* A byte at a time, several messages in a row. */
    append_entries(&m, 2, RAFT_BARRIER, 8);
    cluster__frames_init(&f, MAX_MESSAGE);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < m.len; i++) {
            assert_int_equal(cluster__frames_feed(&f, m.bytes + i, 1), 0);
        }
    }
    assert_int_equal(f.messages, 3);
    cluster__frames_close(&f);
}

static void frames_refused(void **state)
{
    (void)state;
    struct message m;
    msg_begin(&m, 0, 24); /* no such type */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 7, 24);
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 2, 0); /* raft gives up on an empty header, by an assertion */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 3, 8); /* a RequestVote raft would read 32 bytes of */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 4, 20);
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 2, 1000); /* a fixed header cannot be that long */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    /* An AppendEntries announcing more entries than its header holds: raft would read past
     * the end of the header. */
    append_entries(&m, 2, RAFT_COMMAND, 8);
    put_le64(m.bytes + 16 + 32, 1000);
    assert_int_equal(feed(&m), CD_ECORRUPT);
    append_entries(&m, 1, 9, 8); /* no such entry type */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    msg_begin(&m, 1, 32); /* shorter than its fixed part */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    /* Larger than the maximum: the header, or the payload it announces. */
    msg_begin(&m, 1, MAX_MESSAGE + 8);
    assert_int_equal(feed(&m), CD_ETOOBIG);
    msg_begin(&m, 1, (uint64_t)CLUSTER__HEADER_MAX + 8);
    assert_int_equal(feed(&m), CD_ETOOBIG);
    append_entries(&m, 1, RAFT_COMMAND, 0);
    put_le64(m.bytes + 16 + 40 + 8 + 4, 0xffffffffu); /* one 4 GiB entry */
    assert_int_equal(feed(&m), CD_ETOOBIG);
    install_snapshot(&m, 0);
    put_le64(m.bytes + m.len - 16, 1ull << 40); /* then 8 bytes raft leaves unused */
    assert_int_equal(feed(&m), CD_ETOOBIG);
    /* InstallSnapshot with a configuration raft would read past. */
    install_snapshot(&m, 8);
    put_le64(m.bytes + 16 + 32, 4000); /* longer than the header */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    install_snapshot(&m, 8);
    put_le64(m.bytes + 16 + 41, 2); /* two servers, one there */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    install_snapshot(&m, 8);
    memset(m.bytes + 16 + 57, 'a', 48); /* an address without its NUL */
    assert_int_equal(feed(&m), CD_ECORRUPT);
    install_snapshot(&m, 8);
    m.bytes[16 + 40] = 2; /* another configuration format */
    assert_int_equal(feed(&m), CD_ECORRUPT);
}

/* ---- The transport on a real loop ----------------------------------------------------------
 */

struct side
{
    struct cluster__transport t;
    struct net_tls *server_tls, *client_tls; /* NULL: plain TCP */
    const char *name;
    char address[96];
    bool stranger_ok; /* is_member says yes to anyone */
    int accepted;
    raft_id accepted_id;
    char accepted_address[96];
    uv_stream_t *stream; /* the last stream raft was given */
    bool closed;
};

struct fixture
{
    uv_loop_t loop;
    uv_timer_t tick;  /* wakes the loop, so that RUN_UNTIL gives up on a stall */
    struct side a, b; /* a dials b */
    struct cluster__guard_limits limits;
    struct raft_uv_connect req;
    int connect_status;
    bool connect_done;
    uv_stream_t *connected;
    uint16_t port; /* b listens here */
};

static bool member_of(void *data, const char *name)
{
    struct side *s = data;
    return s->stranger_ok || strcmp(name, "n1") == 0 || strcmp(name, "n2") == 0;
}

static void on_accept(struct raft_uv_transport *outer,
                      raft_id id,
                      const char *address,
                      uv_stream_t *stream)
{
    struct side *s = outer->data;
    s->accepted++;
    s->accepted_id = id;
    snprintf(s->accepted_address, sizeof(s->accepted_address), "%s", address);
    s->stream = stream;
}

static void side_init(struct fixture *f, struct side *s, const char *name, const uint8_t *key)
{
    struct cluster__guard_options opt = {
        .name = name,
        .key = key_of(key),
        .limits = f->limits,
        .is_member = member_of,
        .data = s,
        .server_tls = s->server_tls,
        .client_tls = s->client_tls,
    };
    s->name = name;
    assert_int_equal(cluster__transport_init(&s->t, &f->loop, &opt), 0);
    s->t.outer.data = s;
    snprintf(s->address, sizeof(s->address), "127.0.0.1:%u|127.0.0.1:1|127.0.0.1:2|%s", f->port,
             name);
    assert_int_equal(s->t.outer.init(&s->t.outer, cluster__raft_id(name), s->address), 0);
}

/* b listens on a free port; a is set up to dial it. */
static void sides_init(struct fixture *f, const uint8_t *key_a, const uint8_t *key_b)
{
    struct sockaddr_storage sa;
    int len = sizeof(sa);
    f->port = 0;
    side_init(f, &f->b, "n2", key_b);
    assert_int_equal(f->b.t.outer.listen(&f->b.t.outer, on_accept), 0);
    assert_int_equal(uv_tcp_getsockname(&f->b.t.listener, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    snprintf(f->b.address, sizeof(f->b.address), "127.0.0.1:%u|127.0.0.1:1|127.0.0.1:2|n2",
             f->port);
    side_init(f, &f->a, "n1", key_a);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->tick);
    f->limits = CLUSTER__GUARD_LIMITS_DEFAULT;
    f->limits.handshake_ms = 100;
    f->limits.message_max = MAX_MESSAGE;
    *state = f;
    return 0;
}

static void transport_closed(struct raft_uv_transport *outer)
{
    struct side *s = outer->data;
    s->closed = true;
}

static void stream_closed(uv_handle_t *h)
{
    raft_free(h);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->connected != NULL) {
        uv_close((uv_handle_t *)f->connected, stream_closed);
    }
    if (f->b.stream != NULL) {
        uv_close((uv_handle_t *)f->b.stream, stream_closed);
    }
    f->a.t.outer.close(&f->a.t.outer, transport_closed);
    f->b.t.outer.close(&f->b.t.outer, transport_closed);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->a.closed && f->b.closed);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    struct side *sides[] = {&f->a, &f->b};
    for (size_t i = 0; i < 2; i++) {
        net_tls_free(sides[i]->server_tls);
        net_tls_free(sides[i]->client_tls);
    }
    free(f);
    return 0;
}

#define F struct fixture *f = *state
static void tick(uv_timer_t *t)
{
    (void)t;
}

/* Turns the loop until cond holds, or fails the test after 20 s. */
#define RUN_UNTIL(cond)                                 \
    do {                                                \
        uint64_t until_ = uv_hrtime() + 20000000000ull; \
        uv_timer_start(&f->tick, tick, 10, 10);         \
        while (!(cond)) {                               \
            assert_true(uv_hrtime() < until_);          \
            uv_run(&f->loop, UV_RUN_ONCE);              \
        }                                               \
        uv_timer_stop(&f->tick);                        \
    } while (0)

static void connected(struct raft_uv_connect *req, uv_stream_t *stream, int status)
{
    struct fixture *f = req->data;
    f->connect_done = true;
    f->connect_status = status;
    f->connected = stream;
}

static void dial(struct fixture *f)
{
    f->connect_done = false;
    f->req.data = f;
    assert_int_equal(f->a.t.outer.connect(&f->a.t.outer, &f->req, cluster__raft_id("n2"),
                                          f->b.address, connected),
                     0);
}

/* A raw TCP client standing for someone who is not a member. */
struct raw
{
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t write;
    uint8_t out[1024];
    uint8_t in[256];
    size_t got;
    bool connected, eof, closed;
};

static void raw_connected(uv_connect_t *req, int status)
{
    struct raw *r = req->data;
    r->connected = status == 0;
    r->eof = status != 0;
}

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct raw *r = h->data;
    *buf = uv_buf_init((char *)r->in + r->got, (unsigned)(sizeof(r->in) - r->got));
}

static void raw_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct raw *r = s->data;
    if (nread < 0) {
        r->eof = true;
        uv_read_stop(s);
    } else {
        r->got += (size_t)nread;
    }
}

static void raw_connect(struct fixture *f, struct raw *r)
{
    struct sockaddr_in sa;
    memset(r, 0, sizeof(*r));
    uv_ip4_addr("127.0.0.1", f->port, &sa);
    uv_tcp_init(&f->loop, &r->tcp);
    r->tcp.data = r;
    r->conn.data = r;
    assert_int_equal(uv_tcp_connect(&r->conn, &r->tcp, (struct sockaddr *)&sa, raw_connected),
                     0);
    RUN_UNTIL(r->connected || r->eof);
    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
}

static void raw_send(struct raw *r, const void *bytes, size_t n)
{
    assert_true(n <= sizeof(r->out));
    memcpy(r->out, bytes, n);
    uv_buf_t b = uv_buf_init((char *)r->out, (unsigned)n);
    assert_int_equal(uv_write(&r->write, (uv_stream_t *)&r->tcp, &b, 1, NULL), 0);
}

static void raw_closed(uv_handle_t *h)
{
    struct raw *r = h->data;
    r->closed = true;
}

static void raw_close(struct fixture *f, struct raw *r)
{
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
    RUN_UNTIL(r->closed);
}

/* What raft reads from a stream it was given. */
struct sink
{
    uint8_t in[256];
    size_t got;
    bool eof;
};

static void sink_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct sink *k = h->data;
    *buf = uv_buf_init((char *)k->in + k->got, (unsigned)(sizeof(k->in) - k->got));
}

static void sink_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct sink *k = s->data;
    if (nread < 0) {
        k->eof = true;
        uv_read_stop(s);
    } else {
        k->got += (size_t)nread;
    }
}

static void write_message(uv_stream_t *s, uv_write_t *w, const struct message *m)
{
    uv_buf_t b = uv_buf_init((char *)m->bytes, (unsigned)m->len);
    assert_int_equal(uv_write(w, s, &b, 1, NULL), 0);
}

static void members_connect(void **state)
{
    F;
    struct sink sink = {0};
    struct message m;
    uv_write_t w;
    sides_init(f, KEY, KEY);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.accepted == 1);
    assert_int_equal(f->connect_status, 0);
    assert_non_null(f->connected);
    assert_int_equal(f->b.accepted_id, cluster__raft_id("n1"));
    assert_string_equal(f->b.accepted_address, f->a.address);
    assert_int_equal(f->b.t.stats.accepted, 1);
    /* What a writes reaches raft on b, through the pump. */
    f->b.stream->data = &sink;
    uv_read_start(f->b.stream, sink_alloc, sink_read);
    msg_begin(&m, 3, 40);
    write_message(f->connected, &w, &m);
    RUN_UNTIL(sink.got == m.len);
    assert_memory_equal(sink.in, m.bytes, m.len);
    /* a goes away: raft on b reads the end of its stream. */
    uv_close((uv_handle_t *)f->connected, stream_closed);
    f->connected = NULL;
    RUN_UNTIL(sink.eof && f->b.t.n_live == 0);
}

static void wrong_secret_refused(void **state)
{
    F;
    sides_init(f, OTHER_KEY, KEY);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.t.stats.refused == 1);
    assert_int_equal(f->connect_status, RAFT_NOCONNECTION);
    assert_null(f->connected);
    assert_int_equal(f->b.accepted, 0);
}

static void stranger_refused(void **state)
{
    F;
    struct raw r;
    uint8_t hello[CLUSTER__HELLO_LEN];
    struct cluster__key k = key_of(KEY);
    sides_init(f, KEY, KEY);
    /* Holding the secret is not enough: the name must be a member's, and not b's own. */
    static const char *const names[] = {"n9", "n2"};
    for (size_t i = 0; i < 2; i++) {
        struct cluster__hello h = hello_of(names[i], "n2", 5);
        assert_int_equal(cluster__hello_encode(&k, &h, hello), 0);
        raw_connect(f, &r);
        raw_send(&r, hello, sizeof(hello));
        RUN_UNTIL(r.eof);
        assert_int_equal(r.got, 0); /* no challenge */
        raw_close(f, &r);
    }
    /* Nor is a HELLO meant for another member. */
    struct cluster__hello h = hello_of("n1", "n3", 5);
    assert_int_equal(cluster__hello_encode(&k, &h, hello), 0);
    raw_connect(f, &r);
    raw_send(&r, hello, sizeof(hello));
    RUN_UNTIL(r.eof);
    raw_close(f, &r);
    assert_int_equal(f->b.t.stats.refused, 3);
    assert_int_equal(f->b.accepted, 0);
}

/* Someone who saw a member's HELLO and PROOF go by sends them again: the challenge is new,
 * the old PROOF does not answer it. */
static void replay_refused(void **state)
{
    F;
    struct raw r;
    struct cluster__key k = key_of(KEY);
    struct cluster__hello h = hello_of("n1", "n2", 5);
    uint8_t hello[CLUSTER__HELLO_LEN], first[CLUSTER__CHALLENGE_LEN];
    uint8_t proof[CLUSTER__PROOF_LEN];
    sides_init(f, KEY, KEY);
    assert_int_equal(cluster__hello_encode(&k, &h, hello), 0);
    raw_connect(f, &r);
    raw_send(&r, hello, sizeof(hello));
    RUN_UNTIL(r.got == CLUSTER__CHALLENGE_LEN);
    assert_int_equal(cluster__challenge_check(&k, hello, r.in), 0);
    memcpy(first, r.in, sizeof(first));
    assert_int_equal(cluster__proof_encode(&k, hello, first, proof), 0);
    raw_close(f, &r);
    raw_connect(f, &r);
    raw_send(&r, hello, sizeof(hello));
    RUN_UNTIL(r.got == CLUSTER__CHALLENGE_LEN);
    assert_memory_not_equal(r.in, first, sizeof(first));
    raw_send(&r, proof, sizeof(proof));
    RUN_UNTIL(r.eof);
    raw_close(f, &r);
    assert_int_equal(f->b.t.stats.refused, 1);
    assert_int_equal(f->b.accepted, 0);
}

/* raft_uv_tcp's handshake without ours, and a 4 GiB address: neither reaches raft. */
static void raw_raft_refused(void **state)
{
    F;
    struct raw r;
    uint8_t wire[CLUSTER__HELLO_LEN] = {0};
    sides_init(f, KEY, KEY);
    size_t n =
        cluster__raft_hello_encode(cluster__raft_id("n1"), f->a.address, wire, sizeof(wire));
    put_le64(wire + 16, 4ull << 30);
    raw_connect(f, &r);
    raw_send(&r, wire, sizeof(wire));
    RUN_UNTIL(r.eof);
    raw_close(f, &r);
    assert_true(n > 0);
    assert_int_equal(f->b.t.stats.refused, 1);
    assert_int_equal(f->b.accepted, 0);
}

static void silent_connection_closed(void **state)
{
    F;
    struct raw r;
    sides_init(f, KEY, KEY);
    raw_connect(f, &r);
    raw_send(&r, "CDRG", 4); /* and then nothing */
    RUN_UNTIL(r.eof);
    raw_close(f, &r);
    assert_int_equal(f->b.t.stats.timed_out, 1);
    assert_int_equal(f->b.t.n_pending, 0);
}

static void bad_frame_closes(void **state)
{
    F;
    struct sink sink = {0};
    struct message m;
    uv_write_t w;
    sides_init(f, KEY, KEY);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.accepted == 1);
    f->b.stream->data = &sink;
    uv_read_start(f->b.stream, sink_alloc, sink_read);
    append_entries(&m, 1, RAFT_COMMAND, 8);
    put_le64(m.bytes + 16 + 32, 1000);
    write_message(f->connected, &w, &m);
    RUN_UNTIL(sink.eof);
    assert_int_equal(sink.got, 0); /* raft saw none of it */
    assert_int_equal(f->b.t.stats.bad_frames, 1);
}

static void pending_capped(void **state)
{
    F;
    struct raw r[3];
    f->limits.pending_max = 2;
    f->limits.handshake_ms = 60000;
    sides_init(f, KEY, KEY);
    for (int i = 0; i < 3; i++) {
        raw_connect(f, &r[i]);
    }
    /* The kernel may hand them over in any order: one of the three is closed at once. */
    RUN_UNTIL(f->b.t.stats.over_cap == 1 && r[0].eof + r[1].eof + r[2].eof == 1);
    assert_int_equal(f->b.t.n_pending, 2);
    for (int i = 0; i < 3; i++) {
        raw_close(f, &r[i]);
    }
}

static void member_capped(void **state)
{
    F;
    struct sink sink = {0};
    f->limits.per_member = 1;
    sides_init(f, KEY, KEY);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.accepted == 1);
    uv_stream_t *first = f->b.stream;
    first->data = &sink;
    uv_read_start(first, sink_alloc, sink_read);
    uv_stream_t *first_dialed = f->connected;
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.accepted == 2 && sink.eof);
    assert_int_equal(f->connect_status, 0);
    assert_int_equal(f->b.t.stats.over_cap, 1);
    assert_int_equal(f->b.t.n_live, 1);
    uv_close((uv_handle_t *)first, stream_closed);
    uv_close((uv_handle_t *)first_dialed, stream_closed);
}

/* ---- The transport over mutual TLS --------------------------------------------------------
 */

static struct test_certs certs;

/* A TLS handshake under a sanitizer on a loaded machine takes more than the 100 ms the plain
 * tests allow: those that time a handshake out run without TLS. */
#define TLS_HANDSHAKE_MS 5000

/* s presents the certificate named cert_name in dir and trusts the CA of certs.dir. */
static void side_tls(struct fixture *f, struct side *s, const char *dir, const char *cert_name)
{
    f->limits.handshake_ms = TLS_HANDSHAKE_MS;
    char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], err[512];
    struct net_tls_options so = {
        .cert = test_cert_path(cert, sizeof(cert), dir, cert_name, "crt"),
        .key = test_cert_path(key, sizeof(key), dir, cert_name, "key"),
        .ca = test_cert_path(ca, sizeof(ca), certs.dir, "ca", "crt"),
        .server = true,
        .require_client_cert = true,
    };
    if (net_tls_new(&so, &s->server_tls, err, sizeof(err)) != 0) {
        fail_msg("server context: %s", err);
    }
    so.server = false;
    so.require_client_cert = false;
    if (net_tls_new(&so, &s->client_tls, err, sizeof(err)) != 0) {
        fail_msg("client context: %s", err);
    }
}

/* A dials B, both with their own certificates and no cluster secret. */
static void tls_connect(struct fixture *f)
{
    side_tls(f, &f->a, certs.dir, "n1");
    side_tls(f, &f->b, certs.dir, "n2");
    sides_init(f, NULL, NULL);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.accepted == 1);
    assert_int_equal(f->connect_status, 0);
    assert_int_equal(f->b.t.stats.accepted, 1);
    assert_int_equal(f->b.accepted_id, cluster__raft_id("n1"));
    assert_string_equal(f->b.accepted_address, f->a.address);
}

static void tls_members_connect(void **state)
{
    F;
    struct sink sink = {0};
    struct message m;
    uv_write_t w[2];
    tls_connect(f);
    /* Raft cannot write TLS: it writes to a socketpair, and the link pumps. */
    assert_int_equal(f->connected->type, UV_NAMED_PIPE);
    assert_non_null(f->a.t.links);
    f->b.stream->data = &sink;
    uv_read_start(f->b.stream, sink_alloc, sink_read);
    msg_begin(&m, 3, 40);
    write_message(f->connected, &w[0], &m);
    RUN_UNTIL(sink.got == m.len);
    assert_memory_equal(sink.in, m.bytes, m.len);
    /* Raft writes once more and closes its end at once: the message still arrives, then
     * the end of the stream. */
    write_message(f->connected, &w[1], &m);
    uv_close((uv_handle_t *)f->connected, stream_closed);
    f->connected = NULL;
    RUN_UNTIL(sink.eof && f->b.t.n_live == 0 && f->a.t.links == NULL);
    assert_int_equal(sink.got, 2 * m.len);
    assert_int_equal(f->b.t.stats.refused + f->a.t.stats.refused, 0);
}

struct write_result
{
    bool done;
    int status;
};

static void write_done(uv_write_t *req, int status)
{
    struct write_result *r = req->data;
    r->done = true;
    r->status = status;
}

/* The member's side goes away: the link closes its end of the socketpair, and raft's next
 * write fails, as it would on a broken socket (raft then connects again). */
static void tls_member_end_reaches_raft(void **state)
{
    F;
    struct message m;
    uv_write_t w;
    struct write_result r = {0};
    tls_connect(f);
    uv_close((uv_handle_t *)f->b.stream, stream_closed);
    f->b.stream = NULL;
    RUN_UNTIL(f->b.t.n_live == 0 && f->a.t.links == NULL);
    msg_begin(&m, 3, 40);
    uv_buf_t b = uv_buf_init((char *)m.bytes, (unsigned)m.len);
    w.data = &r;
    if (uv_write(&w, f->connected, &b, 1, write_done) != 0) {
        r.done = true;
        r.status = UV_EPIPE;
    }
    RUN_UNTIL(r.done);
    assert_true(r.status < 0);
}

/* n1 presents n3's certificate (from the cluster's CA): the HELLO says n1, the certificate
 * does not, and the connection is refused before raft sees it. */
static void tls_certificate_of_another_member_refused(void **state)
{
    F;
    side_tls(f, &f->a, certs.dir, "n3");
    side_tls(f, &f->b, certs.dir, "n2");
    sides_init(f, NULL, NULL);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.t.stats.refused == 1);
    assert_int_equal(f->connect_status, RAFT_NOCONNECTION);
    assert_null(f->connected);
    assert_int_equal(f->b.accepted, 0);
    assert_null(f->a.t.links);
}

/* A certificate of another CA, even for the right name. */
static void tls_certificate_of_another_ca_refused(void **state)
{
    F;
    side_tls(f, &f->a, certs.other, "n1");
    side_tls(f, &f->b, certs.dir, "n2");
    sides_init(f, NULL, NULL);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.t.stats.refused == 1);
    assert_int_equal(f->connect_status, RAFT_NOCONNECTION);
    assert_int_equal(f->b.accepted, 0);
}

/* The member called presents a certificate that does not name it: the caller gives up
 * before its HELLO is answered. */
static void tls_server_of_another_name_refused(void **state)
{
    F;
    side_tls(f, &f->a, certs.dir, "n1");
    side_tls(f, &f->b, certs.dir, "n3");
    sides_init(f, NULL, NULL);
    dial(f);
    RUN_UNTIL(f->connect_done && f->a.t.stats.refused == 1);
    assert_int_equal(f->connect_status, RAFT_NOCONNECTION);
    assert_int_equal(f->b.accepted, 0);
}

/* A member without TLS calls one with TLS: its HELLO is no TLS handshake. */
static void tls_plain_dialler_refused(void **state)
{
    F;
    side_tls(f, &f->b, certs.dir, "n2");
    sides_init(f, NULL, NULL);
    dial(f);
    RUN_UNTIL(f->connect_done && f->b.t.stats.refused == 1);
    assert_int_equal(f->connect_status, RAFT_NOCONNECTION);
    assert_int_equal(f->b.accepted, 0);
}

/* What raft reads, counted and hashed rather than kept. */
struct tally
{
    char buf[64 << 10];
    uint64_t got, hash;
};

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ b[i]) * 1099511628211ull;
    }
}

static void tally_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct tally *t = h->data;
    *buf = uv_buf_init(t->buf, sizeof(t->buf));
}

static void tally_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tally *t = s->data;
    if (nread > 0) {
        hash_bytes(&t->hash, buf->base, (size_t)nread);
        t->got += (uint64_t)nread;
    }
}

#define BIG_ENTRY (1u << 20)
#define BIG_MESSAGES 64

/* Raft on A writes far more than the kernels hold while raft on B reads nothing: B's pump
 * stops reading the TLS stream, TCP backs up, and A's link stops reading raft's
 * socketpair. Once B's raft reads, every byte arrives, in order. */
static void tls_backpressure(void **state)
{
    F;
    static uv_write_t w[BIG_MESSAGES];
    struct write_result r[BIG_MESSAGES];
    struct tally *tally = calloc(1, sizeof(*tally));
    size_t header = 16 + 64;
    size_t len = header + BIG_ENTRY;
    uint8_t *msg = calloc(1, len);
    uint64_t want = 14695981039346656037ull;
    assert_non_null(tally);
    assert_non_null(msg);
    f->limits.message_max = 2 * BIG_ENTRY;
    tls_connect(f);
    /* AppendEntries carrying one entry of BIG_ENTRY bytes. */
    put_le64(msg, 1);
    put_le64(msg + 8, 64);
    put_le64(msg + 16 + 32, 1);
    put_le64(msg + 16 + 40, 3);
    msg[16 + 40 + 8] = RAFT_COMMAND;
    put_le64(msg + 16 + 40 + 12, BIG_ENTRY);
    for (size_t i = header; i < len; i++) {
        msg[i] = (uint8_t)(i * 7);
    }
    for (int i = 0; i < BIG_MESSAGES; i++) {
        uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
        r[i].done = false;
        w[i].data = &r[i];
        assert_int_equal(uv_write(&w[i], f->connected, &b, 1, write_done), 0);
        hash_bytes(&want, msg, len);
    }
    RUN_UNTIL(f->a.t.link_pauses > 0 && f->b.t.accept_pauses > 0);
    tally->hash = 14695981039346656037ull;
    f->b.stream->data = tally;
    uv_read_start(f->b.stream, tally_alloc, tally_read);
    RUN_UNTIL(tally->got == (uint64_t)BIG_MESSAGES * len);
    assert_true(tally->hash == want);
    for (int i = 0; i < BIG_MESSAGES; i++) {
        RUN_UNTIL(r[i].done);
        assert_int_equal(r[i].status, 0);
    }
    assert_int_equal(f->b.t.stats.bad_frames, 0);
    uv_read_stop(f->b.stream);
    free(msg);
    free(tally);
}

static int certs_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* a write to a socket whose other end closed fails instead */
    return test_certs_make(&certs, "guard");
}

static int certs_teardown(void **state)
{
    (void)state;
    test_certs_remove(&certs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmac_known_answers),
        cmocka_unit_test(hello_round_trip),
        cmocka_unit_test(hello_refused),
        cmocka_unit_test(challenge_and_proof),
        cmocka_unit_test(raft_handshake),
        cmocka_unit_test(member_address),
        cmocka_unit_test(frames_accepted),
        cmocka_unit_test(frames_refused),
        cmocka_unit_test_setup_teardown(members_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_secret_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(stranger_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_raft_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_connection_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_frame_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(member_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_members_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_member_end_reaches_raft, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_certificate_of_another_member_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_certificate_of_another_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_server_of_another_name_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_plain_dialler_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_backpressure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, certs_setup, certs_teardown);
}
