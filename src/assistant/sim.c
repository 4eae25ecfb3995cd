/* The simulated room (sim.h). */
#include "assistant/sim.h"

#include <cjson/cJSON.h>
#include <speex/speex_resampler.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio_file.h"

/* Audio handed out per read while the room waits (10 ms): the decision to
 * start the next turn is taken at that granularity. */
#define WAIT_STEP 160
/* A 10 ms frame of a turn is speech when its RMS exceeds this (-50 dBFS):
 * espeak-ng's and the recordings' silences are far below, speech far above. */
#define SPEECH_RMS 104.0
/* Room tone under everything: white noise at about -66 dBFS, so that the
 * endpointer has a floor to learn, as in any real room. */
#define ROOM_TONE 16

typedef struct {
    vc_sim_turn t;
    char *label;
    int16_t *pcm;
    size_t n;
    size_t speech_from, speech_to; /* within pcm */
    vc_sim_turn_info info;         /* once played */
} turn;

typedef struct {
    uint64_t at;
    int16_t *pcm;
    size_t n, cap;
} output;

struct vc_sim {
    int out_rate;
    turn *turns;
    size_t n_turns, cap_turns;
    output *outs;
    size_t n_outs, cap_outs;
    int pause_ms; /* silence after the last turn */

    uint64_t pos;         /* input samples handed out */
    size_t cur;           /* the turn being waited for or played */
    int playing;          /* cur is playing, from offset off */
    size_t off;
    uint64_t mark_pos;    /* the previous turn's speech end */
    size_t mark_outs;     /* outputs written before the room passed mark_pos */
    int mark_set;         /* mark_outs taken */
    uint64_t end_pos;     /* where the input ends, once the turns are over */

    uint64_t last_at; /* the device's at of the last write */
    int stopped;      /* a stop came after it */

    int pipe_fds[2];
    vc_button *button;
};

vc_status vc_sim_new(int out_rate, vc_sim **out)
{
    vc_sim *s;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_sim_new: out is NULL");
    *out = NULL;
    if (out_rate < 8000 || out_rate > 96000)
        return vc_fail(VC_EINVAL, "sim: output rate %d Hz is outside 8000..96000", out_rate);
    if (!(s = calloc(1, sizeof *s)))
        return vc_fail(VC_ENOMEM, "vc_sim_new: out of memory");
    s->out_rate = out_rate;
    s->mark_set = 1; /* before the first turn nothing is awaited */
    s->pipe_fds[0] = s->pipe_fds[1] = -1;
    if (pipe(s->pipe_fds) != 0 || fcntl(s->pipe_fds[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(s->pipe_fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(s->pipe_fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        rc = vc_fail(VC_EIO, "sim: pipe: %s", strerror(errno));
        goto out_free_sim;
    }
    if ((rc = vc_button_new_keys(s->pipe_fds[0], &s->button)) != VC_OK)
        goto out_free_sim;
    *out = s;
    return VC_OK;

out_free_sim:
    vc_sim_free(s);
    return rc;
}

void vc_sim_free(vc_sim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_turns; i++) {
        free(s->turns[i].pcm);
        free(s->turns[i].label);
    }
    free(s->turns);
    for (size_t i = 0; i < s->n_outs; i++)
        free(s->outs[i].pcm);
    free(s->outs);
    vc_button_free(s->button);
    if (s->pipe_fds[0] >= 0)
        close(s->pipe_fds[0]);
    if (s->pipe_fds[1] >= 0)
        close(s->pipe_fds[1]);
    free(s);
}

/* The speech in pcm: from the first to the end of the last 10 ms frame
 * above SPEECH_RMS (both 0 when there is none). */
static void find_speech(const int16_t *pcm, size_t n, size_t *from, size_t *to)
{
    *from = *to = 0;
    for (size_t i = 0; i < n; i += 160) {
        size_t len = n - i < 160 ? n - i : 160;
        double sum = 0;
        for (size_t j = 0; j < len; j++)
            sum += (double)pcm[i + j] * pcm[i + j];
        if (sqrt(sum / (double)len) > SPEECH_RMS) {
            if (*to == 0)
                *from = i;
            *to = i + len;
        }
    }
}

vc_status vc_sim_add_turn(vc_sim *s, const vc_sim_turn *t, const int16_t *pcm, size_t n)
{
    turn *nt;

    if (!s || !t || (n && !pcm))
        return vc_fail(VC_EINVAL, "vc_sim_add_turn: %s is NULL", !s ? "s" : !t ? "t" : "pcm");
    if (s->n_turns == s->cap_turns) {
        size_t cap = s->cap_turns ? 2 * s->cap_turns : 8;
        turn *grown = realloc(s->turns, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "sim: out of memory");
        s->turns = grown;
        s->cap_turns = cap;
    }
    nt = &s->turns[s->n_turns];
    memset(nt, 0, sizeof *nt);
    nt->t = *t;
    nt->label = strdup(t->label ? t->label : "");
    nt->pcm = malloc(n * sizeof *pcm + 1);
    if (!nt->label || !nt->pcm) {
        free(nt->label);
        free(nt->pcm);
        return vc_fail(VC_ENOMEM, "sim: out of memory");
    }
    if (n)
        memcpy(nt->pcm, pcm, n * sizeof *pcm);
    nt->n = n;
    find_speech(pcm, n, &nt->speech_from, &nt->speech_to);
    nt->t.label = nt->label;
    s->n_turns++;
    return VC_OK;
}

vc_status vc_sim_add_pause(vc_sim *s, int ms)
{
    if (!s || ms < 0)
        return vc_fail(VC_EINVAL, "vc_sim_add_pause: %s", !s ? "s is NULL" : "negative pause");
    s->pause_ms += ms;
    return VC_OK;
}

/* ---- the timeline --------------------------------------------------------- */

static uint64_t out_to_in(const vc_sim *s, size_t n)
{
    return (uint64_t)n * VC_AUDIO_RATE / (uint64_t)s->out_rate;
}

static uint64_t output_end(const vc_sim *s, const output *o)
{
    return o->at + out_to_in(s, o->n);
}

static vc_status sim_write(void *ctx, const int16_t *pcm, size_t n, uint64_t at)
{
    vc_sim *s = ctx;
    output *o = s->n_outs ? &s->outs[s->n_outs - 1] : NULL;

    if (!n)
        return VC_OK;
    /* the same reply continues (its chunks all carry the at of its
     * first), or a new one queues behind what plays */
    if (!o || at != s->last_at || s->stopped) {
        uint64_t start = at;
        if (o && output_end(s, o) > start)
            start = output_end(s, o);
        if (s->n_outs == s->cap_outs) {
            size_t cap = s->cap_outs ? 2 * s->cap_outs : 16;
            output *grown = realloc(s->outs, cap * sizeof *grown);
            if (!grown)
                return vc_fail(VC_ENOMEM, "sim: out of memory");
            s->outs = grown;
            s->cap_outs = cap;
        }
        o = &s->outs[s->n_outs++];
        memset(o, 0, sizeof *o);
        o->at = start;
        s->last_at = at;
        s->stopped = 0;
    }
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 16384;
        while (cap < o->n + n)
            cap *= 2;
        int16_t *grown = realloc(o->pcm, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "sim: out of memory");
        o->pcm = grown;
        o->cap = cap;
    }
    memcpy(o->pcm + o->n, pcm, n * sizeof *pcm);
    o->n += n;
    return VC_OK;
}

static vc_status sim_stop(void *ctx, uint64_t at)
{
    vc_sim *s = ctx;

    for (size_t i = 0; i < s->n_outs; i++) {
        output *o = &s->outs[i];
        if (output_end(s, o) <= at)
            continue;
        o->n = at <= o->at ? 0 : (size_t)((at - o->at) * (uint64_t)s->out_rate / VC_AUDIO_RATE);
    }
    s->stopped = 1;
    return VC_OK;
}

static int sim_busy(void *ctx, uint64_t at)
{
    vc_sim *s = ctx;
    return s->n_outs > 0 && output_end(s, &s->outs[s->n_outs - 1]) > at;
}

void vc_sim_output(vc_sim *s, vc_device_output *out)
{
    out->write = sim_write;
    out->stop = sim_stop;
    out->busy = sim_busy;
    out->rate = s->out_rate;
    out->ctx = s;
}

vc_button *vc_sim_button(vc_sim *s)
{
    return s->button;
}

/* ---- the input ------------------------------------------------------------ */

/* Room tone at stream position p: a hash of p, so that vc_sim_write can
 * make it again. */
static int16_t room_tone(uint64_t p)
{
    uint64_t x = p * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (int16_t)((int)(x % (2 * ROOM_TONE * 173 / 100 + 1)) - ROOM_TONE * 173 / 100);
}

/* Whether turn cur may start at the room's position. */
static int may_start(vc_sim *s, const turn *t)
{
    uint64_t quiet = 0;
    int gap = t->t.gap_ms == 0 ? VC_SIM_DEFAULT_GAP_MS : t->t.gap_ms < 0 ? 0 : t->t.gap_ms;
    int max_wait = t->t.max_wait_ms ? t->t.max_wait_ms : VC_SIM_DEFAULT_MAX_WAIT_MS;

    if (s->cur == 0)
        return s->pos >= (uint64_t)gap * 16;
    if (!s->mark_set)
        return 0;
    if (s->mark_outs >= s->n_outs) /* the device said nothing (yet) */
        return s->pos >= s->mark_pos + (uint64_t)max_wait * 16;
    if (t->t.barge_ms >= 0)
        return s->pos >= s->outs[s->mark_outs].at + (uint64_t)t->t.barge_ms * 16;
    for (size_t i = s->mark_outs; i < s->n_outs; i++) {
        uint64_t e = output_end(s, &s->outs[i]);
        if (e > quiet)
            quiet = e;
    }
    return s->pos >= quiet + (uint64_t)gap * 16;
}

static vc_status sim_read(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended)
{
    vc_sim *s = ctx;
    size_t n = 0;

    *got = 0;
    *ended = 0;
    if (!s->mark_set && s->pos >= s->mark_pos) {
        s->mark_outs = s->n_outs;
        s->mark_set = 1;
    }
    if (s->cur >= s->n_turns) {
        if (!s->end_pos)
            s->end_pos = s->pos + (uint64_t)s->pause_ms * 16;
        n = s->end_pos > s->pos ? (size_t)(s->end_pos - s->pos) : 0;
        n = n < max ? n : max;
        for (size_t i = 0; i < n; i++)
            pcm[i] = room_tone(s->pos + i);
        s->pos += n;
        *got = n;
        *ended = s->pos >= s->end_pos;
        return VC_OK;
    }
    turn *t = &s->turns[s->cur];
    if (!s->playing) {
        if (!may_start(s, t)) {
            n = max < WAIT_STEP ? max : WAIT_STEP;
            for (size_t i = 0; i < n; i++)
                pcm[i] = room_tone(s->pos + i);
            s->pos += n;
            *got = n;
            return VC_OK;
        }
        s->playing = 1;
        s->off = 0;
        t->info.label = t->label;
        t->info.start = s->pos;
        t->info.speech_start = s->pos + t->speech_from;
        t->info.speech_end = s->pos + (t->speech_to ? t->speech_to : 0);
        t->info.end = s->pos + t->n;
        t->info.barge_in = t->t.barge_ms >= 0;
        t->info.press = t->t.press;
        if (t->t.press && write(s->pipe_fds[1], "\n", 1) != 1)
            return vc_fail(VC_EIO, "sim: pressing the button: %s", strerror(errno));
    }
    n = t->n - s->off < max ? t->n - s->off : max;
    for (size_t i = 0; i < n; i++) {
        int v = t->pcm[s->off + i] + room_tone(s->pos + i);
        pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    s->pos += n;
    s->off += n;
    *got = n;
    if (s->off >= t->n) {
        s->playing = 0;
        s->cur++;
        /* what the device writes from the end of this turn's speech on
         * answers it */
        s->mark_pos = t->speech_to ? t->info.speech_end : t->info.start;
        s->mark_set = 0;
        if (s->pos >= s->mark_pos) {
            s->mark_outs = s->n_outs;
            s->mark_set = 1;
        }
    }
    return VC_OK;
}

void vc_sim_source(vc_sim *s, vc_listener_source *out)
{
    out->read = sim_read;
    out->ctx = s;
}

/* ---- what happened ---------------------------------------------------------- */

size_t vc_sim_turn_count(const vc_sim *s)
{
    return s->cur < s->n_turns ? s->cur : s->n_turns;
}

const vc_sim_turn_info *vc_sim_turn_at(const vc_sim *s, size_t i)
{
    return i < vc_sim_turn_count(s) ? &s->turns[i].info : NULL;
}

size_t vc_sim_output_count(const vc_sim *s)
{
    return s->n_outs;
}

const vc_sim_output_info *vc_sim_output_at(const vc_sim *s, size_t i)
{
    static vc_sim_output_info info; /* valid until the next call */
    if (i >= s->n_outs)
        return NULL;
    info.at = s->outs[i].at;
    info.n = s->outs[i].n;
    return &info;
}

static vc_status write_wav(const char *path, const int16_t *pcm, size_t n, int rate)
{
    SF_INFO info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    sf_count_t wrote;

    if (!f)
        return vc_fail(VC_EIO, "sim: cannot write %s: %s", path, sf_strerror(NULL));
    wrote = sf_write_short(f, pcm, (sf_count_t)n);
    if (sf_close(f) != 0 || wrote != (sf_count_t)n)
        return vc_fail(VC_EIO, "sim: writing %s failed (disk full?)", path);
    return VC_OK;
}

/* The input as the microphone heard it, 16 kHz; caller frees. */
static int16_t *render_input(const vc_sim *s, size_t *len)
{
    size_t n = (size_t)s->pos;
    int16_t *pcm = malloc(n * sizeof *pcm + 1);

    *len = n;
    if (!pcm)
        return NULL;
    for (size_t i = 0; i < n; i++)
        pcm[i] = room_tone(i);
    for (size_t k = 0; k < vc_sim_turn_count(s); k++) {
        const turn *t = &s->turns[k];
        for (size_t i = 0; i < t->n && t->info.start + i < n; i++) {
            int v = pcm[t->info.start + i] + t->pcm[i];
            pcm[t->info.start + i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        }
    }
    return pcm;
}

static vc_status write_input(const vc_sim *s, const char *path)
{
    size_t n;
    int16_t *pcm = render_input(s, &n);
    vc_status rc;

    if (!pcm)
        return vc_fail(VC_ENOMEM, "sim: out of memory for the input");
    rc = write_wav(path, pcm, n, VC_AUDIO_RATE);
    free(pcm);
    return rc;
}

/* The output timeline at out_rate; caller frees. */
static int16_t *render_output(const vc_sim *s, size_t *len)
{
    uint64_t end_in = s->pos;
    size_t n;
    int16_t *pcm;

    for (size_t i = 0; i < s->n_outs; i++)
        if (output_end(s, &s->outs[i]) > end_in)
            end_in = output_end(s, &s->outs[i]);
    n = (size_t)(end_in * (uint64_t)s->out_rate / VC_AUDIO_RATE) + 1;
    *len = n;
    if (!(pcm = calloc(n, sizeof *pcm)))
        return NULL;
    for (size_t i = 0; i < s->n_outs; i++) {
        const output *o = &s->outs[i];
        size_t at = (size_t)(o->at * (uint64_t)s->out_rate / VC_AUDIO_RATE);
        for (size_t j = 0; j < o->n && at + j < n; j++)
            pcm[at + j] = o->pcm[j];
    }
    return pcm;
}

static vc_status write_output(const vc_sim *s, const char *path)
{
    size_t n;
    int16_t *pcm = render_output(s, &n);
    vc_status rc;

    if (!pcm)
        return vc_fail(VC_ENOMEM, "sim: out of memory for the output");
    rc = write_wav(path, pcm, n, s->out_rate);
    free(pcm);
    return rc;
}

vc_status vc_sim_render_mix(const vc_sim *s, int16_t **out, size_t *n_out)
{
    size_t n_in, n;
    int16_t *in = render_input(s, &n_in), *mix = render_output(s, &n), *up = NULL;
    SpeexResamplerState *rs = NULL;
    spx_uint32_t in_len = (spx_uint32_t)n_in, up_len;
    int err = 0;
    vc_status rc = VC_OK;

    *out = NULL;
    *n_out = 0;
    up_len = (spx_uint32_t)n;
    if (!in || !mix || !(up = calloc(n + 1, sizeof *up)) ||
        !(rs = speex_resampler_init(1, VC_AUDIO_RATE, (spx_uint32_t)s->out_rate, 5, &err))) {
        rc = vc_fail(VC_ENOMEM, "sim: out of memory mixing the conversation");
        goto out_free;
    }
    speex_resampler_skip_zeros(rs);
    speex_resampler_process_int(rs, 0, in, &in_len, up, &up_len);
    for (size_t i = 0; i < n && i < up_len; i++) {
        int v = mix[i] + up[i];
        mix[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    *out = mix;
    *n_out = n;
    mix = NULL;
out_free:
    if (rs)
        speex_resampler_destroy(rs);
    free(up);
    free(in);
    free(mix);
    return rc;
}

static vc_status write_json(const vc_sim *s, const char *path)
{
    cJSON *root = cJSON_CreateObject(), *turns, *outs;
    char *text = NULL;
    FILE *f;
    vc_status rc = VC_OK;

    if (!root)
        return vc_fail(VC_ENOMEM, "sim: out of memory");
    cJSON_AddNumberToObject(root, "input_rate", VC_AUDIO_RATE);
    cJSON_AddNumberToObject(root, "output_rate", s->out_rate);
    cJSON_AddNumberToObject(root, "input_samples", (double)s->pos);
    turns = cJSON_AddArrayToObject(root, "turns");
    outs = cJSON_AddArrayToObject(root, "outputs");
    for (size_t i = 0; turns && i < vc_sim_turn_count(s); i++) {
        const vc_sim_turn_info *t = &s->turns[i].info;
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "label", t->label);
        cJSON_AddNumberToObject(o, "start", (double)t->start);
        cJSON_AddNumberToObject(o, "speech_start", (double)t->speech_start);
        cJSON_AddNumberToObject(o, "speech_end", (double)t->speech_end);
        cJSON_AddNumberToObject(o, "end", (double)t->end);
        cJSON_AddBoolToObject(o, "barge_in", t->barge_in);
        cJSON_AddBoolToObject(o, "press", t->press);
        cJSON_AddItemToArray(turns, o);
    }
    for (size_t i = 0; outs && i < s->n_outs; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddNumberToObject(o, "at", (double)s->outs[i].at);
        cJSON_AddNumberToObject(o, "samples", (double)s->outs[i].n);
        cJSON_AddItemToArray(outs, o);
    }
    if (!turns || !outs || !(text = cJSON_Print(root))) {
        cJSON_Delete(root);
        return vc_fail(VC_ENOMEM, "sim: out of memory");
    }
    cJSON_Delete(root);
    if (!(f = fopen(path, "w"))) {
        rc = vc_fail(VC_EIO, "sim: cannot write %s: %s", path, strerror(errno));
    } else {
        int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
        if (fclose(f) != 0 || !ok)
            rc = vc_fail(VC_EIO, "sim: writing %s failed (disk full?)", path);
    }
    free(text);
    return rc;
}

vc_status vc_sim_write(const vc_sim *s, const char *input_wav, const char *output_wav,
                       const char *json_path)
{
    vc_status rc = VC_OK;

    if (!s)
        return vc_fail(VC_EINVAL, "vc_sim_write: s is NULL");
    if (input_wav && (rc = write_input(s, input_wav)) != VC_OK)
        return rc;
    if (output_wav && (rc = write_output(s, output_wav)) != VC_OK)
        return rc;
    if (json_path && (rc = write_json(s, json_path)) != VC_OK)
        return rc;
    return VC_OK;
}
