/* Contact attributes and skill requirement sets. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

static size_t packed_len(const struct engine_attr *attrs, uint8_t n)
{
    size_t len = 0;
    for (uint8_t i = 0; i < n; i++) {
        len += strlen(attrs[i].key) + strlen(attrs[i].value) + 2;
    }
    return len;
}

/* Replaces the contact's attributes with attrs (entries with an empty value are left out). */
static int attrs_store(struct contact *c, const struct engine_attr *attrs, uint8_t n)
{
    char *blob = NULL;
    uint8_t kept = 0;
    size_t len = packed_len(attrs, n);
    if (len > 0 && (blob = cd_malloc(len)) == NULL) {
        return CD_ENOMEM;
    }
    char *p = blob;
    for (uint8_t i = 0; i < n; i++) {
        if (attrs[i].value[0] == 0) {
            continue;
        }
        size_t k = strlen(attrs[i].key) + 1, v = strlen(attrs[i].value) + 1;
        memcpy(p, attrs[i].key, k);
        memcpy(p + k, attrs[i].value, v);
        p += k + v;
        kept++;
    }
    cd_free(c->attrs);
    c->attrs = kept ? blob : NULL;
    if (!kept) {
        cd_free(blob);
    }
    c->n_attrs = kept;
    return 0;
}

int engine__attrs_set(struct contact *c, const struct engine_attr *attrs, uint8_t n)
{
    return attrs_store(c, attrs, n);
}

uint8_t engine__attrs_list(const struct contact *c, struct engine_attr *out)
{
    const char *p = c->attrs;
    for (uint8_t i = 0; i < c->n_attrs; i++) {
        out[i].key = p;
        p += strlen(p) + 1;
        out[i].value = p;
        p += strlen(p) + 1;
    }
    return c->n_attrs;
}

const char *engine__attr_get(const struct contact *c, const char *key)
{
    const char *p = c->attrs;
    for (uint8_t i = 0; i < c->n_attrs; i++) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, key) == 0) {
            return v;
        }
        p = v + strlen(v) + 1;
    }
    return NULL;
}

int engine__attrs_update(struct contact *c, const struct engine_attr *attrs, uint8_t n)
{
    struct engine_attr all[2 * ENGINE_ATTRS_MAX];
    uint8_t total = engine__attrs_list(c, all);
    uint8_t live = total;
    for (uint8_t i = 0; i < n; i++) {
        uint8_t j = 0;
        while (j < total && strcmp(all[j].key, attrs[i].key) != 0) {
            j++;
        }
        if (j == total) {
            all[total++] = attrs[i];
            live += attrs[i].value[0] != 0;
        } else {
            live = (uint8_t)(live - (all[j].value[0] != 0) + (attrs[i].value[0] != 0));
            all[j].value = attrs[i].value;
        }
    }
    if (live > ENGINE_ATTRS_MAX) {
        return CD_ETOOBIG;
    }
    return attrs_store(c, all, total);
}

void engine__reqs_add(struct reqs *dst, uint16_t skill, uint8_t level)
{
    uint8_t i = 0;
    while (i < dst->n && dst->s[i].skill < skill) {
        i++;
    }
    if (i < dst->n && dst->s[i].skill == skill) {
        if (level > dst->s[i].level) {
            dst->s[i].level = level;
        }
        return;
    }
    if (dst->n == ENGINE_REQ_SKILLS) {
        if (i == dst->n) {
            return;
        }
        dst->n--;
    }
    memmove(&dst->s[i + 1], &dst->s[i], (size_t)(dst->n - i) * sizeof(dst->s[0]));
    dst->s[i].skill = skill;
    dst->s[i].level = level;
    dst->n++;
}

void engine__reqs_merge(struct reqs *dst, const struct reqs *src)
{
    for (uint8_t i = 0; i < src->n; i++) {
        engine__reqs_add(dst, src->s[i].skill, src->s[i].level);
    }
}

int engine__reqs_from_refs(const struct engine *e,
                           const struct engine_skill_ref *refs,
                           uint8_t n,
                           struct reqs *out,
                           struct engine_result *res)
{
    out->n = 0;
    if (n > ENGINE_REQ_SKILLS || (n > 0 && refs == NULL)) {
        return FAIL(res, CD_EINVAL, "too many required skills (at most %d)", ENGINE_REQ_SKILLS);
    }
    for (uint8_t i = 0; i < n; i++) {
        uint16_t id = 0;
        int rv = engine__skill_ref(e, &refs[i], &id, res);
        if (rv != 0) {
            return rv;
        }
        engine__reqs_add(out, id, refs[i].level);
    }
    return 0;
}

int engine__skill_ref(const struct engine *e,
                      const struct engine_skill_ref *ref,
                      uint16_t *id,
                      struct engine_result *res)
{
    int found = engine__skill_id(e, ref->skill);
    if (found < 0) {
        return FAIL(res, CD_EINVAL, "unknown skill '%s'", ref->skill ? ref->skill : "");
    }
    if (ref->level < 1 || ref->level > ENGINE_PROFICIENCY_MAX) {
        return FAIL(res, CD_EINVAL, "skill '%s': level %u outside 1-%d", ref->skill, ref->level,
                    ENGINE_PROFICIENCY_MAX);
    }
    *id = (uint16_t)found;
    return 0;
}
