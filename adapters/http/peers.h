/* Private to adapters/http: connections counted per client address, so that the server can
 * cap what one address holds in O(1) at every accept. An open-addressing table with linear
 * probing, at most half full; it grows as needed and never shrinks (its size follows the
 * most distinct addresses ever connected at once, which max_connections bounds). */
#ifndef CD_HTTP_PEERS_H
#define CD_HTTP_PEERS_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* A client address: IPv6, or IPv4 mapped into IPv6 (::ffff:a.b.c.d). Ports do not count. */
struct http__peer_addr
{
    uint8_t bytes[16];
};

struct http__peers
{
    struct http__peer_slot *slots; /* owned; NULL while nothing was ever added */
    size_t cap;                    /* a power of two, or 0 */
    size_t used;                   /* slots holding an address */
};

/* Fills *out from an AF_INET or AF_INET6 address. Returns 0, or CD_EINVAL for another
 * family. */
int http__peer_addr_from(const struct sockaddr *sa, struct http__peer_addr *out);

/* addr as text into buf (cap bytes, at least HTTP_ADDRESS_MAX): an IPv4-mapped address as
 * IPv4 ("127.0.0.1"), any other as IPv6 ("::1"). */
void http__peer_addr_text(const struct http__peer_addr *addr, char *buf, size_t cap);

/* Connections counted for addr (0 when it holds none). */
unsigned http__peers_count(const struct http__peers *t, const struct http__peer_addr *addr);

/* Counts one more connection for addr. Returns 0, or CD_ENOMEM when the table must grow and
 * cannot (then nothing changed). */
int http__peers_add(struct http__peers *t, const struct http__peer_addr *addr);

/* Counts one connection less for addr, which must have been added. */
void http__peers_remove(struct http__peers *t, const struct http__peer_addr *addr);

/* Frees the table; it is empty and usable again afterwards. */
void http__peers_free(struct http__peers *t);

#endif
