/* Error codes shared by every module.
 *
 * Functions return 0 on success or one of the negative CD_E* codes below; results come back
 * through out-parameters. The table is an X-macro so that the enum and cd_strerror() can
 * never drift apart. */
#ifndef CD_COMMON_ERROR_H
#define CD_COMMON_ERROR_H

#define CD_ERRNO_MAP(X)                          \
    X(NOMEM, "out of memory")                    \
    X(INVAL, "invalid argument")                 \
    X(NOTFOUND, "not found")                     \
    X(EXISTS, "already exists")                  \
    X(STATE, "not allowed in the current state") \
    X(STALE, "offer is no longer open")          \
    X(CAPACITY, "no free capacity")              \
    X(CORRUPT, "malformed or corrupt encoding")  \
    X(VERSION, "unsupported version")            \
    X(TOOBIG, "too large")                       \
    X(PARSE, "parse error")                      \
    X(IO, "input/output error")                  \
    X(UNAVAIL, "no leader to take the request")  \
    X(TIMEDOUT, "timed out")                     \
    X(CANCELED, "cancelled")

enum {
    CD_OK = 0,
#define CD__ERRNO_ENUM(name, text) CD__E_##name,
    CD__E_FIRST_ = 0,
    CD_ERRNO_MAP(CD__ERRNO_ENUM)
#undef CD__ERRNO_ENUM
};

#define CD__NEG(name) (-CD__E_##name)
#define CD_ENOMEM CD__NEG(NOMEM)
#define CD_EINVAL CD__NEG(INVAL)
#define CD_ENOTFOUND CD__NEG(NOTFOUND)
#define CD_EEXISTS CD__NEG(EXISTS)
#define CD_ESTATE CD__NEG(STATE)
#define CD_ESTALE CD__NEG(STALE)
#define CD_ECAPACITY CD__NEG(CAPACITY)
#define CD_ECORRUPT CD__NEG(CORRUPT)
#define CD_EVERSION CD__NEG(VERSION)
#define CD_ETOOBIG CD__NEG(TOOBIG)
#define CD_EPARSE CD__NEG(PARSE)
#define CD_EIO CD__NEG(IO)
#define CD_EUNAVAIL CD__NEG(UNAVAIL)
#define CD_ETIMEDOUT CD__NEG(TIMEDOUT)
#define CD_ECANCELED CD__NEG(CANCELED)

/* Text for a CD_E* code (or 0); never NULL, static storage. */
const char *cd_strerror(int code);

/* Stable machine-readable name ("NOTFOUND", "STALE", ...) for API error codes. */
const char *cd_errname(int code);

#endif
