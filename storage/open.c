/* Opening and closing a storage: the order of the lock, the boot marker and the LMDB
 * environment is what makes the crash reasoning of storage/README.md hold. */
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "storage/internal.h"

static int check_options(const struct storage_options *opt, char *errmsg, size_t errlen)
{
    if (opt == NULL || opt->dir == NULL || opt->dir[0] == 0) {
        storage__errf(errmsg, errlen, "open storage: no data dir given");
        return CD_EINVAL;
    }
    if (opt->history_keep_ms < 0 || opt->audit_keep_ms < 0) {
        storage__errf(errmsg, errlen, "open storage in '%s': negative %s retention", opt->dir,
                      opt->history_keep_ms < 0 ? "history" : "audit");
        return CD_EINVAL;
    }
    return 0;
}

static struct storage *storage_alloc(const struct storage_options *opt)
{
    struct storage *s = cd_calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->dir = cd_strdup(opt->dir);
    if (s->dir == NULL) {
        cd_free(s);
        return NULL;
    }
    s->lock_fd = -1;
    s->sync_each_batch = opt->sync_each_batch;
    s->history_keep_ms = opt->history_keep_ms ? opt->history_keep_ms : STORAGE_KEEP_DEFAULT_MS;
    s->audit_keep_ms = opt->audit_keep_ms ? opt->audit_keep_ms : STORAGE_AUDIT_KEEP_DEFAULT_MS;
    cd_buf_init(&s->buf);
    return s;
}

static void storage_free(struct storage *s)
{
    cd_buf_close(&s->buf);
    cd_free(s->dir);
    cd_free(s);
}

/* The marker is on disk before LMDB may write a byte, so that no write of this run can reach
 * the disk unannounced. */
static int put_marker(struct storage *s,
                      const char *boot_given,
                      bool *unclean,
                      char *errmsg,
                      size_t errlen)
{
    char boot[STORAGE_BOOT_ID_MAX];
    int rc = storage__boot_id(boot_given, boot, sizeof(boot), errmsg, errlen);
    rc = rc ? rc : storage__marker_check(s->dir, boot, unclean, errmsg, errlen);
    rc = rc ? rc : storage__marker_write(s->dir, boot, errmsg, errlen);
    s->marker_present = rc == 0;
    return rc;
}

/* With an fdatasync on every commit the file on disk is whole at every instant, once what
 * earlier runs of this boot left in the page cache is flushed too; then the marker can go
 * and an OS crash costs nothing. */
static int drop_marker_if_synced(struct storage *s, char *errmsg, size_t errlen)
{
    if (!s->sync_each_batch) {
        return 0;
    }
    int rc = mdb_env_sync(s->env, 1);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "sync environment '%s/data.mdb': %s", s->dir,
                      mdb_strerror(rc));
        return CD_EIO;
    }
    rc = storage__marker_remove(s->dir, errmsg, errlen);
    s->marker_present = rc != 0;
    return rc;
}

static void fill_info(const struct storage *s,
                      bool created,
                      bool unclean,
                      struct storage_open_info *info)
{
    if (info != NULL) {
        info->created = created;
        info->reset_unclean = unclean;
        info->applied = s->applied;
    }
}

/* On failure after the marker is written, it stays: the environment may have been written
 * (LMDB initialises a new file at open), and a marker of this boot costs nothing later. */
int storage_open(const struct storage_options *opt,
                 struct storage **out,
                 struct storage_open_info *info,
                 char *errmsg,
                 size_t errlen)
{
    bool unclean = false, created = false;
    int rc = check_options(opt, errmsg, errlen);
    rc = rc ? rc : storage__dir_check(opt->dir, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    struct storage *s = storage_alloc(opt);
    if (s == NULL) {
        storage__errf(errmsg, errlen, "open storage in '%s': out of memory", opt->dir);
        return CD_ENOMEM;
    }
    rc = storage__dir_lock(s->dir, &s->lock_fd, errmsg, errlen);
    if (rc != 0) {
        goto err_free;
    }
    uint64_t map_size = opt->map_size ? opt->map_size : STORAGE_MAP_DEFAULT;
    rc = put_marker(s, opt->boot_id, &unclean, errmsg, errlen);
    rc = rc ? rc : storage__env_open(s, map_size, errmsg, errlen);
    if (rc != 0) {
        goto err_unlock;
    }
    rc = storage__env_init(s, &created, errmsg, errlen);
    rc = rc ? rc : drop_marker_if_synced(s, errmsg, errlen);
    if (rc != 0) {
        goto err_close_env;
    }
    fill_info(s, created, unclean, info);
    *out = s;
    return 0;

err_close_env:
    mdb_env_close(s->env);
err_unlock:
    close(s->lock_fd);
err_free:
    storage_free(s);
    return rc;
}

void storage_close(struct storage *s)
{
    if (s == NULL) {
        return;
    }
    if (s->batch_open) {
        storage_batch_abort(&s->batch);
    }
    /* The marker may go only when everything written is on disk; if the sync fails it stays
     * and an OS crash before the next open starts the records afresh. */
    bool synced = mdb_env_sync(s->env, 1) == 0;
    mdb_env_close(s->env);
    if (synced && s->marker_present) {
        storage__marker_remove(s->dir, NULL, 0);
    }
    close(s->lock_fd);
    storage_free(s);
}

int storage_sync(struct storage *s, char *errmsg, size_t errlen)
{
    int rc = mdb_env_sync(s->env, 1);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "sync environment '%s/data.mdb': %s", s->dir,
                      mdb_strerror(rc));
        return CD_EIO;
    }
    return 0;
}

uint64_t storage_applied(const struct storage *s)
{
    return s->applied;
}
