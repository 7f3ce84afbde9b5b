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

/* Parses exactly one YAML document. Aliases are expanded (a copy of the anchored node);
 * merge keys are not interpreted. Mapping keys must be scalars and unique. Returns 0,
 * CD_EPARSE with "FILE:LINE:COLUMN: message" in err, or CD_ENOMEM. */
int ydoc_parse(const char *file,
               const char *text,
               size_t len,
               struct ydoc *doc,
               char *err,
               size_t errlen);
void ydoc_free(struct ydoc *doc);

/* Entry of a mapping by key, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* A plain empty scalar, "~" or "null": the value is absent. */
bool ynode_is_null(const struct ynode *n);

#endif
