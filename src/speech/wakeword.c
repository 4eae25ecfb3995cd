/* The wake word spotter; see wakeword.h.
 *
 * pocketsphinx's keyphrase search (Debian's 0.8+5prealpha, kws_search.c)
 * runs a free phone loop and, beside it, the phrase's phones as one chain of
 * HMMs entered from the loop. When the chain's last HMM ends within
 * -kws_threshold of the loop's best score, it records a detection, and
 * ps_get_hyp() shows it once -kws_delay (10) more frames have passed.
 *
 * Continuous operation. The search never ends an utterance by itself and
 * keeps its detections until the next ps_start_utt(), so this file ends and
 * starts one (a "search") after each detection; and since the search never
 * renormalises its path scores, which fall with every frame, it also
 * restarts every RESTART_SAMPLES of audio. A restart feeds the last
 * OVERLAP_SAMPLES again (kept in a ring), so that a phrase under way at the
 * restart is seen whole by the new search; a phrase the old search was
 * about to report (within -kws_delay of its end) is found again there, and
 * no phrase is reported twice because the old search reported nothing. The
 * cost is searching 2.5 s again once a minute (4 %).
 *
 * Cepstral mean. The decoder subtracts a running mean of the cepstra (live
 * CMN, over the frames its voice activity detector passes) and, at each
 * ps_end_utt(), makes that the starting mean of the next utterance. A search
 * that heard only room tone leaves the mean of the room tone: measured, 30 s
 * of white room tone at -66 dBFS moves c1 from the model's -5.3 to -23, and
 * "hey barista" right after is missed (found without the restart). So every
 * search starts from the model's initial mean (-cmninit), read once after
 * ps_init(); within a search the mean still adapts. This gives up learning
 * the microphone's colour across searches, which a search of a minute does
 * by itself.
 *
 * Detection time. This build numbers the frames of ps_seg_iter() on across
 * utterances and its voice activity detector (-remove_silence, kept: on
 * the barista-dev recordings with silence around them, at -kws_plp 1e-10
 * and threshold 1e-20, it took the false wakes from 20 to 8 and the CPU time from 32 s to 14 s)
 * drops silent frames, so frame numbers do not map back to the stream.
 * Instead audio goes in blocks of BLOCK_SAMPLES and the hypothesis is read
 * after each: a phrase that shows after a block ended about -kws_delay
 * before that block's end, give or take the block. */
#include "speech/wakeword.h"

#include <ctype.h>
#include <math.h>
#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_config.h"
#include "core/log.h"
#include "speech/lexicon.h"

#define RATE 16000
/* 0.1 s: the resolution of detection times and the detection latency. */
#define BLOCK_SAMPLES 1600
#define RESTART_SAMPLES ((uint64_t)VC_WAKEWORD_RESTART_SECONDS * RATE)
#define OVERLAP_SAMPLES ((size_t)(VC_WAKEWORD_OVERLAP_SECONDS * RATE))
/* pocketsphinx's default -kws_delay, in seconds: a phrase shows this long
 * after its end. */
#define KWS_DELAY_SECONDS 0.10
#define SEARCH "wake"

struct vc_wakeword {
    ps_decoder_t *ps;
    cmd_ln_t *config;
    char phrase[VC_WAKEWORD_MAX_BYTES + 1];
    int in_search;        /* between ps_start_utt and ps_end_utt */
    mfcc_t *cmn_init;     /* the model's initial cepstral mean, NULL if none */
    uint64_t fed;         /* samples fed since new */
    uint64_t search_fed;  /* samples fed to the current search */
    /* The last OVERLAP_SAMPLES of the stream: ring[ring_pos] is the oldest
     * once ring_len == OVERLAP_SAMPLES. */
    int16_t *ring;
    size_t ring_len, ring_pos;
    vc_wakeword_stats stats;
};

static int debug_logging(void)
{
    const char *v = getenv("VOXCART_LOG");
    return v && strcmp(v, "debug") == 0;
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copies cfg's phrase into out lower-cased with single spaces and splits it
 * into words[] (pointing into words_buf). */
static vc_status normalise_phrase(const char *phrase, char *out, char *words_buf,
                                  const char **words, size_t *n_words)
{
    size_t len = 0, n = 0;
    const char *p = phrase;

    if (!phrase)
        return vc_fail(VC_EINVAL, "wake word: no phrase");
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *start = p;
        int letters = 0;
        while (*p && *p != ' ' && *p != '\t') {
            unsigned char c = (unsigned char)*p;
            if (isalpha(c) || c >= 0x80)
                letters = 1;
            else if (c != '\'' && c != '-')
                return vc_fail(VC_EINVAL, "wake word \"%.*s\": '%c' is not a letter, ' or - "
                                          "(spell numbers out)",
                               VC_WAKEWORD_MAX_BYTES, phrase, c >= 0x20 && c < 0x7f ? c : '?');
            p++;
        }
        size_t wlen = (size_t)(p - start);
        if (!letters)
            return vc_fail(VC_EINVAL, "wake word \"%.*s\": \"%.*s\" has no letter",
                           VC_WAKEWORD_MAX_BYTES, phrase, (int)wlen, start);
        if (n == VC_WAKEWORD_MAX_WORDS)
            return vc_fail(VC_EINVAL, "wake word \"%.*s\": more than %d words",
                           VC_WAKEWORD_MAX_BYTES, phrase, VC_WAKEWORD_MAX_WORDS);
        if (len + (len > 0) + wlen > VC_WAKEWORD_MAX_BYTES)
            return vc_fail(VC_EINVAL, "wake word \"%.*s...\": longer than %d bytes",
                           VC_WAKEWORD_MAX_BYTES, phrase, VC_WAKEWORD_MAX_BYTES);
        if (len > 0)
            out[len++] = ' ';
        for (size_t i = 0; i < wlen; i++)
            out[len + i] = (char)tolower((unsigned char)start[i]);
        words[n++] = words_buf + len;
        len += wlen;
    }
    out[len] = '\0';
    if (n == 0)
        return vc_fail(VC_EINVAL, "wake word: the phrase is empty");
    /* words_buf is out with the spaces as terminators */
    memcpy(words_buf, out, len + 1);
    for (size_t i = 0; i < len; i++)
        if (words_buf[i] == ' ')
            words_buf[i] = '\0';
    *n_words = n;
    return VC_OK;
}

/* Adds the first pronunciation of each word to the decoder. */
static vc_status add_words(vc_wakeword *w, const char *base_dict, const char *extra_dict,
                           const char *const *words, size_t n)
{
    vc_status rc;
    vc_lexicon *lex = NULL;

    if ((rc = vc_lexicon_new(base_dict, extra_dict, words, n, &lex)) != VC_OK) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", vc_error_detail());
        return vc_fail(rc, "wake word \"%s\": %s", w->phrase, detail);
    }
    for (size_t i = 0; i < vc_lexicon_count(lex); i++) {
        const char *word, *phones;
        vc_lexicon_entry(lex, i, &word, &phones);
        if (strchr(word, '('))
            continue; /* "word(2)": the keyphrase search follows word's own */
        if (ps_add_word(w->ps, word, phones, 0) < 0) {
            rc = vc_fail(VC_EINVAL, "wake word \"%s\": the decoder refuses \"%s\" (%s)",
                         w->phrase, word, phones);
            goto out_free_lexicon;
        }
        vc_log_debug("wake word: %s %s", word, phones);
    }
    rc = VC_OK;
out_free_lexicon:
    vc_lexicon_free(lex);
    return rc;
}

static vc_status start_search(vc_wakeword *w)
{
    feat_t *feat = ps_get_feat(w->ps);
    if (w->cmn_init && feat && feat->cmn_struct)
        cmn_live_set(feat->cmn_struct, w->cmn_init);
    if (ps_start_utt(w->ps) < 0)
        return vc_fail(VC_ESTATE, "wake word: pocketsphinx cannot start a search");
    w->in_search = 1;
    w->search_fed = 0;
    w->stats.searches++;
    return VC_OK;
}

static void end_search(vc_wakeword *w)
{
    if (w->in_search)
        ps_end_utt(w->ps);
    w->in_search = 0;
}

vc_status vc_wakeword_new(const vc_wakeword_config *cfg, vc_wakeword **out)
{
    vc_status rc;
    vc_wakeword *w;
    char hmm[1024], dict[1024], threshold[32], plp[32];
    char words_buf[VC_WAKEWORD_MAX_BYTES + 1];
    const char *words[VC_WAKEWORD_MAX_WORDS];
    size_t n_words = 0;

    *out = NULL;
    if (!cfg)
        return vc_fail(VC_EINVAL, "wake word: no configuration");
    double t = cfg->threshold == 0 ? VC_WAKEWORD_THRESHOLD : cfg->threshold;
    if (!isfinite(t) || t < VC_WAKEWORD_THRESHOLD_MIN || t > VC_WAKEWORD_THRESHOLD_MAX)
        return vc_fail(VC_EINVAL, "wake word: threshold %g is outside %g..%g (0 = the default "
                                  "%g)",
                       t, VC_WAKEWORD_THRESHOLD_MIN, VC_WAKEWORD_THRESHOLD_MAX,
                       VC_WAKEWORD_THRESHOLD);
    double loop = cfg->phone_loop_prob == 0 ? VC_WAKEWORD_PHONE_LOOP_PROB : cfg->phone_loop_prob;
    if (!isfinite(loop) || loop < VC_WAKEWORD_THRESHOLD_MIN || loop > 1)
        return vc_fail(VC_EINVAL, "wake word: phone loop probability %g is outside %g..1 (0 = "
                                  "the default %g)",
                       loop, VC_WAKEWORD_THRESHOLD_MIN, VC_WAKEWORD_PHONE_LOOP_PROB);

    w = calloc(1, sizeof *w);
    if (!w)
        return vc_fail(VC_ENOMEM, "wake word: out of memory");
    if ((rc = normalise_phrase(cfg->phrase, w->phrase, words_buf, words, &n_words)) != VC_OK)
        goto out_free_wakeword;
    w->ring = malloc(OVERLAP_SAMPLES * sizeof *w->ring);
    if (!w->ring) {
        rc = vc_fail(VC_ENOMEM, "wake word: out of memory");
        goto out_free_wakeword;
    }
    snprintf(hmm, sizeof hmm, "%s", cfg->model_dir ? cfg->model_dir
                                                   : VC_POCKETSPHINX_MODELDIR "/en-us/en-us");
    snprintf(dict, sizeof dict, "%s", cfg->dictionary
                                          ? cfg->dictionary
                                          : VC_POCKETSPHINX_MODELDIR "/en-us/cmudict-en-us.dict");
    snprintf(threshold, sizeof threshold, "%g", t);
    snprintf(plp, sizeof plp, "%g", loop);
    FILE *probe = fopen(hmm[0] ? hmm : ".", "r");
    if (!probe) {
        rc = vc_fail(VC_ENOTFOUND, "wake word: acoustic model %s not found "
                                   "(install pocketsphinx-en-us)",
                     hmm);
        goto out_free_wakeword;
    }
    fclose(probe);

    if (!debug_logging())
        err_set_logfp(NULL); /* pocketsphinx's own messages; before init */
    /* -dict /dev/null: the phrase's words are added below, which is much
     * faster than loading cmudict's 134,000 entries (recogniser.c). */
    w->config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", "/dev/null",
                            "-kws_threshold", threshold, "-kws_plp", plp, "-logfn",
                            debug_logging() ? "/dev/stderr" : "/dev/null", NULL);
    if (!w->config) {
        rc = vc_fail(VC_EINVAL, "wake word: pocketsphinx refuses its settings");
        goto out_free_wakeword;
    }
    w->ps = ps_init(w->config);
    if (!w->ps) {
        rc = vc_fail(VC_EIO, "wake word: pocketsphinx cannot load the model %s", hmm);
        goto out_free_wakeword;
    }
    if ((rc = add_words(w, dict, cfg->lexicon, words, n_words)) != VC_OK)
        goto out_free_wakeword;
    /* Words missing from the dictionary would only be logged by the search
     * (which then spots nothing); add_words has made sure none is. */
    if (ps_set_keyphrase(w->ps, SEARCH, w->phrase) < 0 || ps_set_search(w->ps, SEARCH) < 0) {
        rc = vc_fail(VC_EINVAL, "wake word \"%s\": pocketsphinx refuses the phrase "
                                "(VOXCART_LOG=debug shows why)",
                     w->phrase);
        goto out_free_wakeword;
    }
    feat_t *feat = ps_get_feat(w->ps);
    if (feat && feat->cmn_struct && feat->cepsize > 0) {
        w->cmn_init = calloc((size_t)feat->cepsize, sizeof *w->cmn_init);
        if (!w->cmn_init) {
            rc = vc_fail(VC_ENOMEM, "wake word: out of memory");
            goto out_free_wakeword;
        }
        cmn_live_get(feat->cmn_struct, w->cmn_init);
    }
    if ((rc = start_search(w)) != VC_OK)
        goto out_free_wakeword;
    *out = w;
    return VC_OK;
out_free_wakeword:
    vc_wakeword_free(w);
    return rc;
}

void vc_wakeword_free(vc_wakeword *w)
{
    if (!w)
        return;
    if (w->ps) {
        end_search(w);
        ps_free(w->ps);
    }
    if (w->config)
        cmd_ln_free_r(w->config);
    free(w->cmn_init);
    free(w->ring);
    free(w);
}

const char *vc_wakeword_phrase(const vc_wakeword *w)
{
    return w->phrase;
}

static void remember(vc_wakeword *w, const int16_t *pcm, size_t n)
{
    if (n >= OVERLAP_SAMPLES) {
        memcpy(w->ring, pcm + n - OVERLAP_SAMPLES, OVERLAP_SAMPLES * sizeof *pcm);
        w->ring_len = OVERLAP_SAMPLES;
        w->ring_pos = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        w->ring[w->ring_pos] = pcm[i];
        w->ring_pos = (w->ring_pos + 1) % OVERLAP_SAMPLES;
    }
    w->ring_len = w->ring_len + n < OVERLAP_SAMPLES ? w->ring_len + n : OVERLAP_SAMPLES;
}

static vc_status process(vc_wakeword *w, const int16_t *pcm, size_t n)
{
    if (n > 0 && ps_process_raw(w->ps, pcm, n, FALSE, FALSE) < 0)
        return vc_fail(VC_EAUDIO, "wake word: pocketsphinx cannot process the audio");
    w->search_fed += n;
    return VC_OK;
}

/* The periodic restart: a new search over the remembered overlap. */
static vc_status restart_with_overlap(vc_wakeword *w)
{
    vc_status rc;
    size_t oldest = w->ring_len < OVERLAP_SAMPLES ? 0 : w->ring_pos;
    size_t first = w->ring_len < OVERLAP_SAMPLES ? w->ring_len : OVERLAP_SAMPLES - oldest;

    end_search(w);
    if ((rc = start_search(w)) != VC_OK)
        return rc;
    w->stats.restarts++;
    if ((rc = process(w, w->ring + oldest, first)) != VC_OK)
        return rc;
    return process(w, w->ring, w->ring_len - first);
}

vc_status vc_wakeword_feed(vc_wakeword *w, const int16_t *pcm, size_t n, int *detected,
                           double *at_seconds)
{
    vc_status rc = VC_OK;
    double cpu0 = thread_cpu_seconds();

    *detected = 0;
    *at_seconds = 0;
    if (!w || (!pcm && n > 0))
        return vc_fail(VC_EINVAL, "wake word: no audio");
    if (!w->in_search && (rc = start_search(w)) != VC_OK)
        return rc; /* a failed restart: try again */
    for (size_t off = 0; off < n; off += BLOCK_SAMPLES) {
        size_t len = n - off < BLOCK_SAMPLES ? n - off : BLOCK_SAMPLES;
        if ((rc = process(w, pcm + off, len)) != VC_OK)
            break;
        remember(w, pcm + off, len);
        w->fed += len;
        const char *hyp = ps_get_hyp(w->ps, NULL);
        if (hyp && *hyp) {
            if ((*detected)++ == 0) {
                double at = (double)w->fed / RATE - KWS_DELAY_SECONDS;
                *at_seconds = at > 0 ? at : 0;
            }
            w->stats.detections++;
            /* The next search must not see the phrase again. */
            w->ring_len = w->ring_pos = 0;
            end_search(w);
            if ((rc = start_search(w)) != VC_OK)
                break;
        } else if (w->search_fed >= RESTART_SAMPLES) {
            if ((rc = restart_with_overlap(w)) != VC_OK)
                break;
        }
    }
    w->stats.audio_seconds = (double)w->fed / RATE;
    w->stats.cpu_seconds += thread_cpu_seconds() - cpu0;
    return rc;
}

vc_status vc_wakeword_reset(vc_wakeword *w)
{
    if (!w)
        return vc_fail(VC_EINVAL, "wake word: NULL");
    w->ring_len = w->ring_pos = 0;
    end_search(w);
    return start_search(w);
}

void vc_wakeword_get_stats(const vc_wakeword *w, vc_wakeword_stats *out)
{
    *out = w->stats;
}
