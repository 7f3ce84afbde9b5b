/* The pre-chat form: the answers a page sends with its hello, checked against the fields
 * of the model's chat entry, become the contact's attributes. */
#include <stdio.h>
#include <string.h>

#include "adapters/chat/internal.h"
#include "common/error.h"

static bool has_control(const char *s)
{
    for (const unsigned char *u = (const unsigned char *)s; *u != 0; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            return true;
        }
    }
    return false;
}

/* local@domain.tld, without spaces: what a person means by an email address; the mail
 * system judges the rest. */
static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL || strchr(s, ' ') != NULL) {
        return false;
    }
    const char *dot = strrchr(at + 1, '.');
    return dot != NULL && dot > at + 1 && dot[1] != 0;
}

/* Digits with the usual separators and an optional leading +; 5 to 20 digits. */
static bool phone_ok(const char *s)
{
    unsigned digits = 0;
    for (const char *p = s; *p != 0; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (!(*p == '+' && p == s) && strchr(" -().", *p) == NULL) {
            return false;
        }
    }
    return digits >= 5 && digits <= 20;
}

static const struct engine_chat_field *field_of(const struct engine_chat_entry *entry,
                                                const char *key)
{
    for (unsigned i = 0; i < entry->n_fields; i++) {
        if (strcmp(entry->fields[i].key, key) == 0) {
            return &entry->fields[i];
        }
    }
    return NULL;
}

/* The refusal of field key: "LABEL: WHY" (or WHY alone when label is NULL). */
static int refuse(const char **field,
                  const char *key,
                  char *message,
                  size_t len,
                  const char *label,
                  const char *why)
{
    *field = key;
    if (label != NULL) {
        snprintf(message, len, "%s: %s", label, why);
    } else {
        snprintf(message, len, "%s", why);
    }
    return CD_EINVAL;
}

int chat__form(const struct engine_chat_entry *entry,
               json_t *form,
               struct engine_attr *attrs,
               uint8_t *n_attrs,
               const char **field,
               char *message,
               size_t len)
{
    const char *key;
    json_t *value;
    *n_attrs = 0;
    *field = NULL;
    if (form != NULL && !json_is_object(form) && !json_is_null(form)) {
        snprintf(message, len, "form: expected an object of answers");
        return CD_EINVAL;
    }
    json_object_foreach(form, key, value)
    {
        const struct engine_chat_field *f = field_of(entry, key);
        if (f == NULL) {
            *field = key;
            snprintf(message, len, "'%s' is not a field of this form", key);
            return CD_EINVAL;
        }
        const char *s = json_string_value(value);
        if (s == NULL) {
            return refuse(field, f->key, message, len, f->label, "expected text");
        }
        if (s[0] == 0) {
            continue; /* left empty: as if not given */
        }
        if (strlen(s) != json_string_length(value) || strlen(s) > f->max || has_control(s)) {
            *field = f->key;
            snprintf(message, len, "%s: at most %u characters of text", f->label, f->max);
            return CD_EINVAL;
        }
        if (f->type == ENGINE_FIELD_EMAIL && !email_ok(s)) {
            return refuse(field, f->key, message, len, f->label, "not an email address");
        }
        if (f->type == ENGINE_FIELD_PHONE && !phone_ok(s)) {
            return refuse(field, f->key, message, len, f->label, "not a phone number");
        }
        if (f->type == ENGINE_FIELD_SELECT) {
            bool found = false;
            for (unsigned k = 0; k < f->n_options && !found; k++) {
                found = strcmp(f->options[k], s) == 0;
            }
            if (!found) {
                return refuse(field, f->key, message, len, f->label, "not one of the choices");
            }
        }
        attrs[(*n_attrs)++] = (struct engine_attr){f->key, s};
    }
    for (unsigned i = 0; i < entry->n_fields; i++) {
        const struct engine_chat_field *f = &entry->fields[i];
        if (!f->required) {
            continue;
        }
        bool given = false;
        for (unsigned k = 0; k < *n_attrs && !given; k++) {
            given = strcmp(attrs[k].key, f->key) == 0;
        }
        if (!given) {
            *field = f->key;
            snprintf(message, len, "%s is required", f->label);
            return CD_EINVAL;
        }
    }
    return 0;
}
