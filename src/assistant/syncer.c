#include "assistant/syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assistant/link.h"
#include "core/log.h"

#define OUTBOX_POLL_MS 5000

struct vc_syncer {
    vc_config cfg;
    vc_store *store;
    vc_link *link;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int kicked; /* under lock */
    int stop;   /* under lock */
    atomic_int catalog_changed;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs a failing backend once, and once when it answers again, rather than
 * a line per retry for the hours a shop's network may be down. */
static void report(int *down, vc_status rc, const char *what)
{
    if (rc == VC_OK) {
        if (*down)
            vc_log_info("sync: the backend answers again");
        *down = 0;
    } else if (!*down) {
        vc_log_warn("sync: %s: %s", what, vc_error_detail());
        *down = 1;
    }
}

static void *run(void *arg)
{
    vc_syncer *s = arg;
    vc_sync *sync = vc_link_sync(s->link);
    int64_t next_full = 0;
    int down = 0;

    for (;;) {
        int64_t now = wall_ms(), due = -1, wait;
        struct timespec until;
        int changed = 0, sent = 0;
        vc_status rc;

        if (now >= next_full) {
            rc = vc_sync_all(sync, now, &changed);
            report(&down, rc, "sync");
            if (changed)
                atomic_store(&s->catalog_changed, 1);
            next_full = now + (int64_t)s->cfg.sync_interval_s * 1000;
        } else {
            rc = vc_sync_outbox(sync, now, &sent);
            report(&down, rc, "sending queued orders");
            if (sent)
                vc_log_info("sync: %d queued order%s sent", sent, sent == 1 ? "" : "s");
        }
        now = wall_ms();
        wait = next_full - now;
        if (vc_sync_outbox_due_in(sync, now, &due) == VC_OK && due >= 0 && due < wait)
            wait = due;
        /* The dialog's own link queues orders behind this thread's back:
         * look at the outbox at least this often. */
        if (wait > OUTBOX_POLL_MS)
            wait = OUTBOX_POLL_MS;
        if (wait < 0)
            wait = 0;
        pthread_mutex_lock(&s->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!s->stop && !s->kicked) {
            if (pthread_cond_timedwait(&s->wake, &s->lock, &until) == ETIMEDOUT)
                break;
        }
        s->kicked = 0;
        if (s->stop) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        pthread_mutex_unlock(&s->lock);
    }
}

vc_status vc_syncer_start(const vc_config *cfg, const char *store_path, vc_syncer **out)
{
    vc_syncer *s;
    vc_status rc;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return vc_fail(VC_ENOMEM, "out of memory");
    s->cfg = *cfg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if ((rc = vc_store_open(store_path, &s->store)) != VC_OK ||
        (rc = vc_link_open(&s->cfg, s->store, 0, &s->link)) != VC_OK)
        goto out_free;
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        rc = vc_fail(VC_ENOMEM, "sync: cannot start its thread");
        goto out_free;
    }
    *out = s;
    return VC_OK;
out_free:
    vc_link_free(s->link);
    vc_store_close(s->store);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return rc;
}

void vc_syncer_kick(vc_syncer *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->kicked = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

int vc_syncer_take_catalog_changed(vc_syncer *s)
{
    return s && atomic_exchange(&s->catalog_changed, 0);
}

void vc_syncer_stop(vc_syncer *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    vc_link_free(s->link);
    vc_store_close(s->store);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
