/* PRIVACY_ERASE: one customer's attribute value taken out of every live contact, at the
 * same log index on every node. The removal packs the contact's attribute blob in place,
 * so it allocates nothing and cannot half-apply. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

/* Removes key from c when its value is exactly value; true when it did. */
static bool erase_from(struct contact *c, const char *key, const char *value)
{
    char *p = c->attrs;
    for (uint8_t i = 0; i < c->n_attrs; i++) {
        size_t k = strlen(p) + 1;
        size_t v = strlen(p + k) + 1;
        if (strcmp(p, key) == 0 && strcmp(p + k, value) == 0) {
            char *end = c->attrs;
            for (uint8_t j = 0; j < c->n_attrs; j++) {
                end += strlen(end) + 1;
                end += strlen(end) + 1;
            }
            /* Overwrite the pair first, so no copy of the value stays in the heap. */
            memmove(p, p + k + v, (size_t)(end - (p + k + v)));
            memset(end - (k + v), 0, k + v);
            if (--c->n_attrs == 0) {
                cd_free(c->attrs);
                c->attrs = NULL;
            }
            return true;
        }
        p += k + v;
    }
    return false;
}

int engine__cmd_erase(struct engine *e,
                      const char *key,
                      const char *value,
                      struct engine_result *res)
{
    if (key == NULL || !engine_name_valid(key, ENGINE_KEY_MAX)) {
        return FAIL(res, CD_EINVAL, "erase: key: expected an attribute key");
    }
    if (value == NULL || value[0] == 0 ||
        strnlen(value, ENGINE_VALUE_MAX) == ENGINE_VALUE_MAX) {
        return FAIL(res, CD_EINVAL, "erase: value: expected 1..%d bytes", ENGINE_VALUE_MAX - 1);
    }
    uint64_t changed = 0;
    for (uint32_t s = 0; s < e->n_slots; s++) {
        struct contact *c = &e->contacts[s];
        if (c->id != 0 && erase_from(c, key, value)) {
            changed++;
        }
    }
    res->contact = changed;
    return 0;
}
