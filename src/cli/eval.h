/* `voxcart eval`: the command acceptance rate of the recogniser and the
 * understander together on labelled recordings (labels.h), clean and with
 * noise mixed in at chosen SNRs, the way the published speech-to-intent
 * benchmark measures it (../shared/data/README.md). Also the one place where
 * a transcript becomes an understanding, shared by `understand FILE.wav`. */
#ifndef VC_CLI_EVAL_H
#define VC_CLI_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "audio/audio_file.h"
#include "core/status.h"
#include "nlu/understander.h"
#include "speech/recogniser.h"

#define VC_EVAL_MAX_CONDITIONS 16
/* SNRs outside this range are typing mistakes, not experiments. */
#define VC_EVAL_SNR_MIN_DB (-20.0)
#define VC_EVAL_SNR_MAX_DB 100.0

typedef struct {
    int clean;     /* 1: the recording as it is, no noise */
    double snr_db; /* otherwise: noise mixed in at this SNR */
} vc_eval_condition;

typedef struct {
    const char *labels_path;
    const char *dir;        /* the recordings named in the labels */
    const char *noise_path; /* needed by any noisy condition */
    vc_eval_condition conditions[VC_EVAL_MAX_CONDITIONS];
    size_t n_conditions;    /* 0: clean only */
    uint64_t seed;          /* picks each file's stretch of noise */
    size_t limit;           /* 0: every labelled recording, else the first ones */
    int json;               /* a JSON summary on stdout instead of the table */
    const vc_audio_read_options *read_options; /* may be NULL */
} vc_eval_options;

/* Parses "clean,24,18,12,6" into o->conditions. A bad or out-of-range
 * value, an empty item or more than VC_EVAL_MAX_CONDITIONS fail with
 * VC_EINVAL naming it. */
VC_MUST_CHECK vc_status vc_eval_parse_conditions(const char *list, vc_eval_options *o);

/* The noise stretch of one recording: the same for a file name and seed on
 * every run and machine, different between files. */
uint64_t vc_eval_file_seed(uint64_t seed, const char *file_name);

/* One evaluation: the labels, the recordings to hear and the noise. */
typedef struct vc_eval vc_eval;

/* Prepares the evaluation o describes (copied; its strings must outlive
 * the object): everything that can be wrong with the input fails here,
 * before a model is loaded or anything decoded. A labels file that cannot
 * be used, recordings missing from o->dir (all named, up to a few) or
 * unusable noise fail with a detail naming them. */
VC_MUST_CHECK vc_status vc_eval_new(const vc_eval_options *o, vc_eval **out);
void vc_eval_free(vc_eval *e);

/* Decodes, understands and scores every recording under every condition
 * with r and u, and prints the result: a progress bar on stderr when stderr
 * is a terminal (a line per 10 recordings otherwise), then per condition
 * the command acceptance rate, counts, errors per labelled slot (counted
 * among recordings whose intent was right, so rejections are not counted
 * twice), the real-time factor and the failures; or with o->json one JSON
 * summary on stdout. A recording that cannot be read or decoded counts as
 * not understood, is listed with the reason, and sets *had_bad_input; the
 * run goes on. Run once per object. */
VC_MUST_CHECK vc_status vc_eval_run(vc_eval *e, vc_recogniser *r, vc_understander *u,
                                    int *had_bad_input);

#endif
