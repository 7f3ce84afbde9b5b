/* Report definitions (engine.h, "Report definitions"): named, versioned texts that say what
 * a report shows, replicated like the routing model so that every node runs the same report
 * for the same name, and a supervisor's change is a command with an actor and an audit
 * effect. The engine keeps the text as the API canonicalised it and checks only its shape;
 * what the text means is the reports' business. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

static void version_free(struct engine__report_version *v)
{
    cd_free(v->actor);
    cd_free(v->comment);
    cd_free(v->text);
    memset(v, 0, sizeof(*v));
}

static void round_free(struct engine__round *r)
{
    for (uint8_t i = 0; i < r->n_targets; i++) {
        cd_free(r->t[i].text);
    }
    memset(r, 0, sizeof(*r));
}

static void def_free(struct engine__report_def *d)
{
    for (uint32_t i = 0; i < d->n_versions; i++) {
        version_free(&d->v[i]);
    }
    for (uint32_t i = 0; i < d->n_rounds; i++) {
        round_free(&d->rounds[i]);
    }
    cd_free(d->rounds);
    memset(d, 0, sizeof(*d));
}

void engine__report_defs_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_report_defs; i++) {
        def_free(&e->report_defs[i]);
    }
    cd_free(e->report_defs);
    e->report_defs = NULL;
    e->n_report_defs = 0;
}

/* The definition's position, or where it would go (names sorted), in *at. */
static bool find(const struct engine *e, const char *name, uint32_t *at)
{
    return FIND_SORTED(e->report_defs, e->n_report_defs, name, name, at);
}

static bool text_ok(const char *s, size_t max)
{
    return s != NULL && s[0] != 0 && strnlen(s, max) < max;
}

static int check_put(const struct engine_command *cmd, struct engine_result *res)
{
    const char *name = cmd->u.report.name, *text = cmd->u.report.text;
    if (name == NULL || !engine_name_valid(name, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "report definition name: 1-%d of %s (got '%s')",
                    ENGINE_NAME_MAX - 1, ENGINE_NAME_CHARSET, name ? name : "");
    }
    if (cmd->kind == ENGINE_CMD_REPORT_DELETE) {
        return 0;
    }
    if (!text_ok(text, ENGINE_REPORT_TEXT_MAX)) {
        return FAIL(res, CD_EINVAL, "report definition '%s': the text must be 1-%d bytes", name,
                    ENGINE_REPORT_TEXT_MAX - 1);
    }
    const char *comment = cmd->u.report.comment;
    if (comment != NULL && strnlen(comment, ENGINE_COMMENT_MAX) == ENGINE_COMMENT_MAX) {
        return FAIL(res, CD_EINVAL, "report definition '%s': comment longer than %d bytes",
                    name, ENGINE_COMMENT_MAX - 1);
    }
    return 0;
}

static char *copy(const char *s)
{
    return cd_strdup(s != NULL ? s : "");
}

static int put(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    const char *name = cmd->u.report.name;
    uint32_t at;
    bool found = find(e, name, &at);
    struct engine__report_def *d = found ? &e->report_defs[at] : NULL;
    uint32_t current = found ? d->v[d->n_versions - 1].version : 0;
    if (cmd->u.report.expect != 0 && cmd->u.report.expect != current) {
        return FAIL(res, CD_ESTATE,
                    "report definition '%s' is at version %u, not %u: someone changed it since",
                    name, current, cmd->u.report.expect);
    }
    if (found && strcmp(d->v[d->n_versions - 1].text, cmd->u.report.text) == 0) {
        res->existing = true; /* unchanged: no new version */
        res->contact = current;
        return 0;
    }
    if (!found && e->n_report_defs == ENGINE_REPORTS_MAX) {
        return FAIL(res, CD_ECAPACITY, "at most %d report definitions", ENGINE_REPORTS_MAX);
    }
    struct engine__report_version v = {.version = current + 1,
                                       .at = e->clock,
                                       .actor = copy(cmd->actor),
                                       .comment = copy(cmd->u.report.comment),
                                       .text = copy(cmd->u.report.text)};
    if (v.actor == NULL || v.comment == NULL || v.text == NULL) {
        version_free(&v);
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (!found) {
        struct engine__report_def *grown =
            cd_realloc(e->report_defs, (e->n_report_defs + 1) * sizeof(*grown));
        if (grown == NULL) {
            version_free(&v);
            return FAIL(res, CD_ENOMEM, "out of memory");
        }
        e->report_defs = grown;
        memmove(&grown[at + 1], &grown[at], (e->n_report_defs - at) * sizeof(*grown));
        d = &grown[at];
        memset(d, 0, sizeof(*d));
        memcpy(d->name, name, strlen(name) + 1);
        e->n_report_defs++;
    }
    if (d->n_versions == ENGINE_REPORT_VERSIONS) {
        version_free(&d->v[0]);
        memmove(&d->v[0], &d->v[1], (ENGINE_REPORT_VERSIONS - 1) * sizeof(d->v[0]));
        d->n_versions--;
    }
    d->v[d->n_versions++] = v;
    res->contact = v.version;
    return 0;
}

/* ---- Delivery rounds ----------------------------------------------------------------- */

static struct engine__report_def *def_named(struct engine *e, const char *name)
{
    uint32_t at;
    return name != NULL && find(e, name, &at) ? &e->report_defs[at] : NULL;
}

static int open_round(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    struct engine__report_def *d = def_named(e, cmd->u.round.name);
    if (d == NULL) {
        return FAIL(res, CD_ENOTFOUND, "report definition '%s' not found",
                    cmd->u.round.name ? cmd->u.round.name : "");
    }
    if (cmd->u.round.targets == 0 || cmd->u.round.targets > ENGINE_AUDIENCE_MAX) {
        return FAIL(res, CD_EINVAL, "a round has 1-%d deliveries", ENGINE_AUDIENCE_MAX);
    }
    if (cmd->u.round.version < d->v[0].version ||
        cmd->u.round.version > d->v[d->n_versions - 1].version) {
        return FAIL(res, CD_ESTALE, "report definition '%s' keeps no version %u", d->name,
                    cmd->u.round.version);
    }
    if (cmd->u.round.slot <= d->last_slot) {
        return FAIL(res, CD_EEXISTS, "report '%s': slot %lld is opened already (latest %lld)",
                    d->name, (long long)cmd->u.round.slot, (long long)d->last_slot);
    }
    if (d->rounds == NULL &&
        (d->rounds = cd_calloc(ENGINE_ROUNDS_KEPT, sizeof(*d->rounds))) == NULL) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (d->n_rounds == ENGINE_ROUNDS_KEPT) {
        round_free(&d->rounds[0]);
        memmove(&d->rounds[0], &d->rounds[1], (ENGINE_ROUNDS_KEPT - 1) * sizeof(d->rounds[0]));
        memset(&d->rounds[ENGINE_ROUNDS_KEPT - 1], 0, sizeof(d->rounds[0]));
        d->n_rounds--;
    }
    struct engine__round *r = &d->rounds[d->n_rounds++];
    *r = (struct engine__round){.slot = cmd->u.round.slot,
                                .version = cmd->u.round.version,
                                .opened = e->clock,
                                .n_targets = cmd->u.round.targets};
    d->last_slot = cmd->u.round.slot;
    return 0;
}

static int sent(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    struct engine__report_def *d = def_named(e, cmd->u.round.name);
    struct engine__round *r = NULL;
    for (uint32_t i = 0; d != NULL && i < d->n_rounds; i++) {
        r = d->rounds[i].slot == cmd->u.round.slot ? &d->rounds[i] : r;
    }
    if (r == NULL || cmd->u.round.target >= r->n_targets) {
        return FAIL(res, CD_ENOTFOUND, "report '%s' has no delivery %u in slot %lld",
                    cmd->u.round.name ? cmd->u.round.name : "", cmd->u.round.target,
                    (long long)cmd->u.round.slot);
    }
    const char *text = cmd->u.round.text != NULL ? cmd->u.round.text : "";
    if (strnlen(text, ENGINE_TARGET_MAX) == ENGINE_TARGET_MAX) {
        return FAIL(res, CD_EINVAL, "a delivery's text is under %d bytes", ENGINE_TARGET_MAX);
    }
    struct engine__report_delivery *t = &r->t[cmd->u.round.target];
    if (t->state != ENGINE_DELIVERY_PENDING) {
        return FAIL(res, CD_EEXISTS, "report '%s', slot %lld, delivery %u: already %s", d->name,
                    (long long)r->slot, cmd->u.round.target,
                    t->state == ENGINE_DELIVERY_DONE ? "done" : "failed for good");
    }
    char *copy_text = cd_strdup(text);
    if (copy_text == NULL) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    cd_free(t->text);
    t->text = copy_text;
    t->at = e->clock;
    if (cmd->u.round.ok) {
        t->state = ENGINE_DELIVERY_DONE;
        t->retry_at = 0;
    } else {
        t->attempts++;
        t->state = t->attempts >= ENGINE_DELIVERY_ATTEMPTS ? ENGINE_DELIVERY_FAILED
                                                           : ENGINE_DELIVERY_PENDING;
        t->retry_at = cmd->u.round.retry_at > e->clock ? cmd->u.round.retry_at : e->clock;
    }
    return 0;
}

int engine__cmd_report(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res)
{
    if (cmd->kind == ENGINE_CMD_REPORT_SLOT) {
        return open_round(e, cmd, res);
    }
    if (cmd->kind == ENGINE_CMD_REPORT_SENT) {
        return sent(e, cmd, res);
    }
    int rv = check_put(cmd, res);
    if (rv != 0) {
        return rv;
    }
    if (cmd->kind == ENGINE_CMD_REPORT_PUT) {
        return put(e, cmd, res);
    }
    uint32_t at;
    if (!find(e, cmd->u.report.name, &at)) {
        return FAIL(res, CD_ENOTFOUND, "report definition '%s' not found", cmd->u.report.name);
    }
    def_free(&e->report_defs[at]);
    memmove(&e->report_defs[at], &e->report_defs[at + 1],
            (e->n_report_defs - at - 1) * sizeof(e->report_defs[0]));
    e->n_report_defs--;
    return 0;
}

/* ---- Queries ------------------------------------------------------------------------ */

size_t engine_report_def_count(const struct engine *e)
{
    return e->n_report_defs;
}

const char *engine_report_def_name(const struct engine *e, size_t i)
{
    return i < e->n_report_defs ? e->report_defs[i].name : NULL;
}

int engine_report_def_get(const struct engine *e,
                          const char *name,
                          uint32_t version,
                          struct engine_report_def_info *out)
{
    uint32_t at;
    if (name == NULL || !find(e, name, &at)) {
        return CD_ENOTFOUND;
    }
    const struct engine__report_def *d = &e->report_defs[at];
    for (uint32_t i = d->n_versions; i-- > 0;) {
        const struct engine__report_version *v = &d->v[i];
        if (version == 0 || v->version == version) {
            *out = (struct engine_report_def_info){.name = d->name,
                                                   .version = v->version,
                                                   .current = d->v[d->n_versions - 1].version,
                                                   .oldest = d->v[0].version,
                                                   .at = v->at,
                                                   .actor = v->actor,
                                                   .comment = v->comment,
                                                   .text = v->text};
            return 0;
        }
    }
    return CD_ENOTFOUND;
}

int engine_report_round(const struct engine *e,
                        const char *name,
                        size_t i,
                        struct engine_round_info *out)
{
    uint32_t at;
    if (name == NULL || !find(e, name, &at) || i >= e->report_defs[at].n_rounds) {
        return CD_ENOTFOUND;
    }
    const struct engine__round *r = &e->report_defs[at].rounds[i];
    memset(out, 0, sizeof(*out));
    out->slot = r->slot;
    out->version = r->version;
    out->opened = r->opened;
    out->n_targets = r->n_targets;
    for (uint8_t k = 0; k < r->n_targets; k++) {
        const struct engine__report_delivery *t = &r->t[k];
        out->targets[k] = (struct engine_delivery_info){t->state, t->attempts, t->retry_at,
                                                        t->at, t->text != NULL ? t->text : ""};
    }
    return 0;
}

int64_t engine_report_last_slot(const struct engine *e, const char *name)
{
    uint32_t at;
    return name != NULL && find(e, name, &at) ? e->report_defs[at].last_slot : 0;
}

/* ---- Snapshot ------------------------------------------------------------------------ */

void engine__report_defs_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->n_report_defs);
    for (uint32_t i = 0; i < e->n_report_defs; i++) {
        const struct engine__report_def *d = &e->report_defs[i];
        cd_buf_str(b, d->name);
        cd_buf_uvar(b, d->n_versions);
        for (uint32_t k = 0; k < d->n_versions; k++) {
            const struct engine__report_version *v = &d->v[k];
            cd_buf_uvar(b, v->version);
            cd_buf_svar(b, v->at);
            cd_buf_str(b, v->actor);
            cd_buf_str(b, v->comment);
            cd_buf_str(b, v->text);
        }
        cd_buf_svar(b, d->last_slot);
        cd_buf_uvar(b, d->n_rounds);
        for (uint32_t k = 0; k < d->n_rounds; k++) {
            const struct engine__round *r = &d->rounds[k];
            cd_buf_svar(b, r->slot);
            cd_buf_uvar(b, r->version);
            cd_buf_svar(b, r->opened);
            cd_buf_uvar(b, r->n_targets);
            for (uint8_t t = 0; t < r->n_targets; t++) {
                cd_buf_uvar(b, r->t[t].state);
                cd_buf_uvar(b, r->t[t].attempts);
                cd_buf_svar(b, r->t[t].retry_at);
                cd_buf_svar(b, r->t[t].at);
                cd_buf_str(b, r->t[t].text);
            }
        }
    }
}

static int get_rounds(struct engine__report_def *d, struct cd_reader *r)
{
    d->last_slot = cd_rd_svar(r);
    d->n_rounds = (uint32_t)cd_rd_uint(r, ENGINE_ROUNDS_KEPT);
    if (d->n_rounds > 0 &&
        (d->rounds = cd_calloc(ENGINE_ROUNDS_KEPT, sizeof(*d->rounds))) == NULL) {
        d->n_rounds = 0;
        return CD_ENOMEM;
    }
    for (uint32_t k = 0; k < d->n_rounds && r->err == 0; k++) {
        struct engine__round *o = &d->rounds[k];
        o->slot = cd_rd_svar(r);
        o->version = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        o->opened = cd_rd_svar(r);
        o->n_targets = (uint8_t)cd_rd_uint(r, ENGINE_AUDIENCE_MAX);
        if (o->n_targets == 0 || o->slot > d->last_slot || (k > 0 && o->slot <= o[-1].slot)) {
            return CD_ECORRUPT; /* slots rise, none past the latest */
        }
        for (uint8_t t = 0; t < o->n_targets && r->err == 0; t++) {
            struct engine__report_delivery *x = &o->t[t];
            x->state = (uint8_t)cd_rd_uint(r, ENGINE_DELIVERY_FAILED);
            x->attempts = (uint8_t)cd_rd_uint(r, ENGINE_DELIVERY_ATTEMPTS);
            x->retry_at = cd_rd_svar(r);
            x->at = cd_rd_svar(r);
            const char *text = cd_rd_str(r, NULL);
            if (text[0] != 0 && (x->text = cd_strdup(text)) == NULL) {
                return CD_ENOMEM;
            }
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

int engine__report_defs_decode(struct engine *e, struct cd_reader *r)
{
    uint64_t n = cd_rd_uint(r, ENGINE_REPORTS_MAX);
    if (n > 0 && (e->report_defs = cd_calloc((size_t)n, sizeof(*e->report_defs))) == NULL) {
        return CD_ENOMEM;
    }
    for (uint64_t i = 0; i < n && r->err == 0; i++) {
        struct engine__report_def *d = &e->report_defs[i];
        const char *name = cd_rd_str(r, NULL);
        uint32_t prev = 0;
        if (!engine_name_valid(name, ENGINE_NAME_MAX) ||
            (i > 0 && strcmp(e->report_defs[i - 1].name, name) >= 0)) {
            return CD_ECORRUPT; /* names valid, sorted, each once */
        }
        memcpy(d->name, name, strlen(name) + 1);
        e->n_report_defs++;
        d->n_versions = (uint32_t)cd_rd_uint(r, ENGINE_REPORT_VERSIONS);
        if (d->n_versions == 0) {
            return CD_ECORRUPT;
        }
        for (uint32_t k = 0; k < d->n_versions && r->err == 0; k++) {
            struct engine__report_version *v = &d->v[k];
            v->version = (uint32_t)cd_rd_uint(r, UINT32_MAX);
            v->at = cd_rd_svar(r);
            v->actor = copy(cd_rd_str(r, NULL));
            v->comment = copy(cd_rd_str(r, NULL));
            v->text = copy(cd_rd_str(r, NULL));
            if (v->actor == NULL || v->comment == NULL || v->text == NULL) {
                return CD_ENOMEM;
            }
            if (v->version <= prev || !text_ok(v->text, ENGINE_REPORT_TEXT_MAX)) {
                return CD_ECORRUPT; /* versions rise; every one has a text */
            }
            prev = v->version;
        }
        int rv = r->err == 0 ? get_rounds(d, r) : 0;
        if (rv != 0) {
            return rv;
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}
