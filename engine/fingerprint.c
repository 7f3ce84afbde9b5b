/* The fingerprint of a CONTACT_CREATE: what an idempotency key is checked against when it
 * comes again. Two creates have the same fingerprint when they ask for the same contact:
 * the same channel, queue, priority, skills with their levels and attributes, whatever
 * the order in which the skills and attributes are listed. It is a hash of that canonical
 * form, written byte by byte so it is the same on every machine. */
#include <string.h>

#include "common/error.h"
#include "common/hash.h"
#include "engine/commands.h"

#define SEED 0x6964656d706f74ULL

static uint64_t mix_str(uint64_t h, const char *s)
{
    return cd_hash64(s, strlen(s) + 1, h); /* the NUL ends it: "ab","c" != "a","bc" */
}

static uint64_t mix_u16(uint64_t h, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v & 0xff), (uint8_t)(v >> 8)};
    return cd_hash64(b, sizeof(b), h);
}

static int skill_cmp(const struct engine_skill_ref *a, const struct engine_skill_ref *b)
{
    int c = strcmp(a->skill, b->skill);
    return c != 0 ? c : (int)a->level - (int)b->level;
}

/* Insertion sort of at most ENGINE_REQ_SKILLS (or ENGINE_ATTRS_MAX) pointers: small, and
 * no allocation inside apply. */
static void sort_skills(const struct engine_skill_ref **v, uint8_t n)
{
    for (uint8_t i = 1; i < n; i++) {
        const struct engine_skill_ref *x = v[i];
        uint8_t j = i;
        for (; j > 0 && skill_cmp(v[j - 1], x) > 0; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

static void sort_attrs(const struct engine_attr **v, uint8_t n)
{
    for (uint8_t i = 1; i < n; i++) {
        const struct engine_attr *x = v[i];
        uint8_t j = i;
        for (; j > 0 && strcmp(v[j - 1]->key, x->key) > 0; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

static bool shape_ok(const struct engine_contact_create *cr)
{
    if (cr->n_skills > ENGINE_REQ_SKILLS || cr->n_attrs > ENGINE_ATTRS_MAX ||
        (cr->n_skills > 0 && cr->skills == NULL) || (cr->n_attrs > 0 && cr->attrs == NULL)) {
        return false;
    }
    for (uint8_t i = 0; i < cr->n_skills; i++) {
        if (cr->skills[i].skill == NULL) {
            return false;
        }
    }
    for (uint8_t i = 0; i < cr->n_attrs; i++) {
        if (cr->attrs[i].key == NULL || cr->attrs[i].value == NULL) {
            return false;
        }
    }
    return true;
}

int engine__create_fingerprint(const struct engine_contact_create *cr, uint64_t *out)
{
    const struct engine_skill_ref *skills[ENGINE_REQ_SKILLS];
    const struct engine_attr *attrs[ENGINE_ATTRS_MAX];
    if (!shape_ok(cr)) {
        return CD_EINVAL;
    }
    for (uint8_t i = 0; i < cr->n_skills; i++) {
        skills[i] = &cr->skills[i];
    }
    for (uint8_t i = 0; i < cr->n_attrs; i++) {
        attrs[i] = &cr->attrs[i];
    }
    sort_skills(skills, cr->n_skills);
    sort_attrs(attrs, cr->n_attrs);
    uint64_t h = mix_u16(SEED, cr->channel);
    h = mix_str(h, cr->queue != NULL ? cr->queue : "");
    h = mix_u16(h, (uint16_t)cr->priority);
    h = mix_u16(h, cr->n_skills);
    for (uint8_t i = 0; i < cr->n_skills; i++) {
        h = mix_u16(mix_str(h, skills[i]->skill), skills[i]->level);
    }
    h = mix_u16(h, cr->n_attrs);
    for (uint8_t i = 0; i < cr->n_attrs; i++) {
        h = mix_str(mix_str(h, attrs[i]->key), attrs[i]->value);
    }
    *out = h;
    return 0;
}
