/* storage: opening a data directory — errors that name the directory, files that are not a
 * contactd environment, the boot marker that tells a killed process (keep the records) from
 * an operating-system crash (start afresh), a full map, and the statistics.
 *
 * A killed process is simulated by copying the data directory while the storage is open:
 * with MDB_NOSYNC the copy holds exactly what the page cache holds, which is what a process
 * killed at that instant leaves behind. Opening the copy with another boot id plays the
 * reboot after an OS crash. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "storage/storage.h"
#include "tests/unit/tmpdir.h"

struct fixture
{
    char dir[64];
    char copy[64]; /* a second directory, created empty */
    struct storage_options opt;
    struct storage *s;
    struct storage *s2;
    struct storage_batch *b;
    struct storage_open_info info;
    char err[256];
    char path[PATH_MAX];
    size_t count;
};

/* ---- files -------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* The whole file, NUL-terminated; NULL when it does not exist. Caller frees. Read to the end
 * rather than to the size stat() gives, which is 0 under /proc. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return NULL;
    }
    size_t n = 0, cap = 4096;
    char *data = malloc(cap + 1);
    assert_non_null(data);
    ssize_t got;
    while ((got = read(fd, data + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            assert_non_null(data);
        }
    }
    assert_true(got == 0);
    close(fd);
    data[n] = 0;
    if (len != NULL) {
        *len = n;
    }
    return data;
}

static void copy_dir(const char *from, const char *to)
{
    DIR *d = opendir(from);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char src[PATH_MAX], dst[PATH_MAX];
        snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
        snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
        struct stat st;
        if (stat(src, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len;
            char *data = read_file(src, &len);
            write_file(dst, data, len);
            free(data);
        }
    }
    closedir(d);
}

/* Rewrites every occurrence of `from` in the file with `to` (same length); returns how many. */
static size_t patch_file(const char *path, const void *from, const void *to, size_t n)
{
    size_t len, hits = 0;
    char *data = read_file(path, &len);
    assert_non_null(data);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(data + i, from, n) == 0) {
            memcpy(data + i, to, n);
            hits++;
        }
    }
    write_file(path, data, len);
    free(data);
    return hits;
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cd-storage-XXXXXX");
    snprintf(f->copy, sizeof(f->copy), "/tmp/cd-storage-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(mkdtemp(f->copy));
    f->opt.dir = f->dir;
    f->opt.boot_id = "boot-A";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    storage_batch_abort(f->b);
    storage_close(f->s);
    storage_close(f->s2);
    rm_tree(f->dir);
    rm_tree(f->copy);
    free(f);
    return 0;
}

#define F struct fixture *f = *state
#define IN(dir, name) (snprintf(f->path, sizeof(f->path), "%s/%s", (dir), (name)), f->path)
#define OPEN_RC(opt, out) storage_open((opt), (out), &f->info, f->err, sizeof(f->err))
#define OPEN                                                     \
    do {                                                         \
        int rc_ = OPEN_RC(&f->opt, &f->s);                       \
        if (rc_ != 0) {                                          \
            fail_msg("open: %s (%s)", cd_strerror(rc_), f->err); \
        }                                                        \
    } while (0)
#define CLOSE (storage_close(f->s), f->s = NULL)
#define BEGIN(index) \
    assert_int_equal(storage_batch_begin(f->s, (index), &f->b, f->err, sizeof(f->err)), 0)
#define COMMIT                                                        \
    do {                                                              \
        int rc_ = storage_batch_commit(f->b, f->err, sizeof(f->err)); \
        f->b = NULL;                                                  \
        if (rc_ != 0) {                                               \
            fail_msg("commit: %s (%s)", cd_strerror(rc_), f->err);    \
        }                                                             \
    } while (0)

static struct engine_contact_info contact(uint64_t id)
{
    struct engine_contact_info c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.channel = ENGINE_CH_EMAIL;
    c.queue = "mail";
    c.key = "customer-message-id-0123456789@example.org";
    c.arrived = 1767603600000 + (int64_t)id;
    return c;
}

/* Index 5 with one contact, one agent and one history row. */
static void write_some(struct fixture *f, struct storage *s)
{
    struct engine_contact_info c = contact(1);
    struct engine_agent_info a = {.name = "ann", .site = "lon", .reason = ""};
    struct engine_history h = {.contact = 2,
                               .outcome = ENGINE_CONTACT_COMPLETED,
                               .arrived = 1767603600000,
                               .completed = 1767603600000};
    assert_int_equal(storage_batch_begin(s, 5, &f->b, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_put_contact(f->b, &c), 0);
    assert_int_equal(storage_put_agent(f->b, &a), 0);
    assert_int_equal(storage_put_history(f->b, &h), 0);
    COMMIT;
}

static void assert_some(struct storage *s)
{
    struct storage_contact c;
    struct storage_agent a;
    struct storage_history h;
    assert_int_equal(storage_applied(s), 5);
    assert_int_equal(storage_get_contact(s, 1, &c), 0);
    assert_string_equal(c.key, "customer-message-id-0123456789@example.org");
    assert_int_equal(storage_get_agent(s, "ann", &a), 0);
    assert_int_equal(storage_get_history(s, 2, &h), 0);
}

static void assert_none(struct storage *s)
{
    struct storage_contact c;
    struct storage_agent a;
    struct storage_history h;
    assert_int_equal(storage_applied(s), 0);
    assert_int_equal(storage_get_contact(s, 1, &c), CD_ENOTFOUND);
    assert_int_equal(storage_get_agent(s, "ann", &a), CD_ENOTFOUND);
    assert_int_equal(storage_get_history(s, 2, &h), CD_ENOTFOUND);
}

static int count_contact(void *data, const struct storage_contact *c)
{
    (void)c;
    (*(size_t *)data)++;
    return 0;
}

/* ---- opening ------------------------------------------------------------------------ */

static void creates_then_reopens(void **state)
{
    F;
    OPEN;
    assert_true(f->info.created);
    assert_false(f->info.reset_unclean);
    assert_int_equal(f->info.applied, 0);
    write_some(f, f->s);
    assert_int_equal(storage_sync(f->s, f->err, sizeof(f->err)), 0);
    CLOSE;
    OPEN;
    assert_false(f->info.created);
    assert_false(f->info.reset_unclean);
    assert_int_equal(f->info.applied, 5);
    assert_some(f->s);
}

static void marker_holds_the_boot_id_while_open(void **state)
{
    F;
    OPEN;
    char *text = read_file(IN(f->dir, "storage.open"), NULL);
    assert_non_null(text);
    assert_string_equal(text, "boot-A\n");
    free(text);
    CLOSE;
    assert_null(read_file(IN(f->dir, "storage.open"), NULL));
}

static void boot_id_defaults_to_the_kernels(void **state)
{
    F;
    char *kernel = read_file("/proc/sys/kernel/random/boot_id", NULL);
    if (kernel == NULL) {
        skip();
    }
    kernel[strcspn(kernel, " \n")] = 0;
    f->opt.boot_id = NULL;
    OPEN;
    char *text = read_file(IN(f->dir, "storage.open"), NULL);
    assert_non_null(text);
    text[strcspn(text, "\n")] = 0;
    assert_string_equal(text, kernel);
    free(text);
    free(kernel);
}

static void missing_dir_is_an_io_error(void **state)
{
    F;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/nope", f->dir);
    f->opt.dir = dir;
    assert_int_equal(OPEN_RC(&f->opt, &f->s), CD_EIO);
    assert_null(f->s);
    char want[256];
    snprintf(want, sizeof(want), "open data dir '%s': No such file or directory", dir);
    assert_string_equal(f->err, want);
}

/* chmod does not stop root, so "not writable" is a path through a regular file. */
static void dir_under_a_file_is_an_io_error(void **state)
{
    F;
    char file[128], dir[160], want[256];
    snprintf(file, sizeof(file), "%s/plain", f->dir);
    write_file(file, "x", 1);
    snprintf(dir, sizeof(dir), "%s/sub", file);
    f->opt.dir = dir;
    assert_int_equal(OPEN_RC(&f->opt, &f->s), CD_EIO);
    snprintf(want, sizeof(want), "open data dir '%s': Not a directory", dir);
    assert_string_equal(f->err, want);
    f->opt.dir = file;
    assert_int_equal(OPEN_RC(&f->opt, &f->s), CD_EIO);
    assert_non_null(strstr(f->err, "Not a directory"));
    assert_null(f->s);
}

static void bad_options_are_invalid(void **state)
{
    F;
    struct storage_options opt = f->opt;
    opt.dir = NULL;
    assert_int_equal(OPEN_RC(&opt, &f->s), CD_EINVAL);
    opt.dir = "";
    assert_int_equal(OPEN_RC(&opt, &f->s), CD_EINVAL);
    opt = f->opt;
    opt.history_keep_ms = -1;
    assert_int_equal(OPEN_RC(&opt, &f->s), CD_EINVAL);
    opt = f->opt;
    opt.boot_id = " \n";
    assert_int_equal(OPEN_RC(&opt, &f->s), CD_EINVAL);
    assert_null(f->s);
}

static void second_open_of_a_dir_is_refused(void **state)
{
    F;
    OPEN;
    assert_int_equal(OPEN_RC(&f->opt, &f->s2), CD_EIO);
    assert_null(f->s2);
    assert_non_null(strstr(f->err, "in use"));
    assert_non_null(strstr(f->err, f->dir));
    /* Refusing did not disturb the storage that holds the directory. */
    write_some(f, f->s);
    CLOSE;
    OPEN;
    assert_some(f->s);
}

static void garbage_file_is_corrupt(void **state)
{
    F;
    static uint8_t junk[16384];
    memset(junk, 0xa5, sizeof(junk));
    write_file(IN(f->dir, "data.mdb"), junk, sizeof(junk));
    assert_int_equal(OPEN_RC(&f->opt, &f->s), CD_ECORRUPT);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "data.mdb"));
}

static void newer_format_is_corrupt(void **state)
{
    F;
    OPEN;
    CLOSE;
    /* The meta record "format" holds the version right after its key in the leaf page. */
    assert_true(patch_file(IN(f->dir, "data.mdb"), "format\x01", "format\x09", 7) >= 1);
    assert_int_equal(OPEN_RC(&f->opt, &f->s), CD_ECORRUPT);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "format version 9"));
}

static void corrupt_record_bytes_read_as_corrupt(void **state)
{
    F;
    /* The key is stored as length, bytes, NUL: a NUL overwritten is a malformed string. */
    static const char good[] = "zq-unique-key-for-corruption";
    char bad[sizeof(good)];
    memcpy(bad, good, sizeof(good));
    bad[sizeof(good) - 1] = 'X';
    struct engine_contact_info c = contact(5);
    c.key = good;
    struct engine_contact_info other = contact(6);
    OPEN;
    BEGIN(1);
    assert_int_equal(storage_put_contact(f->b, &c), 0);
    assert_int_equal(storage_put_contact(f->b, &other), 0);
    COMMIT;
    CLOSE;
    assert_true(patch_file(IN(f->dir, "data.mdb"), good, bad, sizeof(good)) >= 1);
    OPEN;
    struct storage_contact got;
    assert_int_equal(storage_get_contact(f->s, 5, &got), CD_ECORRUPT);
    assert_int_equal(storage_get_contact(f->s, 6, &got), 0);
    assert_string_equal(got.key, other.key);
    /* Contact 5 comes first and stops the walk. */
    assert_int_equal(storage_foreach_contact(f->s, count_contact, &f->count), CD_ECORRUPT);
    assert_int_equal(f->count, 0);
}

/* ---- crashes ------------------------------------------------------------------------ */

static void killed_process_keeps_the_records(void **state)
{
    F;
    OPEN;
    write_some(f, f->s);
    copy_dir(f->dir, f->copy);
    struct storage_options opt = f->opt;
    opt.dir = f->copy;
    assert_int_equal(OPEN_RC(&opt, &f->s2), 0);
    assert_false(f->info.reset_unclean);
    assert_false(f->info.created);
    assert_int_equal(f->info.applied, 5);
    assert_some(f->s2);
}

static void os_crash_starts_afresh(void **state)
{
    F;
    OPEN;
    write_some(f, f->s);
    copy_dir(f->dir, f->copy);
    struct storage_options opt = f->opt;
    opt.dir = f->copy;
    opt.boot_id = "boot-B";
    assert_int_equal(OPEN_RC(&opt, &f->s2), 0);
    assert_true(f->info.reset_unclean);
    assert_true(f->info.created);
    assert_int_equal(f->info.applied, 0);
    assert_none(f->s2);
    char *text = read_file(IN(f->copy, "storage.open"), NULL);
    assert_string_equal(text, "boot-B\n");
    free(text);
    /* Raft replay then writes from index 1 again. */
    assert_int_equal(storage_batch_begin(f->s2, 1, &f->b, f->err, sizeof(f->err)), 0);
    COMMIT;
}

static void clean_close_survives_a_reboot(void **state)
{
    F;
    OPEN;
    write_some(f, f->s);
    CLOSE;
    f->opt.boot_id = "boot-B";
    OPEN;
    assert_false(f->info.reset_unclean);
    assert_some(f->s);
}

static void sync_each_batch_survives_an_os_crash(void **state)
{
    F;
    f->opt.sync_each_batch = true;
    OPEN;
    /* Every commit reaches the disk whole, so no marker is needed while open. */
    assert_null(read_file(IN(f->dir, "storage.open"), NULL));
    write_some(f, f->s);
    copy_dir(f->dir, f->copy);
    struct storage_options opt = f->opt;
    opt.dir = f->copy;
    opt.boot_id = "boot-B";
    assert_int_equal(OPEN_RC(&opt, &f->s2), 0);
    assert_false(f->info.reset_unclean);
    assert_some(f->s2);
}

static void unsynced_run_after_a_synced_one_is_reset(void **state)
{
    F;
    f->opt.sync_each_batch = true;
    OPEN;
    CLOSE;
    f->opt.sync_each_batch = false;
    OPEN;
    write_some(f, f->s);
    copy_dir(f->dir, f->copy);
    struct storage_options opt = f->opt;
    opt.dir = f->copy;
    opt.boot_id = "boot-B";
    assert_int_equal(OPEN_RC(&opt, &f->s2), 0);
    assert_true(f->info.reset_unclean);
    assert_none(f->s2);
}

/* ---- a full map --------------------------------------------------------------------- */

static void map_full_fails_the_batch_and_keeps_the_storage(void **state)
{
    F;
    f->opt.map_size = 128 * 1024;
    OPEN;
    write_some(f, f->s);
    struct storage_stats before;
    assert_int_equal(storage_stats(f->s, &before), 0);

    BEGIN(6);
    int rc = 0;
    uint64_t id = 100;
    for (; id < 100000 && rc == 0; id++) {
        struct engine_contact_info c = contact(id);
        rc = storage_put_contact(f->b, &c);
    }
    assert_int_equal(rc, CD_EIO);
    assert_true(id - 100 > 300); /* some hundred rows fit first */
    struct engine_contact_info c = contact(7);
    assert_int_equal(storage_put_contact(f->b, &c), CD_EIO);
    assert_int_equal(storage_batch_commit(f->b, f->err, sizeof(f->err)), CD_EIO);
    f->b = NULL;
    char want[256];
    snprintf(want, sizeof(want), "write batch at index 6 in '%s': put contact ", f->dir);
    assert_non_null(strstr(f->err, want));
    assert_non_null(strstr(f->err, "MDB_MAP_FULL"));

    struct storage_stats after;
    assert_int_equal(storage_stats(f->s, &after), 0);
    assert_memory_equal(&before, &after, sizeof(before));
    assert_some(f->s);

    /* Still usable: a small batch at the same index goes in, and survives a reopen. */
    BEGIN(6);
    assert_int_equal(storage_put_contact(f->b, &c), 0);
    COMMIT;
    CLOSE;
    OPEN;
    assert_int_equal(storage_applied(f->s), 6);
    struct storage_contact got;
    assert_int_equal(storage_get_contact(f->s, 7, &got), 0);
}

/* ---- statistics --------------------------------------------------------------------- */

static void stats_count_rows_and_pages(void **state)
{
    F;
    OPEN;
    struct storage_stats st;
    assert_int_equal(storage_stats(f->s, &st), 0);
    uint64_t empty = st.bytes_in_use;
    assert_true(empty > 0);
    write_some(f, f->s);
    BEGIN(6);
    for (uint64_t id = 10; id < 2010; id++) {
        struct engine_contact_info c = contact(id);
        assert_int_equal(storage_put_contact(f->b, &c), 0);
    }
    COMMIT;
    assert_int_equal(storage_stats(f->s, &st), 0);
    assert_int_equal(st.applied, 6);
    assert_int_equal(st.contacts, 2001);
    assert_int_equal(st.agents, 1);
    assert_int_equal(st.history, 1);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.gap_first, 0);
    assert_int_equal(st.gap_last, 0);
    /* 2000 records of some 80 bytes cannot fit in fewer than 160 KB of pages. */
    assert_true(st.bytes_in_use > empty + 160000);
    assert_int_equal(st.bytes_in_use % 4096, 0);
}

static void null_handles_are_no_ops(void **state)
{
    (void)state;
    storage_close(NULL);
    storage_batch_abort(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(creates_then_reopens),
        T(marker_holds_the_boot_id_while_open),
        T(boot_id_defaults_to_the_kernels),
        T(missing_dir_is_an_io_error),
        T(dir_under_a_file_is_an_io_error),
        T(bad_options_are_invalid),
        T(second_open_of_a_dir_is_refused),
        T(garbage_file_is_corrupt),
        T(newer_format_is_corrupt),
        T(corrupt_record_bytes_read_as_corrupt),
        T(killed_process_keeps_the_records),
        T(os_crash_starts_afresh),
        T(clean_close_survives_a_reboot),
        T(sync_each_batch_survives_an_os_crash),
        T(unsynced_run_after_a_synced_one_is_reset),
        T(map_full_fails_the_batch_and_keeps_the_storage),
        T(stats_count_rows_and_pages),
        T(null_handles_are_no_ops),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
