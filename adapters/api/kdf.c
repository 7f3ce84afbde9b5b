/* Password hashes in libuv's thread pool. scrypt costs about a tenth of a second of one
 * core and 32 MiB by design; on the loop it would stall heartbeats and every other request,
 * so it runs in the pool, a few at a time (the pool's threads serve model documents and
 * file work too). Sign-ins beyond what waits are refused (503) rather than queued without
 * bound: the rate limit (throttle.c) keeps one guesser from filling the queue for long. */
#include <assert.h>

#include "adapters/api/internal.h"
#include "common/error.h"

static void work(uv_work_t *w)
{
    struct api__kdf_job *j = w->data;
    j->run(j);
}

static void worked(uv_work_t *w, int status);

static void start(struct api__kdf_job *j)
{
    j->api->kdf_running++;
    j->work.data = j;
    int rv = uv_queue_work(j->api->loop, &j->work, work, worked);
    assert(rv == 0); /* it fails only without a work callback */
    (void)rv;
}

static void worked(uv_work_t *w, int status)
{
    struct api__kdf_job *j = w->data;
    struct api *a = j->api;
    a->kdf_running--;
    j->done(j, status != 0 || a->closing);
    struct api__kdf_job *next = a->kdf_head;
    if (next != NULL && !a->closing) {
        a->kdf_head = next->next;
        a->kdf_tail = a->kdf_head != NULL ? a->kdf_tail : NULL;
        a->kdf_waiting--;
        start(next);
    }
    api__close_settle(a);
}

int api__kdf_submit(struct api__kdf_job *j)
{
    struct api *a = j->api;
    if (a->closing || a->kdf_waiting == API__KDF_WAITING) {
        return CD_EUNAVAIL;
    }
    if (a->kdf_running < API__KDF_RUNNING) {
        start(j);
        return 0;
    }
    j->next = NULL;
    *(a->kdf_tail != NULL ? &a->kdf_tail->next : &a->kdf_head) = j;
    a->kdf_tail = j;
    a->kdf_waiting++;
    return 0;
}

void api__kdf_close(struct api *a)
{
    struct api__kdf_job *j;
    while ((j = a->kdf_head) != NULL) {
        a->kdf_head = j->next;
        j->done(j, true);
    }
    a->kdf_tail = NULL;
    a->kdf_waiting = 0;
}
