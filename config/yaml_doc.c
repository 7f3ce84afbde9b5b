/* YAML text to a tree of positioned nodes, on libyaml's event parser.
 *
 * The event API (rather than libyaml's own document loader) is used because it hands out
 * the start mark of every scalar and collection, which is what lets every later error
 * name a line and column.
 *
 * Every step costs constant time (on average) per node: a collection keeps a pointer to
 * its last child for appends, a mapping past a few entries keeps its keys in a hash set
 * for the duplicate check, and anchors are found through a hash set too. The document's
 * size, node count and depth are bounded by the caller's limits, so nothing a request
 * sends can make the reader run long or recurse deep. */
#include "config/yaml_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/error.h"
#include "config/names.h"

/* A mapping with fewer entries is checked for duplicate keys by a walk. */
#define KEYS_INDEX_MIN 8

struct anchor
{
    char *name;
    struct ynode *node; /* borrowed from the tree */
};

struct frame
{
    struct ynode *node;
    struct ynode **tail; /* where the next child goes */
    char *anchor;        /* registered when the collection ends */
    char *key;           /* mapping: key waiting for its value */
    uint32_t key_line;
    uint32_t key_col;
    struct names keys; /* mapping of KEYS_INDEX_MIN entries or more: key -> ordinal */
};

struct builder
{
    const char *file;
    char *err;
    size_t errlen;
    struct ydoc_limits lim; /* depth at most YDOC_DEPTH_MAX */
    struct ynode *root;
    struct frame stack[YDOC_DEPTH_MAX];
    uint32_t depth;
    int documents;
    struct anchor *anchors;
    size_t n_anchors;
    size_t cap_anchors;
    struct names anchor_index; /* name -> latest anchor of that name */
    size_t n_nodes;
};

static int fail(struct builder *b, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void ydoc_one_line(char *msg)
{
    for (; *msg != 0; msg++) {
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f) {
            *msg = '?';
        }
    }
}

static int fail(struct builder *b, uint32_t line, uint32_t col, const char *fmt, ...)
{
    int n = snprintf(b->err, b->errlen, "%s:%u:%u: ", b->file, line, col);
    if (n >= 0 && (size_t)n < b->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (b->errlen > 0) {
        ydoc_one_line(b->err);
    }
    return CD_EPARSE;
}

static void node_free(struct ynode *n)
{
    while (n != NULL) {
        struct ynode *next = n->next;
        node_free(n->child);
        free(n->value);
        free(n->key);
        free(n);
        n = next;
    }
}

static int node_new(struct builder *b,
                    uint8_t kind,
                    uint32_t line,
                    uint32_t col,
                    struct ynode **out)
{
    if (++b->n_nodes > b->lim.nodes) {
        return fail(b, line, col,
                    "document too large: more than %u nodes (scalars and collections, "
                    "aliases counted as expanded)",
                    b->lim.nodes);
    }
    struct ynode *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        return CD_ENOMEM;
    }
    n->kind = kind;
    n->line = line;
    n->col = col;
    *out = n;
    return 0;
}

static void append_child(struct frame *f, struct ynode *child)
{
    *f->tail = child;
    f->tail = &child->next;
    f->node->n++;
}

static int add_entry(struct frame *f, struct ynode *value)
{
    value->key = f->key;
    value->key_line = f->key_line;
    value->key_col = f->key_col;
    f->key = NULL;
    append_child(f, value);
    return 0;
}

static const struct ynode *nth_child(const struct ynode *n, int32_t i)
{
    const struct ynode *c = n->child;
    while (c != NULL && i-- > 0) {
        c = c->next;
    }
    return c;
}

/* Indexes the keys a mapping already holds, once it has grown past a walk's worth. */
static int index_keys(struct frame *f)
{
    int32_t i = 0;
    for (const struct ynode *c = f->node->child; c != NULL; c = c->next) {
        if (names_add(&f->keys, c->key, i++, NULL) == CD_ENOMEM) {
            return CD_ENOMEM;
        }
    }
    return 0;
}

/* The earlier entry of f's mapping with this key, or NULL; from the point the mapping has
 * an index, key joins it (the string moves to the entry without moving in memory). */
static int find_key(struct frame *f, const char *key, const struct ynode **prev)
{
    *prev = NULL;
    if (f->node->n < KEYS_INDEX_MIN) {
        for (const struct ynode *c = f->node->child; c != NULL; c = c->next) {
            if (strcmp(c->key, key) == 0) {
                *prev = c;
                break;
            }
        }
        return 0;
    }
    int32_t first;
    int rv = f->keys.n == 0 ? index_keys(f) : 0;
    if (rv == 0) {
        rv = names_add(&f->keys, key, (int32_t)f->node->n, &first);
    }
    if (rv == CD_EEXISTS) {
        *prev = nth_child(f->node, first);
        return 0;
    }
    return rv;
}

/* A scalar in key position of a mapping: remember it until its value arrives. */
static int take_key(struct builder *b, struct frame *f, struct ynode *key)
{
    const struct ynode *prev;
    int rv;
    if (key->kind != YNODE_SCALAR) {
        rv = fail(b, key->line, key->col, "mapping keys must be scalars");
    } else if ((rv = find_key(f, key->value, &prev)) == 0 && prev != NULL) {
        rv = fail(b, key->line, key->col, "duplicate key '%s' (first at line %u, column %u)",
                  key->value, prev->key_line, prev->key_col);
    }
    if (rv != 0) {
        node_free(key);
        return rv;
    }
    f->key = key->value;
    f->key_line = key->line;
    f->key_col = key->col;
    key->value = NULL;
    node_free(key);
    return 0;
}

/* Hands a finished node (or an opened collection) to its parent; takes ownership. */
static int attach(struct builder *b, struct ynode *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == YNODE_SEQ) {
        append_child(f, n);
        return 0;
    }
    if (f->key == NULL) {
        return take_key(b, f, n);
    }
    return add_entry(f, n);
}

static int anchor_add(struct builder *b, char *name, struct ynode *node)
{
    if (b->n_anchors == b->cap_anchors) {
        size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 8;
        struct anchor *a = realloc(b->anchors, cap * sizeof(*a));
        if (a == NULL) {
            free(name);
            return CD_ENOMEM;
        }
        b->anchors = a;
        b->cap_anchors = cap;
    }
    b->anchors[b->n_anchors].name = name;
    b->anchors[b->n_anchors].node = node;
    /* A name anchored again names the later node from here on. */
    return names_put(&b->anchor_index, name, (int32_t)b->n_anchors++);
}

static int dup_anchor(const yaml_char_t *anchor, char **out)
{
    *out = NULL;
    if (anchor == NULL) {
        return 0;
    }
    *out = strdup((const char *)anchor);
    return *out == NULL ? CD_ENOMEM : 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct ynode *n = NULL;
    int rv = node_new(b, YNODE_SCALAR, (uint32_t)ev->start_mark.line + 1,
                      (uint32_t)ev->start_mark.column + 1, &n);
    if (rv != 0) {
        return rv;
    }
    n->len = ev->data.scalar.length;
    if (memchr(ev->data.scalar.value, 0, n->len) != NULL) {
        rv = fail(b, n->line, n->col, "a NUL character (\\0) is not allowed in a scalar");
        node_free(n);
        return rv;
    }
    n->value = malloc(n->len + 1);
    if (n->value == NULL) {
        node_free(n);
        return CD_ENOMEM;
    }
    memcpy(n->value, ev->data.scalar.value, n->len);
    n->value[n->len] = 0;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    /* An anchor on a mapping key is dropped: keys do not stay nodes of the tree. */
    bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == YNODE_MAP &&
                  b->stack[b->depth - 1].key == NULL;
    char *anchor = NULL;
    if (!is_key && dup_anchor(ev->data.scalar.anchor, &anchor) != 0) {
        node_free(n);
        return CD_ENOMEM;
    }
    if ((rv = attach(b, n)) != 0) {
        free(anchor);
        return rv;
    }
    return anchor != NULL ? anchor_add(b, anchor, n) : 0;
}

static int on_start(struct builder *b, const yaml_event_t *ev, uint8_t kind)
{
    uint32_t line = (uint32_t)ev->start_mark.line + 1,
             col = (uint32_t)ev->start_mark.column + 1;
    if (b->depth == b->lim.depth) {
        return fail(b, line, col, "nesting deeper than %u levels", b->lim.depth);
    }
    const yaml_char_t *anchor =
        kind == YNODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    struct ynode *n = NULL;
    int rv = node_new(b, kind, line, col, &n);
    if (rv != 0) {
        return rv;
    }
    char *name;
    if (dup_anchor(anchor, &name) != 0) {
        node_free(n);
        return CD_ENOMEM;
    }
    rv = attach(b, n); /* the parent owns n from here on, even on error */
    if (rv != 0) {
        free(name);
        return rv;
    }
    struct frame *f = &b->stack[b->depth++];
    *f = (struct frame){.node = n, .tail = &n->child, .anchor = name};
    names_init(&f->keys);
    return 0;
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->stack[--b->depth];
    names_close(&f->keys);
    if (f->anchor != NULL) {
        char *name = f->anchor;
        f->anchor = NULL;
        return anchor_add(b, name, f->node);
    }
    return 0;
}

/* Where an alias is being expanded, for the errors its copy may run into. */
struct expansion
{
    uint32_t line, col;
    const char *name;
};

static int copy_tree(struct builder *b,
                     const struct expansion *at,
                     uint32_t level,
                     const struct ynode *src,
                     struct ynode **out);

/* Copies src as a node level collections deep below the alias's parent. */
static int copy_node(struct builder *b,
                     const struct expansion *at,
                     uint32_t level,
                     const struct ynode *src,
                     struct ynode **out)
{
    if (src->kind != YNODE_SCALAR && b->depth + level > b->lim.depth) {
        return fail(b, at->line, at->col, "nesting deeper than %u levels (alias '*%s')",
                    b->lim.depth, at->name);
    }
    struct ynode *n = NULL;
    int rv = node_new(b, src->kind, at->line, at->col, &n);
    if (rv != 0) {
        return rv;
    }
    n->line = src->line;
    n->col = src->col;
    n->plain = src->plain;
    n->len = src->len;
    n->key_line = src->key_line;
    n->key_col = src->key_col;
    if ((src->value != NULL && (n->value = strdup(src->value)) == NULL) ||
        (src->key != NULL && (n->key = strdup(src->key)) == NULL)) {
        node_free(n);
        return CD_ENOMEM;
    }
    if ((rv = copy_tree(b, at, level + 1, src->child, &n->child)) != 0) {
        node_free(n);
        return rv;
    }
    n->n = src->n;
    *out = n;
    return 0;
}

/* Copies a sibling list. */
static int copy_tree(struct builder *b,
                     const struct expansion *at,
                     uint32_t level,
                     const struct ynode *src,
                     struct ynode **out)
{
    *out = NULL;
    for (struct ynode **link = out; src != NULL; src = src->next) {
        int rv = copy_node(b, at, level, src, link);
        if (rv != 0) {
            node_free(*out);
            *out = NULL;
            return rv;
        }
        link = &(*link)->next;
    }
    return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    struct expansion at = {.line = (uint32_t)ev->start_mark.line + 1,
                           .col = (uint32_t)ev->start_mark.column + 1,
                           .name = (const char *)ev->data.alias.anchor};
    int32_t i = names_find(&b->anchor_index, at.name);
    if (i < 0) {
        return fail(b, at.line, at.col,
                    "unknown alias '*%s' (no anchor of that name before it)", at.name);
    }
    struct ynode *copy;
    struct ynode saved = *b->anchors[i].node;
    saved.next = NULL; /* copy the node, not its siblings */
    saved.key = NULL;
    int rv = copy_node(b, &at, 1, &saved, &copy);
    if (rv != 0) {
        return rv;
    }
    copy->line = at.line;
    copy->col = at.col;
    return attach(b, copy);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++b->documents > 1) {
                return fail(b, (uint32_t)ev->start_mark.line + 1,
                            (uint32_t)ev->start_mark.column + 1,
                            "expected a single document, found a second one");
            }
            return 0;
        case YAML_SCALAR_EVENT:
            return on_scalar(b, ev);
        case YAML_SEQUENCE_START_EVENT:
            return on_start(b, ev, YNODE_SEQ);
        case YAML_MAPPING_START_EVENT:
            return on_start(b, ev, YNODE_MAP);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            return on_end(b);
        case YAML_ALIAS_EVENT:
            return on_alias(b, ev);
        default:
            return 0;
    }
}

/* Line and column (in characters, as libyaml counts them) of a byte offset, for errors
 * that carry no mark. */
static void offset_mark(const char *text, size_t len, size_t off, uint32_t *line, uint32_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

static int syntax_error(struct builder *b, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        return CD_ENOMEM;
    }
    const char *problem = p->problem != NULL ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        uint32_t line, col;
        offset_mark(text, len, p->problem_offset, &line, &col);
        return fail(b, line, col, "syntax error: %s", problem);
    }
    uint32_t line = (uint32_t)p->problem_mark.line + 1;
    uint32_t col = (uint32_t)p->problem_mark.column + 1;
    if (p->context == NULL) {
        return fail(b, line, col, "syntax error: %s", problem);
    }
    return fail(b, line, col, "syntax error: %s (%s that started at line %u, column %u)",
                problem, p->context, (uint32_t)p->context_mark.line + 1,
                (uint32_t)p->context_mark.column + 1);
}

static void builder_close(struct builder *b)
{
    for (uint32_t i = 0; i < b->depth; i++) {
        free(b->stack[i].anchor);
        free(b->stack[i].key);
        names_close(&b->stack[i].keys);
    }
    for (size_t i = 0; i < b->n_anchors; i++) {
        free(b->anchors[i].name);
    }
    free(b->anchors);
    names_close(&b->anchor_index);
    node_free(b->root);
}

static int run_parser(struct builder *b, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        return CD_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    /* UTF-8 only: libyaml would otherwise take a byte-order mark for UTF-16, and the text
     * kept as the model's source must be what JSON and the archive can hold. */
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    int rv = 0;
    for (bool done = false; !done && rv == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rv = syntax_error(b, &parser, text, len);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rv = on_event(b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rv;
}

int ydoc_parse(const char *file,
               const char *text,
               size_t len,
               const struct ydoc_limits *lim,
               struct ydoc *doc,
               char *err,
               size_t errlen)
{
    struct builder b = {.file = file, .err = err, .errlen = errlen, .lim = *lim};
    if (b.lim.depth > YDOC_DEPTH_MAX) {
        b.lim.depth = YDOC_DEPTH_MAX;
    }
    names_init(&b.anchor_index);
    if (len > lim->bytes) {
        uint32_t line, col;
        offset_mark(text, len, lim->bytes, &line, &col);
        return fail(&b, line, col, "document too large: more than %zu bytes", lim->bytes);
    }
    int rv = run_parser(&b, text, len);
    if (rv != 0) {
        builder_close(&b);
        return rv;
    }
    doc->root = b.root;
    b.root = NULL;
    builder_close(&b);
    return 0;
}

void ydoc_free(struct ydoc *doc)
{
    node_free(doc->root);
    doc->root = NULL;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
    if (map == NULL || map->kind != YNODE_MAP) {
        return NULL;
    }
    for (const struct ynode *c = map->child; c != NULL; c = c->next) {
        if (strcmp(c->key, key) == 0) {
            return c;
        }
    }
    return NULL;
}

bool ynode_is_null(const struct ynode *n)
{
    return n == NULL ||
           (n->kind == YNODE_SCALAR && n->plain &&
            (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
             strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0));
}
