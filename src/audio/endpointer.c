#include "audio/endpointer.h"

#include <math.h>
#include <stdlib.h>

#include "audio/audio_file.h"

#define MIN_FRAME 80
#define MAX_FRAME 1600
/* The floor never goes below 20 dB (RMS 10, -70 dBFS): digital silence and
 * the last bit of dither would otherwise put it at 0 dB and make any
 * whisper of noise "speech". */
#define FLOOR_MIN_DB 20.0
/* How the floor follows non-speech frames, per 10 ms: down fast (time
 * constant 50 ms) so that it finds the quiet between noises, up slowly (0.5 s)
 * so that the onset of speech, before it is confirmed, barely moves it. */
#define FLOOR_FALL_PER_10MS 0.2
#define FLOOR_RISE_PER_10MS 0.02
/* While waiting, frames loud enough to be speech still lift the floor by
 * this much per second: a fan switched on becomes the new floor within
 * seconds instead of reading as endless speech. */
#define FLOOR_CREEP_DB_PER_S 1.0
/* A speech candidate whose speech stops for longer than this before it has
 * min_speech_ms of speech is dropped: it was a click or a bang. */
#define CANDIDATE_GAP_MS 200
/* The DC-removal high-pass pole (cut-off about 13 Hz at 16 kHz): consumer
 * microphones carry an offset that would otherwise count as energy. */
#define DC_POLE 0.995

struct vc_endpointer {
    vc_endpointer_config cfg;
    vc_endpointer_state state;
    /* frame counts and sample spans derived from cfg */
    uint64_t frame, pre_roll, kept, max_len, timeout;
    int trailing_frames, min_speech_frames, gap_frames;
    double fall, rise, creep;

    uint64_t pos;        /* samples fed so far */
    uint64_t listen_start, prev_end;
    double floor_db;
    int floor_known;
    double dc_x, dc_y;   /* high-pass state */

    int run;             /* start-margin frames in a row while waiting */
    int candidate;       /* a speech candidate is open */
    int cand_speech, cand_gap;
    uint64_t speech_start, last_speech_end, utterance_start;
    int silence_frames;
};

void vc_endpointer_config_defaults(vc_endpointer_config *cfg)
{
    cfg->frame_samples = 160;
    cfg->pre_roll_ms = 300;
    cfg->trailing_silence_ms = 1000;
    cfg->trailing_kept_ms = 200;
    cfg->min_speech_ms = 150;
    cfg->max_utterance_ms = 15000;
    cfg->no_speech_timeout_ms = 8000;
    cfg->start_margin_db = 9.0;
    cfg->stop_margin_db = 5.0;
    cfg->start_frames = 3;
}

static vc_status check_config(const vc_endpointer_config *c)
{
    if (c->frame_samples < MIN_FRAME || c->frame_samples > MAX_FRAME)
        return vc_fail(VC_EINVAL, "endpointer config: frame_samples %d outside %d..%d",
                       c->frame_samples, MIN_FRAME, MAX_FRAME);
    if (c->pre_roll_ms < 0 || c->trailing_silence_ms < 0 || c->trailing_kept_ms < 0 ||
        c->min_speech_ms < 0 || c->max_utterance_ms < 0 || c->no_speech_timeout_ms < 0)
        return vc_fail(VC_EINVAL, "endpointer config: %s is negative",
                       c->pre_roll_ms < 0           ? "pre_roll_ms"
                       : c->trailing_silence_ms < 0 ? "trailing_silence_ms"
                       : c->trailing_kept_ms < 0    ? "trailing_kept_ms"
                       : c->min_speech_ms < 0       ? "min_speech_ms"
                       : c->max_utterance_ms < 0    ? "max_utterance_ms"
                                                    : "no_speech_timeout_ms");
    /* A ceiling on every time keeps the sample arithmetic far from overflow. */
    if (c->pre_roll_ms > 3600000 || c->trailing_silence_ms > 3600000 ||
        c->trailing_kept_ms > 3600000 || c->max_utterance_ms > 3600000 ||
        c->no_speech_timeout_ms > 3600000)
        return vc_fail(VC_EINVAL, "endpointer config: a time exceeds one hour");
    if (c->max_utterance_ms < c->min_speech_ms)
        return vc_fail(VC_EINVAL, "endpointer config: max_utterance_ms %d < min_speech_ms %d",
                       c->max_utterance_ms, c->min_speech_ms);
    if (!(c->stop_margin_db > 0 && c->stop_margin_db <= c->start_margin_db &&
          c->start_margin_db < 100))
        return vc_fail(VC_EINVAL,
                       "endpointer config: margins need 0 < stop_margin_db (%g) <= "
                       "start_margin_db (%g) < 100",
                       c->stop_margin_db, c->start_margin_db);
    if (c->start_frames < 1 || c->start_frames > 1000)
        return vc_fail(VC_EINVAL, "endpointer config: start_frames %d outside 1..1000",
                       c->start_frames);
    return VC_OK;
}

static uint64_t ms_to_samples(int ms)
{
    return (uint64_t)ms * VC_AUDIO_RATE / 1000;
}

/* Whole frames covering ms, at least one. */
static int ms_to_frames(int ms, int frame)
{
    uint64_t n = (ms_to_samples(ms) + (uint64_t)frame - 1) / (uint64_t)frame;
    return n < 1 ? 1 : (int)n;
}

vc_status vc_endpointer_new(const vc_endpointer_config *cfg, vc_endpointer **out)
{
    vc_endpointer_config defaults;
    vc_endpointer *ep;
    vc_status rc;
    double frames_per_10ms;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_endpointer_new: out is NULL");
    *out = NULL;
    if (!cfg) {
        vc_endpointer_config_defaults(&defaults);
        cfg = &defaults;
    }
    if ((rc = check_config(cfg)) != VC_OK)
        return rc;
    if (!(ep = calloc(1, sizeof *ep)))
        return vc_fail(VC_ENOMEM, "vc_endpointer_new: out of memory");
    ep->cfg = *cfg;
    ep->frame = (uint64_t)cfg->frame_samples;
    ep->pre_roll = ms_to_samples(cfg->pre_roll_ms);
    ep->kept = ms_to_samples(cfg->trailing_kept_ms);
    ep->max_len = ms_to_samples(cfg->max_utterance_ms);
    ep->timeout = ms_to_samples(cfg->no_speech_timeout_ms);
    ep->trailing_frames = ms_to_frames(cfg->trailing_silence_ms, cfg->frame_samples);
    ep->min_speech_frames = ms_to_frames(cfg->min_speech_ms, cfg->frame_samples);
    ep->gap_frames = ms_to_frames(CANDIDATE_GAP_MS, cfg->frame_samples);
    /* The smoothing constants are per 10 ms; scale them to the frame. */
    frames_per_10ms = (double)cfg->frame_samples / (VC_AUDIO_RATE / 100.0);
    ep->fall = 1.0 - pow(1.0 - FLOOR_FALL_PER_10MS, frames_per_10ms);
    ep->rise = 1.0 - pow(1.0 - FLOOR_RISE_PER_10MS, frames_per_10ms);
    ep->creep = FLOOR_CREEP_DB_PER_S * (double)cfg->frame_samples / VC_AUDIO_RATE;
    ep->state = VC_EP_WAITING;
    *out = ep;
    return VC_OK;
}

vc_status vc_endpointer_set_no_speech_timeout(vc_endpointer *ep, int ms)
{
    if (!ep)
        return vc_fail(VC_EINVAL, "vc_endpointer_set_no_speech_timeout: ep is NULL");
    if (ms < 0 || ms > 3600000)
        return vc_fail(VC_EINVAL, "endpointer: no_speech_timeout_ms %d is outside 0..3600000", ms);
    ep->cfg.no_speech_timeout_ms = ms;
    ep->timeout = ms_to_samples(ms);
    return VC_OK;
}

void vc_endpointer_reset(vc_endpointer *ep)
{
    if (!ep)
        return;
    ep->state = VC_EP_WAITING;
    ep->listen_start = ep->pos;
    ep->run = 0;
    ep->candidate = 0;
    ep->cand_speech = ep->cand_gap = 0;
    ep->silence_frames = 0;
}

/* Energy of the frame after DC removal, dB of the mean square sample. */
static double frame_energy_db(vc_endpointer *ep, const int16_t *frame)
{
    double sum = 0;

    for (uint64_t i = 0; i < ep->frame; i++) {
        double x = frame[i];
        double y = x - ep->dc_x + DC_POLE * ep->dc_y;
        ep->dc_x = x;
        ep->dc_y = y;
        sum += y * y;
    }
    return 10.0 * log10(sum / (double)ep->frame + 1.0);
}

static void follow_floor(vc_endpointer *ep, double e)
{
    ep->floor_db += (e - ep->floor_db) * (e < ep->floor_db ? ep->fall : ep->rise);
    if (ep->floor_db < FLOOR_MIN_DB)
        ep->floor_db = FLOOR_MIN_DB;
}

static void end_utterance(vc_endpointer *ep, vc_endpointer_event *ev)
{
    uint64_t end = ep->last_speech_end + ep->kept;

    ev->type = VC_EP_EVENT_SPEECH_ENDED;
    ev->sample = ep->last_speech_end;
    ev->utterance_start = ep->utterance_start;
    ev->utterance_end = end < ep->pos ? end : ep->pos;
    ep->prev_end = ev->utterance_end;
    ep->state = VC_EP_ENDED;
}

static void on_waiting(vc_endpointer *ep, double e, uint64_t frame_start, vc_endpointer_event *ev)
{
    int loud = e > ep->floor_db + ep->cfg.start_margin_db;

    ep->run = loud ? ep->run + 1 : 0;
    if (!ep->candidate) {
        if (ep->run >= ep->cfg.start_frames) {
            ep->candidate = 1;
            ep->speech_start = frame_start - (uint64_t)(ep->run - 1) * ep->frame;
            ep->cand_speech = ep->run;
            ep->cand_gap = 0;
            ep->last_speech_end = ep->pos;
        }
    } else if (e > ep->floor_db + ep->cfg.stop_margin_db) {
        ep->cand_speech++;
        ep->cand_gap = 0;
        ep->last_speech_end = ep->pos;
    } else if (++ep->cand_gap > ep->gap_frames) {
        ep->candidate = 0;
        ep->run = 0;
    }

    if (ep->candidate && ep->cand_speech >= ep->min_speech_frames) {
        uint64_t start = ep->speech_start > ep->pre_roll ? ep->speech_start - ep->pre_roll : 0;
        if (start < ep->prev_end)
            start = ep->prev_end;
        ep->state = VC_EP_IN_SPEECH;
        ep->silence_frames = ep->cand_gap;
        ev->type = VC_EP_EVENT_SPEECH_STARTED;
        ev->sample = ep->speech_start;
        ev->utterance_start = start;
        ep->utterance_start = start;
        return;
    }
    if (!ep->candidate && ep->timeout && ep->pos - ep->listen_start >= ep->timeout) {
        ep->state = VC_EP_TIMED_OUT;
        ev->type = VC_EP_EVENT_TIMED_OUT;
        ev->sample = ep->pos;
    }
}

static void on_speech(vc_endpointer *ep, double e, vc_endpointer_event *ev)
{
    if (e > ep->floor_db + ep->cfg.stop_margin_db) {
        ep->last_speech_end = ep->pos;
        ep->silence_frames = 0;
    } else {
        ep->silence_frames++;
    }
    if (ep->silence_frames >= ep->trailing_frames) {
        end_utterance(ep, ev);
    } else if (ep->pos - ep->speech_start >= ep->max_len) {
        ev->type = VC_EP_EVENT_MAX_LENGTH;
        ev->sample = ep->pos;
        ev->utterance_start = ep->utterance_start;
        ev->utterance_end = ep->pos;
        ep->prev_end = ep->pos;
        ep->state = VC_EP_ENDED;
    }
}

vc_status vc_endpointer_process(vc_endpointer *ep, const int16_t *frame, vc_endpointer_event *ev)
{
    uint64_t frame_start;
    double e;
    int quiet;

    if (!ep || !frame || !ev)
        return vc_fail(VC_EINVAL, "vc_endpointer_process: %s is NULL",
                       !ep ? "ep" : !frame ? "frame" : "ev");
    *ev = (vc_endpointer_event){.type = VC_EP_EVENT_NONE};
    if (ep->state == VC_EP_ENDED || ep->state == VC_EP_TIMED_OUT)
        return vc_fail(VC_ESTATE, "vc_endpointer_process: the utterance is over (%s); reset first",
                       ep->state == VC_EP_ENDED ? "ended" : "timed out");
    e = frame_energy_db(ep, frame);
    frame_start = ep->pos;
    ep->pos += ep->frame;
    if (!ep->floor_known) {
        ep->floor_db = e < FLOOR_MIN_DB ? FLOOR_MIN_DB : e;
        ep->floor_known = 1;
    }

    /* Decide against the floor as it was before this frame, then learn. */
    quiet = e <= ep->floor_db + (ep->state == VC_EP_IN_SPEECH || ep->candidate
                                     ? ep->cfg.stop_margin_db
                                     : ep->cfg.start_margin_db);
    if (ep->state == VC_EP_WAITING)
        on_waiting(ep, e, frame_start, ev);
    else
        on_speech(ep, e, ev);

    if (quiet)
        follow_floor(ep, e);
    else if (ep->state == VC_EP_WAITING)
        ep->floor_db += ep->creep;
    return VC_OK;
}

vc_status vc_endpointer_end_now(vc_endpointer *ep, vc_endpointer_event *ev)
{
    if (!ep || !ev)
        return vc_fail(VC_EINVAL, "vc_endpointer_end_now: %s is NULL", !ep ? "ep" : "ev");
    if (ep->state != VC_EP_IN_SPEECH)
        return vc_fail(VC_ESTATE, "vc_endpointer_end_now: no utterance in progress");
    *ev = (vc_endpointer_event){.type = VC_EP_EVENT_NONE};
    end_utterance(ep, ev);
    return VC_OK;
}

vc_endpointer_state vc_endpointer_get_state(const vc_endpointer *ep)
{
    return ep->state;
}

uint64_t vc_endpointer_trailing_silence(const vc_endpointer *ep)
{
    return ep->state == VC_EP_IN_SPEECH ? ep->pos - ep->last_speech_end : 0;
}

double vc_endpointer_noise_floor_db(const vc_endpointer *ep)
{
    return ep->floor_db;
}

void vc_endpointer_free(vc_endpointer *ep)
{
    free(ep);
}
