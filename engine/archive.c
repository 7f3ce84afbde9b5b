/* The archive of installed routing-model versions: what each install brought (its source
 * text), who made it, when, why, and what it changed. The latest ENGINE_ARCHIVE_MAX are
 * kept; they travel in snapshots, so every node, however it caught up, can list them, diff
 * against them and roll back to them. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

static void release(struct engine__archived *a)
{
    cd_free(a->actor);
    cd_free(a->comment);
    cd_free(a->diff);
    cd_free(a->source);
    memset(a, 0, sizeof(*a));
}

static char *copy(const char *s)
{
    return cd_strdup(s != NULL ? s : "");
}

/* Makes room for one more record at the end, dropping the oldest when full. */
static struct engine__archived *append(struct engine *e)
{
    if (e->archive == NULL) {
        e->archive = cd_calloc(ENGINE_ARCHIVE_MAX, sizeof(*e->archive));
        if (e->archive == NULL) {
            return NULL;
        }
    }
    if (e->n_archive == ENGINE_ARCHIVE_MAX) {
        release(&e->archive[0]);
        memmove(&e->archive[0], &e->archive[1], (ENGINE_ARCHIVE_MAX - 1) * sizeof(*e->archive));
        memset(&e->archive[ENGINE_ARCHIVE_MAX - 1], 0, sizeof(*e->archive));
        e->n_archive--;
    }
    return &e->archive[e->n_archive];
}

int engine__archive_add(struct engine *e, const struct engine_command *cmd)
{
    struct engine__archived *a = append(e);
    if (a == NULL) {
        return CD_ENOMEM;
    }
    *a = (struct engine__archived){
        .version = cmd->u.install.version,
        .rollback_of = cmd->u.install.rollback_of,
        .at = e->clock,
        .actor = copy(cmd->actor),
        .comment = copy(cmd->u.install.comment),
        .diff = copy(cmd->u.install.diff),
        .source = copy(cmd->u.install.source),
    };
    if (!a->actor || !a->comment || !a->diff || !a->source) {
        release(a);
        return CD_ENOMEM;
    }
    e->n_archive++;
    return 0;
}

void engine__archive_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_archive; i++) {
        release(&e->archive[i]);
    }
    cd_free(e->archive);
    e->archive = NULL;
    e->n_archive = 0;
}

void engine__archive_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->n_archive);
    for (uint32_t i = 0; i < e->n_archive; i++) {
        const struct engine__archived *a = &e->archive[i];
        cd_buf_uvar(b, a->version);
        cd_buf_uvar(b, a->rollback_of);
        cd_buf_svar(b, a->at);
        cd_buf_str(b, a->actor);
        cd_buf_str(b, a->comment);
        cd_buf_str(b, a->diff);
        cd_buf_str(b, a->source);
    }
}

int engine__archive_decode(struct engine *e, struct cd_reader *r)
{
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_ARCHIVE_MAX);
    uint32_t last = 0;
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct engine__archived *a = append(e);
        if (a == NULL) {
            return CD_ENOMEM;
        }
        a->version = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        a->rollback_of = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        a->at = cd_rd_svar(r);
        a->actor = copy(cd_rd_str(r, NULL));
        a->comment = copy(cd_rd_str(r, NULL));
        a->diff = copy(cd_rd_str(r, NULL));
        a->source = copy(cd_rd_str(r, NULL));
        e->n_archive++;
        if (!a->actor || !a->comment || !a->diff || !a->source) {
            return CD_ENOMEM;
        }
        if (a->version <= last || a->version > e->version) {
            return CD_ECORRUPT; /* versions rise, and none is newer than the installed one */
        }
        last = a->version;
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

/* ---- Queries ------------------------------------------------------------------------ */

static void info(const struct engine__archived *a, struct engine_archived *out)
{
    *out = (struct engine_archived){.version = a->version,
                                    .rollback_of = a->rollback_of,
                                    .at = a->at,
                                    .actor = a->actor,
                                    .comment = a->comment,
                                    .diff = a->diff,
                                    .source = a->source};
}

size_t engine_archive_count(const struct engine *e)
{
    return e->n_archive;
}

int engine_archive_get(const struct engine *e, size_t i, struct engine_archived *out)
{
    if (i >= e->n_archive) {
        return CD_ENOTFOUND;
    }
    info(&e->archive[i], out);
    return 0;
}

int engine_archive_find(const struct engine *e, uint32_t version, struct engine_archived *out)
{
    for (uint32_t i = 0; i < e->n_archive; i++) {
        if (e->archive[i].version == version) {
            info(&e->archive[i], out);
            return 0;
        }
    }
    return CD_ENOTFOUND;
}
