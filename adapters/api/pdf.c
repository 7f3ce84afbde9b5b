/* Reports as PDF: an HTML page printed by headless Chromium, in a process of its own.
 *
 * Nothing here blocks the loop. In the thread pool, the page is written to report.html in
 * a private directory (mkdtemp: mode 0700, under $TMPDIR or /tmp). On the loop, Chromium is
 * spawned to print it to report.pdf, in a process group of its own so that the deadline can
 * kill it with every helper it started. In the pool again, the PDF is read back and the
 * directory removed with everything Chromium left in it (its profile, its caches). Back on
 * the loop, the callback gets the PDF.
 *
 * Chromium takes a core and a few hundred MB for a second or two, so a node prints at most
 * API__PDF_RUNNING at once. It prints a page this node made (which holds no script), from a
 * file, with its sandbox off (a service user often cannot have one) and every host name
 * unresolvable: the page loads nothing, and nothing in it could reach out. (Scripts cannot
 * be turned off: Chromium then prints nothing.) The PDF is not tagged: tags (the structure
 * a screen reader follows) make a report's long tables ten times larger and slower to
 * print, and the HTML page carries that structure already. */
#define _XOPEN_SOURCE 700 /* nftw() */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"

#define PDF_MAX (256u << 20) /* the largest PDF read back */
#define TAIL_MAX 4096        /* of Chromium's output, searched for why it failed */
#define DEFAULT_CHROMIUM "/usr/bin/chromium"
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct api__pdf
{
    struct api *api;
    struct api__pdf *next; /* in api->pdf_running while Chromium runs */
    api__pdf_cb cb;
    void *data;
    char *html; /* owned until written */
    size_t html_len;
    char chromium[512];
    char tmp[512];  /* where the directory is made */
    char path[512]; /* PATH for Chromium (its launcher is a shell script) */
    char dir[600];  /* the private directory; "" until made */
    int log_fd;     /* Chromium's output, while it is being spawned; -1 = closed */
    uv_work_t work;
    uv_process_t process;
    uv_timer_t timer;
    int open_handles;
    bool running; /* spawned, not yet exited */
    bool timed_out;
    int64_t exit_status;
    int term_signal;
    uint64_t spawned_at; /* loop time, ms */
    uint64_t took_ms;    /* from the spawn to the exit */
    int rc;
    char why[512];
    char *pdf; /* owned until handed to cb */
    size_t pdf_len;
};

const char *api__pdf_chromium(void)
{
    const char *c = getenv("CONTACTD_CHROMIUM");
    return c != NULL && *c != '\0' ? c : DEFAULT_CHROMIUM;
}

bool api__pdf_ready(char *why, size_t len)
{
    const char *c = api__pdf_chromium();
    if (access(c, X_OK) == 0) {
        return true;
    }
    snprintf(why, len,
             "this node cannot print PDF: Chromium is not installed at '%s' "
             "(ops/install-deps installs it; $CONTACTD_CHROMIUM names another); format=html "
             "gives the same page, to print from a browser",
             c);
    return false;
}

bool api__pdf_reserve(struct api *a)
{
    if (a->closing || a->pdfs >= API__PDF_RUNNING) {
        return false;
    }
    a->pdfs++;
    return true;
}

void api__pdf_release(struct api *a)
{
    a->pdfs--;
}

static void fail(struct api__pdf *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct api__pdf *p, int rc, const char *fmt, ...)
{
    va_list ap;
    if (p->rc != 0) {
        return; /* the first failure says why */
    }
    p->rc = rc;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
}

/* errno as text, from any thread. */
static const char *error_text(int err, char *buf, size_t len)
{
    if (strerror_r(err, buf, len) != 0) {
        snprintf(buf, len, "error %d", err);
    }
    return buf;
}

/* dir/name into out; false when it does not fit. */
static bool in_dir(const struct api__pdf *p, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", p->dir, name);
    return n > 0 && (size_t)n < len;
}

/* ---- In the pool: the page into a private directory ------------------------------------ */

static int write_all(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno;
    }
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            close(fd);
            return err;
        }
        data += n;
        len -= (size_t)n;
    }
    return close(fd) == 0 ? 0 : errno;
}

static void write_page(uv_work_t *w)
{
    struct api__pdf *p = w->data;
    char path[700], err[128];
    int n = snprintf(p->dir, sizeof(p->dir), "%s/contactd-pdf-XXXXXX", p->tmp);
    if (n <= 0 || (size_t)n >= sizeof(p->dir) || mkdtemp(p->dir) == NULL) {
        fail(p, CD_EIO, "make a private directory under '%s': %s", p->tmp,
             error_text(errno, err, sizeof(err)));
        p->dir[0] = '\0';
        return;
    }
    int rv = in_dir(p, "report.html", path, sizeof(path))
                 ? write_all(path, p->html, p->html_len)
                 : ENAMETOOLONG;
    free(p->html);
    p->html = NULL;
    if (rv != 0) {
        fail(p, CD_EIO, "write '%s': %s", path, error_text(rv, err, sizeof(err)));
        return;
    }
    if (in_dir(p, "chromium.log", path, sizeof(path))) {
        p->log_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (p->log_fd < 0) {
        fail(p, CD_EIO, "create '%s': %s", path, error_text(errno, err, sizeof(err)));
    }
}

/* ---- In the pool: the PDF back, the directory gone ------------------------------------ */

/* The last line of Chromium's output that says something (not its complaint that there is
 * no D-Bus, which there never is for a service). */
static void last_words(struct api__pdf *p, char *out, size_t len)
{
    char path[700], tail[TAIL_MAX + 1];
    out[0] = '\0';
    int fd =
        in_dir(p, "chromium.log", path, sizeof(path)) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        return;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > TAIL_MAX ? size - TAIL_MAX : 0;
    ssize_t n = size > 0 ? pread(fd, tail, TAIL_MAX, from) : 0;
    close(fd);
    tail[n > 0 ? n : 0] = '\0';
    for (char *save = NULL, *line = strtok_r(tail, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, "dbus") == NULL && strspn(line, " \t\r") < strlen(line)) {
            snprintf(out, len, "%s", line);
        }
    }
}

static int read_all(const char *path, char **out, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > PDF_MAX) {
        close(fd);
        return EFBIG;
    }
    char *data = malloc((size_t)st.st_size);
    size_t got = 0;
    while (data != NULL && got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n <= 0 && !(n < 0 && errno == EINTR)) {
            break;
        }
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    if (data == NULL || got != (size_t)st.st_size) {
        free(data);
        return data == NULL ? ENOMEM : EIO;
    }
    *out = data;
    *len = got;
    return 0;
}

static void read_pdf(struct api__pdf *p)
{
    char path[700], err[128], words[300];
    if (p->timed_out) {
        fail(p, CD_ETIMEDOUT, "Chromium did not print the report within %d s",
             API__PDF_TIMEOUT_MS / 1000);
    } else if (p->exit_status != 0 || p->term_signal != 0) {
        last_words(p, words, sizeof(words));
        fail(p, CD_EIO, "Chromium failed to print the report (exit status %lld, signal %d): %s",
             (long long)p->exit_status, p->term_signal, words[0] ? words : "it said nothing");
    }
    if (p->rc != 0) {
        return;
    }
    int rv = in_dir(p, "report.pdf", path, sizeof(path)) ? read_all(path, &p->pdf, &p->pdf_len)
                                                         : ENAMETOOLONG;
    if (rv != 0) {
        fail(p, CD_EIO, "Chromium printed no PDF: '%s': %s", path,
             error_text(rv, err, sizeof(err)));
    } else if (p->pdf_len < 5 || memcmp(p->pdf, "%PDF-", 5) != 0) {
        fail(p, CD_EIO, "Chromium printed something that is not a PDF");
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* go on: remove what can be removed */
}

static void read_back(uv_work_t *w)
{
    struct api__pdf *p = w->data;
    if (p->log_fd >= 0) {
        close(p->log_fd);
        p->log_fd = -1;
    }
    if (p->dir[0] == '\0') {
        return;
    }
    read_pdf(p);
    if (nftw(p->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 ||
        access(p->dir, F_OK) == 0) {
        cd_log(CD_LOG_WARN, "report_pdf_left", "dir", p->dir, NULL);
    }
}

/* ---- On the loop ----------------------------------------------------------------------- */

static void done(uv_work_t *w, int status)
{
    struct api__pdf *p = w->data;
    struct api *a = p->api;
    char took[32];
    if (status != 0) {
        fail(p, CD_EUNAVAIL, "the node is shutting down");
    }
    snprintf(took, sizeof(took), "%llu", (unsigned long long)p->took_ms);
    if (p->rc == 0) {
        cd_log(CD_LOG_INFO, "report_pdf", "ms", took, NULL);
    } else if (p->rc != CD_EUNAVAIL) {
        cd_log(CD_LOG_WARN, "report_pdf_failed", "ms", took, "why", p->why, NULL);
    }
    a->pdfs--;
    p->cb(p->data, p->rc, p->why, p->pdf, p->pdf_len);
    free(p->html);
    free(p);
    api__close_settle(a);
}

/* After Chromium (or instead of it): back to the pool, which always runs, to clean up. */
static void finish(struct api__pdf *p)
{
    p->work.data = p;
    int rv = uv_queue_work(p->api->loop, &p->work, read_back, done);
    if (rv != 0) {
        done(&p->work, rv); /* it fails only without a work callback */
    }
}

static void unlink_running(struct api__pdf *p)
{
    for (struct api__pdf **at = &p->api->pdf_running; *at != NULL; at = &(*at)->next) {
        if (*at == p) {
            *at = p->next;
            return;
        }
    }
}

static void closed(uv_handle_t *h)
{
    struct api__pdf *p = h->data;
    if (--p->open_handles == 0) {
        finish(p);
    }
}

static void exited(uv_process_t *process, int64_t exit_status, int term_signal)
{
    struct api__pdf *p = process->data;
    p->running = false;
    p->exit_status = exit_status;
    p->term_signal = term_signal;
    p->took_ms = uv_now(p->api->loop) - p->spawned_at;
    unlink_running(p);
    uv_close((uv_handle_t *)&p->process, closed);
    uv_close((uv_handle_t *)&p->timer, closed);
}

static void kill_group(struct api__pdf *p)
{
    if (p->running && p->process.pid > 0) {
        kill(-p->process.pid, SIGKILL); /* Chromium and every helper it started */
    }
}

static void deadline(uv_timer_t *t)
{
    struct api__pdf *p = t->data;
    p->timed_out = true;
    kill_group(p);
}

/* "file://" and the path, percent-encoded. */
static bool file_url(const char *path, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "file://");
    for (const unsigned char *s = (const unsigned char *)path; *s != '\0'; s++) {
        if (n + 4 >= len) {
            return false;
        }
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("/-._~", *s) != NULL) {
            out[n++] = (char)*s;
        } else {
            n += (size_t)snprintf(out + n, len - n, "%%%02X", *s);
        }
    }
    out[n] = '\0';
    return true;
}

/* The arguments and environment of one Chromium, all in the job's directory. */
struct launch
{
    char profile[700], print[700], page[700], url[2200];
    char home[700], config[700], cache[700], tmpdir[700], path[600];
};

/* prefix, dir and suffix into out (700 bytes); false when they do not fit. */
static bool dir_arg(char *out, const char *prefix, const char *dir, const char *suffix)
{
    int n = snprintf(out, 700, "%s%s%s", prefix, dir, suffix);
    return n > 0 && n < 700;
}

static bool launch_init(struct api__pdf *p, struct launch *l)
{
    snprintf(l->path, sizeof(l->path), "PATH=%s", p->path);
    return dir_arg(l->profile, "--user-data-dir=", p->dir, "/profile") &&
           dir_arg(l->print, "--print-to-pdf=", p->dir, "/report.pdf") &&
           dir_arg(l->home, "HOME=", p->dir, "") &&
           dir_arg(l->config, "XDG_CONFIG_HOME=", p->dir, "/profile") &&
           dir_arg(l->cache, "XDG_CACHE_HOME=", p->dir, "/profile") &&
           dir_arg(l->tmpdir, "TMPDIR=", p->dir, "") &&
           in_dir(p, "report.html", l->page, sizeof(l->page)) &&
           file_url(l->page, l->url, sizeof(l->url));
}

/* Returns 0, a libuv error (the process handle then needs closing), or 1: nothing was
 * started, as the paths are too long. */
static int spawn(struct api__pdf *p)
{
    struct launch l;
    if (!launch_init(p, &l)) {
        return 1;
    }
    char *args[] = {p->chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-pdf-header-footer",
                    "--disable-pdf-tagging",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-default-apps",
                    "--disable-extensions",
                    "--disable-breakpad",
                    "--disable-crash-reporter",
                    "--mute-audio",
                    "--password-store=basic",
                    "--host-resolver-rules=MAP * ~NOTFOUND",
                    l.profile,
                    l.print,
                    l.url,
                    NULL};
    char *env[] = {l.home, l.config, l.cache, l.tmpdir, l.path, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = p->log_fd},
        {.flags = UV_INHERIT_FD, .data.fd = p->log_fd},
    };
    uv_process_options_t o = {.exit_cb = exited,
                              .file = p->chromium,
                              .cwd = p->dir,
                              .args = args,
                              .env = env,
                              .flags = UV_PROCESS_DETACHED,
                              .stdio_count = 3,
                              .stdio = stdio};
    p->process.data = p;
    p->open_handles = 1;
    return uv_spawn(p->api->loop, &p->process, &o);
}

static void written(uv_work_t *w, int status)
{
    struct api__pdf *p = w->data;
    struct api *a = p->api;
    if (status != 0 || a->closing) {
        fail(p, CD_EUNAVAIL, "the node is shutting down");
    }
    if (p->rc != 0) {
        finish(p);
        return;
    }
    int rv = spawn(p);
    close(p->log_fd); /* Chromium has its own copy */
    p->log_fd = -1;
    if (rv > 0) {
        fail(p, CD_EIO, "start Chromium: the paths under '%s' are too long", p->tmp);
        finish(p);
        return;
    }
    if (rv < 0) {
        fail(p, rv == UV_ENOENT || rv == UV_EACCES ? CD_ENOTFOUND : CD_EIO,
             "start Chromium '%s': %s", p->chromium, uv_strerror(rv));
        uv_close((uv_handle_t *)&p->process, closed);
        return;
    }
    p->running = true;
    p->spawned_at = uv_now(a->loop);
    p->next = a->pdf_running;
    a->pdf_running = p;
    uv_timer_init(a->loop, &p->timer);
    p->timer.data = p;
    p->open_handles++;
    uv_timer_start(&p->timer, deadline, API__PDF_TIMEOUT_MS, 0);
}

int api__pdf_print(struct api *a, char *html, size_t len, api__pdf_cb cb, void *data)
{
    struct api__pdf *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CD_ENOMEM;
    }
    const char *tmp = getenv("TMPDIR"), *path = getenv("PATH");
    *p = (struct api__pdf){
        .api = a, .cb = cb, .data = data, .html = html, .html_len = len, .log_fd = -1};
    snprintf(p->chromium, sizeof(p->chromium), "%s", api__pdf_chromium());
    snprintf(p->tmp, sizeof(p->tmp), "%s", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    snprintf(p->path, sizeof(p->path), "%s",
             path != NULL && *path != '\0' ? path : DEFAULT_PATH);
    p->work.data = p;
    int rv = uv_queue_work(a->loop, &p->work, write_page, written);
    if (rv != 0) {
        free(p);
        return CD_EIO;
    }
    return 0;
}

void api__pdf_close(struct api *a)
{
    for (struct api__pdf *p = a->pdf_running; p != NULL; p = p->next) {
        kill_group(p);
    }
}
