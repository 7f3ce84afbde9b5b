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

static void def_free(struct engine__report_def *d)
{
    for (uint32_t i = 0; i < d->n_versions; i++) {
        version_free(&d->v[i]);
    }
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
    uint32_t lo = 0, hi = e->n_report_defs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->report_defs[mid].name, name);
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *at = lo;
    return false;
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
        return FAIL(res, CD_EINVAL, "report definition '%s': comment longer than %d bytes", name,
                    ENGINE_COMMENT_MAX - 1);
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

int engine__cmd_report(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res)
{
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
    }
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
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}
