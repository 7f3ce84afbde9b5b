/* node: the node's log, one line an event to stderr (journald takes it from there):
 * "2026-12-06T17:20:52.123Z LEVEL message". */
#ifndef CD_NODE_LOG_H
#define CD_NODE_LOG_H

void node_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
