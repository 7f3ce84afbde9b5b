/* A YAML document as a small tree of nodes that remember where they start, built from
 * libyaml's event parser. Private to config/. */
#ifndef CD_CONFIG_YAML_DOC_H
#define CD_CONFIG_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ynode_kind {
    YNODE_SCALAR = 1,
    YNODE_SEQ,
    YNODE_MAP,
};

struct ynode
{
    uint8_t kind;
    bool plain;        /* scalar written without quotes */
    uint32_t line;     /* 1-based start of the node */
    uint32_t col;      /* 1-based */
    char *value;       /* scalar text, NUL-terminated; NULL for collections */
    size_t len;        /* bytes in value */
    char *key;         /* for an entry of a mapping: its key, else NULL */
    uint32_t key_line; /* position of the key */
    uint32_t key_col;
    uint32_t n;          /* children */
    struct ynode *child; /* first child; entries of a mapping carry their key */
    struct ynode *next;  /* next sibling */
};

struct ydoc
{
    struct ynode *root; /* owned; NULL for an empty document */
};

/* Bounds on what one document may cost to read. */
#define YDOC_DEPTH_MAX 64 /* the largest depth a ydoc_limits may ask for */

struct ydoc_limits
{
    size_t bytes;   /* longest text accepted */
    uint32_t nodes; /* scalars and collections, aliases counted as expanded */
    uint32_t depth; /* collections nested in one another, 1..YDOC_DEPTH_MAX */
};

/* Parses exactly one YAML document in time and memory linear in its size (and in the
 * nodes its aliases expand to). Aliases are expanded (a copy of the anchored node); merge
 * keys are not interpreted. Mapping keys must be scalars and unique. A document longer,
 * larger or deeper than lim allows is refused, at the line and column where it crosses the
 * limit, with a message that names the limit. Returns 0, CD_EPARSE with
 * "FILE:LINE:COLUMN: message" in err, or CD_ENOMEM. Reentrant: nothing is shared between
 * calls, so documents may be parsed on several threads at once. */
int ydoc_parse(const char *file,
               const char *text,
               size_t len,
               const struct ydoc_limits *lim,
               struct ydoc *doc,
               char *err,
               size_t errlen);
void ydoc_free(struct ydoc *doc);

/* Keeps an error message on one line: a value quoted in it may hold any character YAML
 * can carry, and each control character (C0 and DEL) becomes '?'. */
void ydoc_one_line(char *msg);

/* Entry of a mapping by key, or NULL. Walks the entries: for a few known keys only; a
 * lookup by every key of a large mapping wants an index (config/names.h). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* A plain empty scalar, "~" or "null": the value is absent. */
bool ynode_is_null(const struct ynode *n);

#endif
