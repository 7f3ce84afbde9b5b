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
 * Values are shown in YAML flow style, cut at VALUE_MAX bytes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/config.h"
#include "config/yaml_doc.h"

#define VALUE_MAX 160
#define PATH_MAX_LEN 512

struct out
{
    FILE *f;
    unsigned lines;
};

static void render(FILE *f, const struct ynode *n)
{
    if (n == NULL) {
        fputs("~", f);
    } else if (n->kind == YNODE_SCALAR) {
        fputs(n->value, f);
    } else {
        fputc(n->kind == YNODE_SEQ ? '[' : '{', f);
        for (const struct ynode *c = n->child; c != NULL; c = c->next) {
            if (n->kind == YNODE_MAP) {
                fprintf(f, "%s: ", c->key);
            }
            render(f, c);
            fputs(c->next != NULL ? ", " : "", f);
        }
        fputc(n->kind == YNODE_SEQ ? ']' : '}', f);
    }
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
        snprintf(buf, len, "%.*s...", VALUE_MAX, text);
    } else {
        snprintf(buf, len, "%s", text ? text : "");
    }
    free(text);
    return buf;
}

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

static const struct ynode *item(const struct ynode *seq, const char *key, const char *name)
{
    for (const struct ynode *c = seq->child; c != NULL; c = c->next) {
        if (strcmp(ynode_get(c, key)->value, name) == 0) {
            return c;
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
    for (const struct ynode *x = a->child; x != NULL; x = x->next) {
        const struct ynode *y = ynode_get(b, x->key);
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", x->key);
        if (y == NULL) {
            line(o, "- %s", sub);
        } else {
            diff(o, sub, x, y);
        }
    }
    for (const struct ynode *y = b->child; y != NULL; y = y->next) {
        if (ynode_get(a, y->key) == NULL) {
            snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", y->key);
            line(o, "+ %s: %s", sub, shown(y, v, sizeof(v)));
        }
    }
}

/* The names of the items of seq that the other sequence has too, in seq's order. */
static void common_order(FILE *f,
                         const struct ynode *seq,
                         const struct ynode *other,
                         const char *key)
{
    bool first = true;
    for (const struct ynode *c = seq->child; c != NULL; c = c->next) {
        const char *name = ynode_get(c, key)->value;
        if (item(other, key, name) != NULL) {
            fprintf(f, "%s%s", first ? "" : ", ", name);
            first = false;
        }
    }
}

static void diff_items(struct out *o,
                       const char *path,
                       const struct ynode *a,
                       const struct ynode *b,
                       const char *key)
{
    char sub[PATH_MAX_LEN], v[VALUE_MAX + 8];
    for (const struct ynode *x = a->child; x != NULL; x = x->next) {
        const char *name = ynode_get(x, key)->value;
        const struct ynode *y = item(b, key, name);
        snprintf(sub, sizeof(sub), "%s[%s]", path, name);
        if (y == NULL) {
            line(o, "- %s", sub);
        } else {
            diff(o, sub, x, y);
        }
    }
    unsigned pos = 0;
    for (const struct ynode *y = b->child; y != NULL; y = y->next) {
        const char *name = ynode_get(y, key)->value;
        pos++;
        if (item(a, key, name) == NULL) {
            snprintf(sub, sizeof(sub), "%s[%s]", path, name);
            line(o, "+ %s at %u: %s", sub, pos, shown(y, v, sizeof(v)));
        }
    }
    char *order_a = NULL, *order_b = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = open_memstream(&order_a, &la), *fb = open_memstream(&order_b, &lb);
    if (fa != NULL && fb != NULL) {
        common_order(fa, a, b, key);
        common_order(fb, b, a, key);
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
    struct ydoc a = {0}, b = {0};
    struct out o = {0};
    char *text = NULL;
    size_t size = 0;
    int rv = ydoc_parse("running", old_text, old_len, &a, err, errlen);
    if (rv == 0) {
        rv = ydoc_parse("model", new_text, new_len, &b, err, errlen);
    }
    if (rv == 0 && (o.f = open_memstream(&text, &size)) == NULL) {
        rv = CD_ENOMEM;
    }
    if (rv == 0) {
        static const struct ynode empty = {.kind = YNODE_MAP};
        diff(&o, "", a.root ? a.root : &empty, b.root ? b.root : &empty);
        rv = fclose(o.f) == 0 ? 0 : CD_ENOMEM;
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
