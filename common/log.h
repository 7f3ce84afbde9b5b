/* The node's log: one event a line on stderr (journald takes it from there), in logfmt:
 *
 *   ts=2026-12-06T17:20:52.123Z level=info event=leader term=7 leader=n2
 *   ts=... level=error event=start msg="listen on '127.0.0.1:8080': address already in use"
 *
 * `event` names what happened, in one word an operator can grep for; the fields after it are
 * key=value, a value quoted (with \" \\ \n escaped) when it holds a space, a quote, '=' or
 * a control character. Lines below the level set by cd_log_set_level() (the node file's
 * log_level) are not written. Safe from any thread: a line is written with one call. */
#ifndef CD_COMMON_LOG_H
#define CD_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum cd_log_level {
    CD_LOG_DEBUG = 0, /* the values of enum config_log_level */
    CD_LOG_INFO,
    CD_LOG_WARN,
    CD_LOG_ERROR,
    CD_LOG_FATAL,
};

void cd_log_set_level(int level);
bool cd_log_enabled(int level);

/* Writes one line: event, then the fields given as pairs of strings (key, value), ending
 * with a NULL key. A NULL value writes the key with an empty value. */
void cd_log(int level, const char *event, ...) __attribute__((sentinel));

/* As cd_log(), with a message (msg=...) formatted by fmt first. */
void cd_logf(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats one line into buf (at most cap bytes, NUL-terminated, no newline), as cd_log()
 * writes it, without the time; for tests. Returns the length it needed. */
size_t cd_log_format(char *buf,
                     size_t cap,
                     int level,
                     const char *event,
                     const char *const *kv,
                     size_t n_kv);

#endif
