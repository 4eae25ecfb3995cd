/* The trigger setting and push-to-talk buttons; see trigger.h. */
#include "audio/trigger.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static const struct {
    const char *name;
    unsigned bit;
} TRIGGERS[] = {
    {"wake_word", VC_TRIGGER_WAKE_WORD},
    {"push_to_talk", VC_TRIGGER_PUSH_TO_TALK},
};

vc_status vc_trigger_parse(const char *text, unsigned *modes)
{
    unsigned set = 0;
    const char *p = text;

    *modes = 0;
    if (!text)
        return vc_fail(VC_EINVAL, "trigger: NULL");
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p && *p != '|' && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - name);
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof TRIGGERS / sizeof *TRIGGERS; i++)
            if (strlen(TRIGGERS[i].name) == len && memcmp(TRIGGERS[i].name, name, len) == 0)
                bit = TRIGGERS[i].bit;
        if (!bit)
            return vc_fail(VC_EPARSE, "trigger \"%s\": \"%.*s\" is not wake_word or push_to_talk "
                                      "(write one of them or \"wake_word | push_to_talk\")",
                           text, (int)len, name);
        if (set & bit)
            return vc_fail(VC_EPARSE, "trigger \"%s\": %.*s is named twice", text, (int)len, name);
        set |= bit;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p != '|')
            return vc_fail(VC_EPARSE, "trigger \"%s\": names must be separated by |", text);
        p++;
    }
    *modes = set;
    return VC_OK;
}

const char *vc_trigger_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof TRIGGERS / sizeof *TRIGGERS; i++)
        if (TRIGGERS[i].bit == bit)
            return TRIGGERS[i].name;
    return "?";
}

struct vc_button {
    int fd; /* -1 once the source ended */
    vc_button_source source;
    void *ctx;
};

vc_status vc_button_new(int fd, const vc_button_source *source, void *ctx, vc_button **out)
{
    *out = NULL;
    if (fd < 0 || !source || !source->read_presses)
        return vc_fail(VC_EINVAL, "button: needs a file descriptor and a reader");
    vc_button *b = calloc(1, sizeof *b);
    if (!b)
        return vc_fail(VC_ENOMEM, "button: out of memory");
    b->fd = fd;
    b->source = *source;
    b->ctx = ctx;
    *out = b;
    return VC_OK;
}

void vc_button_free(vc_button *b)
{
    if (!b)
        return;
    if (b->source.close)
        b->source.close(b->ctx);
    free(b);
}

int vc_button_fd(const vc_button *b)
{
    return b->fd;
}

vc_status vc_button_poll(vc_button *b, int timeout_ms, int *pressed)
{
    *pressed = 0;
    if (!b)
        return vc_fail(VC_EINVAL, "button: NULL");
    /* Drain what is pending, a bounded number of reads so that a source
     * that never stops (a file of newlines) cannot hold the caller. */
    for (int round = 0; round < 16 && b->fd >= 0; round++) {
        struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
        int r = poll(&pfd, 1, round == 0 ? timeout_ms : 0);
        if (r < 0 && errno == EINTR)
            return VC_OK; /* a signal: the caller's loop decides */
        if (r < 0)
            return vc_fail(VC_EIO, "button (%s): poll: %s", b->source.name, strerror(errno));
        if (r == 0)
            break;
        int presses = 0, closed = 0;
        vc_status rc = b->source.read_presses(b->ctx, b->fd, &presses, &closed);
        if (rc != VC_OK)
            return rc;
        if (presses > 0)
            *pressed = 1;
        if (closed || (pfd.revents & (POLLERR | POLLNVAL))) {
            vc_log_warn("button (%s): input ended; push-to-talk is off", b->source.name);
            b->fd = -1;
        }
    }
    return VC_OK;
}

/* ---- keys on a terminal or pipe ------------------------------------------ */

typedef struct {
    int last_cr; /* the previous byte was '\r': a following '\n' is the same press */
} keys_state;

static vc_status keys_read(void *ctx, int fd, int *presses, int *closed)
{
    keys_state *k = ctx;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);

    *presses = 0;
    *closed = 0;
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return VC_OK;
        return vc_fail(VC_EIO, "button (terminal): read: %s", strerror(errno));
    }
    if (n == 0) {
        *closed = 1;
        return VC_OK;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\r' || (buf[i] == '\n' && !k->last_cr))
            (*presses)++;
        k->last_cr = buf[i] == '\r';
    }
    return VC_OK;
}

static void keys_close(void *ctx)
{
    free(ctx);
}

vc_status vc_button_new_keys(int fd, vc_button **out)
{
    static const vc_button_source keys = {"terminal", keys_read, keys_close};
    keys_state *k = calloc(1, sizeof *k);

    *out = NULL;
    if (!k)
        return vc_fail(VC_ENOMEM, "button: out of memory");
    vc_status rc = vc_button_new(fd, &keys, k, out);
    if (rc != VC_OK)
        free(k);
    return rc;
}
