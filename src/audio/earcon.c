#include "audio/earcon.h"

#include <math.h>
#include <stdlib.h>

#define MIN_RATE 8000
#define MAX_RATE 96000
/* -12 dBFS: audible over a shop, well under speech at full volume. */
#define PEAK (32767.0 * 0.25)
#define MAX_PARTIALS 3

/* One note: partials at multiples of freq with their own weights, under a
 * raised-cosine attack and release (no click at either end). */
typedef struct {
    double start_ms, length_ms;
    double freq;
    double partials[MAX_PARTIALS]; /* weights of 1x, 2x, 3x freq */
    double attack_ms, release_ms;
} note;

typedef struct {
    const char *name;
    double length_ms;
    note notes[2];
} earcon_spec;

/* Notes that overlap a little glide into each other instead of stepping. */
static const earcon_spec SPECS[] = {
    [VC_EARCON_LISTENING] = {"listening", 130,
                             {{0, 65, 660, {1, 0.3, 0.1}, 8, 20},
                              {50, 80, 990, {1, 0.3, 0.1}, 8, 30}}},
    [VC_EARCON_DONE] = {"done", 130,
                        {{0, 65, 990, {1, 0.3, 0.1}, 8, 20},
                         {50, 80, 660, {1, 0.3, 0.1}, 8, 30}}},
    /* Rich in harmonics and low: it reads as "wrong" without words. */
    [VC_EARCON_ERROR] = {"error", 140,
                         {{0, 60, 220, {1, 0.6, 0.4}, 6, 15},
                          {80, 60, 220, {1, 0.6, 0.4}, 6, 15}}},
};

static double envelope(double t_ms, const note *nt)
{
    if (t_ms < 0 || t_ms > nt->length_ms)
        return 0;
    if (t_ms < nt->attack_ms)
        return 0.5 - 0.5 * cos(M_PI * t_ms / nt->attack_ms);
    if (t_ms > nt->length_ms - nt->release_ms)
        return 0.5 - 0.5 * cos(M_PI * (nt->length_ms - t_ms) / nt->release_ms);
    return 1;
}

vc_status vc_earcon_render(vc_earcon e, int rate, int16_t **pcm, size_t *n)
{
    const earcon_spec *spec;
    double *mix, peak = 0;
    size_t len;
    int16_t *out;

    *pcm = NULL;
    *n = 0;
    if ((unsigned)e >= sizeof SPECS / sizeof *SPECS)
        return vc_fail(VC_EINVAL, "earcon: unknown earcon %d", (int)e);
    if (rate < MIN_RATE || rate > MAX_RATE)
        return vc_fail(VC_EINVAL, "earcon: rate %d Hz outside %d..%d", rate, MIN_RATE, MAX_RATE);
    spec = &SPECS[e];
    len = (size_t)(spec->length_ms * rate / 1000.0);
    mix = calloc(len, sizeof *mix);
    out = malloc(len * sizeof *out);
    if (!mix || !out) {
        free(mix);
        free(out);
        return vc_fail(VC_ENOMEM, "earcon: out of memory");
    }
    for (size_t k = 0; k < sizeof spec->notes / sizeof *spec->notes; k++) {
        const note *nt = &spec->notes[k];
        for (size_t i = 0; i < len; i++) {
            double t_ms = 1000.0 * (double)i / rate - nt->start_ms;
            double env = envelope(t_ms, nt), v = 0;
            if (env == 0)
                continue;
            for (int h = 0; h < MAX_PARTIALS; h++) {
                double f = nt->freq * (h + 1);
                if (f < 0.45 * rate) /* no aliasing at low rates */
                    v += nt->partials[h] * sin(2 * M_PI * f * t_ms / 1000.0);
            }
            mix[i] += env * v;
        }
    }
    for (size_t i = 0; i < len; i++)
        peak = fabs(mix[i]) > peak ? fabs(mix[i]) : peak;
    for (size_t i = 0; i < len; i++)
        out[i] = (int16_t)lrint(peak > 0 ? mix[i] * PEAK / peak : 0);
    free(mix);
    *pcm = out;
    *n = len;
    return VC_OK;
}

const char *vc_earcon_name(vc_earcon e)
{
    if ((unsigned)e >= sizeof SPECS / sizeof *SPECS)
        return "unknown";
    return SPECS[e].name;
}
