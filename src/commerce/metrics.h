/* Conversation metrics: how conversations go (completed, abandoned, handed
 * over), what they sell, how fast the assistant answers and how often it
 * does not understand. Kept in the store's database; `voxcart stats` prints
 * the summary.
 *
 * Every record is also queued as an event for the backend (a row of the
 * store's events table, its body a JSON object): a sender takes them with
 * vc_metrics_pending_events and, once the backend has them,
 * vc_metrics_mark_sent. The table is bounded (vc_metrics_set_event_cap): a
 * device offline for months drops its oldest events, with a warning in the
 * log, instead of filling its disk.
 *
 * Privacy: nothing heard is kept, neither audio nor transcripts; a turn is
 * its intent name and timings.
 *
 * Each call is one transaction of the store (store.h): a failure (a full
 * disk, a read-only database) returns VC_EIO, VC_EDB or VC_ENOMEM with a
 * detail naming the store and what was being recorded, and leaves nothing
 * half-written. Metrics are best-effort: a caller logs the failure and goes
 * on with the conversation. Not thread-safe, like the store. */
#ifndef VC_METRICS_H
#define VC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "commerce/store.h"
#include "core/status.h"

#define VC_METRICS_DEFAULT_EVENT_CAP 100000
/* Currencies a summary reports order value in (the most ordered first). */
#define VC_METRICS_MAX_CURRENCIES 4

typedef enum {
    VC_OUTCOME_COMPLETED,   /* an order placed or a question answered */
    VC_OUTCOME_CANCELLED,   /* the customer called it off */
    VC_OUTCOME_ABANDONED,   /* no answer to a follow-up, walked away */
    VC_OUTCOME_HANDED_OVER, /* passed to a person */
    VC_OUTCOME_ERROR,       /* the assistant failed */
} vc_metrics_outcome;

/* "completed", "handed_over", ...; NULL for a value outside the enum. */
const char *vc_metrics_outcome_name(vc_metrics_outcome outcome);

typedef struct {
    const char *domain;     /* the pack, "retail"; required */
    const char *started_by; /* "wake_word", "push_to_talk" or "text"; required */
    const char *customer;   /* NULL: not known (a kiosk) */
    const char *session;    /* NULL, or the CLI's session name (vc_metrics_open_conversation) */
} vc_metrics_conversation;

/* Starts a conversation; *id names it in the calls below. Bad fields (an
 * unknown started_by, an empty domain, a string over 128 bytes) fail with
 * VC_EINVAL and record nothing. */
VC_MUST_CHECK vc_status vc_metrics_conversation_begin(vc_store *s,
                                                      const vc_metrics_conversation *c,
                                                      int64_t *id);

/* The conversation of this session that has not ended yet, if any
 * (VC_ENOTFOUND), so that `voxcart ask` can go on with it. */
VC_MUST_CHECK vc_status vc_metrics_open_conversation(vc_store *s, const char *session,
                                                     int64_t *id);

typedef struct {
    const char *intent;  /* what the turn was understood as; NULL: not understood (a rejection) */
    int64_t response_ms; /* end of speech to the first audio of the reply; -1: not measured (text) */
    int64_t speech_ms;   /* how long the customer spoke; -1: not measured */
} vc_metrics_turn;

/* Records one customer turn of an open conversation. An unknown id fails
 * with VC_ENOTFOUND, an ended conversation with VC_ESTATE, a negative time
 * other than -1 with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_metrics_add_turn(vc_store *s, int64_t id, const vc_metrics_turn *t);

/* An order the conversation placed: its number, value in cents (>= 0) and
 * currency (ISO 4217, "USD"). The same number twice in one conversation
 * fails with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_metrics_add_order(vc_store *s, int64_t id, const char *order_number,
                                             int64_t value_cents, const char *currency);

/* The order the store holds under order_number for customer, recorded
 * with the value and currency the store priced it at (the dialog's turn
 * names only its number). An order the store does not hold fails with
 * VC_ENOTFOUND. */
VC_MUST_CHECK vc_status vc_metrics_add_store_order(vc_store *s, int64_t id, const char *customer,
                                                   const char *order_number);

/* The conversation asked for a person. The caller also ends it (usually
 * VC_OUTCOME_HANDED_OVER). */
VC_MUST_CHECK vc_status vc_metrics_add_handover(vc_store *s, int64_t id);

/* Ends an open conversation. Ending it twice fails with VC_ESTATE. */
VC_MUST_CHECK vc_status vc_metrics_conversation_end(vc_store *s, int64_t id,
                                                    vc_metrics_outcome outcome);

typedef struct {
    char currency[4];
    int64_t orders;
    int64_t total_cents;
    int64_t mean_cents; /* total / orders, rounded */
} vc_metrics_value;

/* Figures over the conversations begun at or after a time. Rates are 0
 * when their denominator is. */
typedef struct {
    int64_t conversations;
    int64_t completed, cancelled, abandoned, handed_over, errors;
    int64_t open;           /* not ended (yet) */
    double completion_rate; /* completed / conversations */
    int64_t orders;
    double conversion;      /* orders / conversations */
    /* order value per currency, the most ordered first; currencies beyond
     * VC_METRICS_MAX_CURRENCIES are left out here (still counted in orders) */
    vc_metrics_value value[VC_METRICS_MAX_CURRENCIES];
    size_t n_values;
    int64_t turns;
    int64_t rejections;     /* turns not understood */
    double rejection_rate;  /* rejections / turns */
    /* over the turns whose response time was measured (nearest rank);
     * -1 when none was */
    int64_t timed_turns;
    int64_t response_p50_ms, response_p95_ms, response_max_ms;
    int64_t handovers;
} vc_metrics_summary;

/* Fills out from the conversations begun at or after since_unix (0: all).
 * Reads only. */
VC_MUST_CHECK vc_status vc_metrics_summary_get(vc_store *s, int64_t since_unix,
                                               vc_metrics_summary *out);

/* ---- events for the backend ----------------------------------------------- */

typedef struct {
    int64_t id;         /* increasing, never reused */
    int64_t created_at; /* Unix seconds */
    const char *type;   /* conversation_begin, turn, order, handover, conversation_end */
    const char *body;   /* a JSON object */
} vc_metrics_event;

/* Receives one event; e and its strings are valid only during the call.
 * Any status other than VC_OK stops the walk and is returned by it. */
typedef vc_status (*vc_metrics_event_fn)(void *ctx, const vc_metrics_event *e);

/* Hands the oldest unsent events, at most limit of them (0: 100), to fn in
 * id order, from one read transaction. fn may read the store but must not
 * write to it: collect, send, then vc_metrics_mark_sent. */
VC_MUST_CHECK vc_status vc_metrics_pending_events(vc_store *s, size_t limit,
                                                  vc_metrics_event_fn fn, void *ctx);

/* Marks every unsent event with an id up to up_to_id as sent. Sent events
 * stay (a local record) until the bound pushes them out. */
VC_MUST_CHECK vc_status vc_metrics_mark_sent(vc_store *s, int64_t up_to_id);

/* Bounds the events table of this store (for this connection) at cap rows
 * (>= 10; the default is VC_METRICS_DEFAULT_EVENT_CAP). When an event would
 * pass it, the oldest tenth are dropped in one go, sent ones first since
 * they are the oldest; dropping unsent ones logs a warning. */
VC_MUST_CHECK vc_status vc_metrics_set_event_cap(vc_store *s, int64_t cap);

/* Events in the table, and those of them not sent. */
VC_MUST_CHECK vc_status vc_metrics_event_count(vc_store *s, int64_t *total, int64_t *unsent);

#endif
