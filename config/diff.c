/* What changed between two routing-model documents, for people: one line per change, named
 * by its path in the document.
 *
 *   + queues.sales-chat: {channels: [chat], strategy: longest-idle}
 *   - agents[ls004]
 *   + rules[vip-chat] at 1: {name: vip-chat, when: {channel: chat}, route: vip}
 *   ~ queues.sales-voice.max_size: 200 -> 250
 *   ~ rules: order vip, sales, chat -> sales, vip, chat
 *
 * Mappings are compared key by key. Sequences whose items are mappings with an "id",
 * "name" or "date" are compared item by item under that key (agents, rules, holidays),
 * and a change of their order is a change too; other sequences are compared whole.
 * Values are shown in YAML flow style on one line (control characters escaped as \n, \t
 * or \xHH), cut at VALUE_MAX bytes without splitting a character. Matching is by hash
 * index, so the diff of two large models costs time linear in their size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/config.h"
#include "config/names.h"
#include "config/yaml_doc.h"

#define VALUE_MAX 160
#define PATH_MAX_LEN 512
/* Below this many entries a mapping or list is searched by a walk rather than an index. */
#define INDEX_MIN 8

struct out
{
    FILE *f;
    unsigned lines;
    int err; /* CD_ENOMEM once an index could not be built */
};

/* The entries of a mapping by key, or the items of a list by the value of their naming
 * field, so that matching two large collections costs linear time. */
struct lookup
{
    const struct ynode *coll;
    const char *field; /* NULL for a mapping */
    const struct ynode **items;
    struct names index;
};

static const char *name_of(const struct lookup *l, const struct ynode *c)
{
    return l->field == NULL ? c->key : ynode_get(c, l->field)->value;
}

static int lookup_init(struct lookup *l, const struct ynode *coll, const char *field)
{
    *l = (struct lookup){.coll = coll, .field = field};
    names_init(&l->index);
    if (coll->n < INDEX_MIN) {
        return 0;
    }
    l->items = malloc(coll->n * sizeof(*l->items));
    if (l->items == NULL) {
        return CD_ENOMEM;
    }
    int32_t i = 0;
    for (const struct ynode *c = coll->child; c != NULL; c = c->next, i++) {
        l->items[i] = c;
        /* Of two items with one name, the first is the one found, as by a walk. */
        if (names_add(&l->index, name_of(l, c), i, NULL) == CD_ENOMEM) {
            return CD_ENOMEM;
        }
    }
    return 0;
}

static void lookup_close(struct lookup *l)
{
    free(l->items);
    names_close(&l->index);
}

static const struct ynode *lookup_find(const struct lookup *l, const char *name)
{
    if (l->items != NULL) {
        int32_t i = names_find(&l->index, name);
        return i >= 0 ? l->items[i] : NULL;
    }
    for (const struct ynode *c = l->coll->child; c != NULL; c = c->next) {
        if (strcmp(name_of(l, c), name) == 0) {
            return c;
        }
    }
    return NULL;
}

/* A scalar on one line: control characters are escaped, so that a value never splits the
 * line it is shown on. */
static void put_scalar(FILE *f, const char *s)
{
    for (; *s != 0; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n') {
            fputs("\\n", f);
        } else if (ch == '\t') {
            fputs("\\t", f);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\x%02x", ch);
        } else {
            fputc(ch, f);
        }
    }
}

static void render(FILE *f, const struct ynode *n)
{
    if (n == NULL) {
        fputs("~", f);
    } else if (n->kind == YNODE_SCALAR) {
        put_scalar(f, n->value);
    } else {
        fputc(n->kind == YNODE_SEQ ? '[' : '{', f);
        for (const struct ynode *c = n->child; c != NULL; c = c->next) {
            if (n->kind == YNODE_MAP) {
                put_scalar(f, c->key);
                fputs(": ", f);
            }
            render(f, c);
            fputs(c->next != NULL ? ", " : "", f);
        }
        fputc(n->kind == YNODE_SEQ ? ']' : '}', f);
    }
}

/* Length of the longest prefix of s, of at most max bytes, that does not split a UTF-8
 * character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80) {
        max--;
    }
    return max;
}

/* n rendered into buf, cut with "..." past VALUE_MAX. */
static const char *shown(const struct ynode *n, char *buf, size_t len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL) {
        snprintf(buf, len, "?");
        return buf;
    }
    render(f, n);
    fclose(f);
    if (size > VALUE_MAX) {
        snprintf(buf, len, "%.*s...", (int)utf8_cut(text, size, VALUE_MAX), text);
    } else {
        snprintf(buf, len, "%s", text ? text : "");
    }
    free(text);
    return buf;
}

/* path.name (a mapping's entry) or path[name] (a list's item), the name shown as a scalar,
 * cut at a character boundary when too long. */
static void sub_path(char *buf, const char *path, bool item, const char *name)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL) {
        snprintf(buf, PATH_MAX_LEN, "%s", path);
        return;
    }
    fputs(path, f);
    fputs(item ? "[" : *path ? "." : "", f);
    put_scalar(f, name);
    fputs(item ? "]" : "", f);
    fclose(f);
    size_t n = text != NULL ? utf8_cut(text, size, PATH_MAX_LEN - 1) : 0;
    memcpy(buf, text != NULL ? text : "", n);
    buf[n] = 0;
    free(text);
}

static void line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
    fputc('\n', o->f);
    o->lines++;
}

static bool same(const struct ynode *a, const struct ynode *b)
{
    if (a->kind != b->kind || a->n != b->n) {
        return false;
    }
    if (a->kind == YNODE_SCALAR) {
        return strcmp(a->value, b->value) == 0;
    }
    for (const struct ynode *x = a->child, *y = b->child; x != NULL; x = x->next, y = y->next) {
        if ((a->kind == YNODE_MAP && strcmp(x->key, y->key) != 0) || !same(x, y)) {
            return false;
        }
    }
    return true;
}

/* The field that names the items of a sequence of mappings, or NULL. */
static const char *item_key(const struct ynode *a, const struct ynode *b)
{
    static const char *const names[] = {"id", "name", "date", NULL};
    for (size_t k = 0; names[k] != NULL; k++) {
        bool all = true;
        for (const struct ynode *s = a; s != NULL && all; s = s == a ? b : NULL) {
            for (const struct ynode *c = s->child; c != NULL && all; c = c->next) {
                const struct ynode *v = c->kind == YNODE_MAP ? ynode_get(c, names[k]) : NULL;
                all = v != NULL && v->kind == YNODE_SCALAR;
            }
        }
        if (all) {
            return names[k];
        }
    }
    return NULL;
}

static void diff(struct out *o, const char *path, const struct ynode *a, const struct ynode *b);

static void diff_map(struct out *o,
                     const char *path,
                     const struct ynode *a,
                     const struct ynode *b)
{
    char sub[PATH_MAX_LEN], v[VALUE_MAX + 8];
    struct lookup la, lb;
    if ((lookup_init(&la, a, NULL) | lookup_init(&lb, b, NULL)) != 0) {
        o->err = CD_ENOMEM;
    }
    for (const struct ynode *x = a->child; x != NULL && o->err == 0; x = x->next) {
        const struct ynode *y = lookup_find(&lb, x->key);
        sub_path(sub, path, false, x->key);
        if (y == NULL) {
            line(o, "- %s", sub);
        } else {
            diff(o, sub, x, y);
        }
    }
    for (const struct ynode *y = b->child; y != NULL && o->err == 0; y = y->next) {
        if (lookup_find(&la, y->key) == NULL) {
            sub_path(sub, path, false, y->key);
            line(o, "+ %s: %s", sub, shown(y, v, sizeof(v)));
        }
    }
    lookup_close(&la);
    lookup_close(&lb);
}

/* The names of the items of seq (indexed by l) that the other sequence has too, in seq's
 * order. */
static void common_order(FILE *f, const struct lookup *l, const struct lookup *other)
{
    bool first = true;
    for (const struct ynode *c = l->coll->child; c != NULL; c = c->next) {
        const char *name = name_of(l, c);
        if (lookup_find(other, name) != NULL) {
            fputs(first ? "" : ", ", f);
            put_scalar(f, name);
            first = false;
        }
    }
}

static void diff_order(struct out *o,
                       const char *path,
                       const struct lookup *la,
                       const struct lookup *lb)
{
    char *order_a = NULL, *order_b = NULL;
    size_t len_a = 0, len_b = 0;
    FILE *fa = open_memstream(&order_a, &len_a), *fb = open_memstream(&order_b, &len_b);
    if (fa != NULL && fb != NULL) {
        common_order(fa, la, lb);
        common_order(fb, lb, la);
    }
    if (fa != NULL) {
        fclose(fa);
    }
    if (fb != NULL) {
        fclose(fb);
    }
    if (order_a != NULL && order_b != NULL && strcmp(order_a, order_b) != 0) {
        line(o, "~ %s: order %s -> %s", path, order_a, order_b);
    }
    free(order_a);
    free(order_b);
}

static void diff_items(struct out *o,
                       const char *path,
                       const struct ynode *a,
                       const struct ynode *b,
                       const char *key)
{
    char sub[PATH_MAX_LEN], v[VALUE_MAX + 8];
    struct lookup la, lb;
    if ((lookup_init(&la, a, key) | lookup_init(&lb, b, key)) != 0) {
        o->err = CD_ENOMEM;
    }
    for (const struct ynode *x = a->child; x != NULL && o->err == 0; x = x->next) {
        const char *name = name_of(&la, x);
        const struct ynode *y = lookup_find(&lb, name);
        sub_path(sub, path, true, name);
        if (y == NULL) {
            line(o, "- %s", sub);
        } else {
            diff(o, sub, x, y);
        }
    }
    unsigned pos = 0;
    for (const struct ynode *y = b->child; y != NULL && o->err == 0; y = y->next) {
        const char *name = name_of(&lb, y);
        pos++;
        if (lookup_find(&la, name) == NULL) {
            sub_path(sub, path, true, name);
            line(o, "+ %s at %u: %s", sub, pos, shown(y, v, sizeof(v)));
        }
    }
    if (o->err == 0) {
        diff_order(o, path, &la, &lb);
    }
    lookup_close(&la);
    lookup_close(&lb);
}

static void diff(struct out *o, const char *path, const struct ynode *a, const struct ynode *b)
{
    char va[VALUE_MAX + 8], vb[VALUE_MAX + 8];
    const char *key;
    if (same(a, b)) {
        return;
    }
    if (a->kind == YNODE_MAP && b->kind == YNODE_MAP) {
        diff_map(o, path, a, b);
    } else if (a->kind == YNODE_SEQ && b->kind == YNODE_SEQ && (key = item_key(a, b)) != NULL) {
        diff_items(o, path, a, b, key);
    } else {
        line(o, "~ %s: %s -> %s", *path ? path : "(document)", shown(a, va, sizeof(va)),
             shown(b, vb, sizeof(vb)));
    }
}

int config_model_diff(const char *old_text,
                      size_t old_len,
                      const char *new_text,
                      size_t new_len,
                      char **out,
                      char *err,
                      size_t errlen)
{
    static const struct ydoc_limits lim = {CONFIG_MODEL_BYTES_MAX, CONFIG_MODEL_NODES_MAX,
                                           CONFIG_MODEL_DEPTH_MAX};
    struct ydoc a = {0}, b = {0};
    struct out o = {0};
    char *text = NULL;
    size_t size = 0;
    int rv = ydoc_parse("running", old_text, old_len, &lim, &a, err, errlen);
    if (rv == 0) {
        rv = ydoc_parse("model", new_text, new_len, &lim, &b, err, errlen);
    }
    if (rv == 0 && (o.f = open_memstream(&text, &size)) == NULL) {
        rv = CD_ENOMEM;
    }
    if (rv == 0) {
        static const struct ynode empty = {.kind = YNODE_MAP};
        diff(&o, "", a.root ? a.root : &empty, b.root ? b.root : &empty);
        rv = fclose(o.f) == 0 ? o.err : CD_ENOMEM;
    }
    ydoc_free(&a);
    ydoc_free(&b);
    if (rv != 0) {
        free(text);
        if (rv == CD_ENOMEM) {
            snprintf(err, errlen, "out of memory");
        }
        return rv;
    }
    *out = text;
    return 0;
}
