/* Speech in: pocketsphinx (Debian's 0.8+5prealpha) searching one FSG that
 * the grammar compiler (grammar.c) builds from the pack, over a dictionary
 * of the grammar's words only (lexicon.c). See recogniser.h.
 *
 * The decoder starts with an empty dictionary (-dict /dev/null) and gets the
 * grammar's words with ps_add_word(): reading cmudict for a few hundred
 * words and adding them is faster than letting pocketsphinx load all 134,000
 * entries. The FSG is handed over as a search named "grammar<N>"; an update
 * builds the next one beside it and drops the old one only once the new one
 * is in place.
 *
 * Rejection. The posterior of the best path in the FSG lattice
 * (ps_get_prob()) is kept as vc_transcript.posterior, but it only weighs the
 * grammar's paths against each other: it is 1 whenever the grammar leaves no
 * alternative, however badly the audio fits. So the same audio is decoded a
 * second time by a free phone loop (pocketsphinx's allphone search over the
 * model's phone bigram, en-us-phone.lm.bin), which can follow any speech or
 * noise. When the words are in the grammar the grammar's best path comes
 * close to the phone loop's acoustic score; when they are not, the grammar
 * must force wrong words onto the audio and falls far behind. The gap is
 *   gap = (ascr(phone loop) - ascr(grammar)) / speech frames
 * (acoustic scores only, summed over each best path's segments, so language
 * weights and insertion penalties do not enter; speech frames are those the
 * grammar's real words cover, so leading and trailing silence, which both
 * searches fit alike, do not dilute it), in thousands of the decoder's log
 * units (base 1.0001) per frame. confidence = 1 / (1 + exp((gap - GAP_MID) /
 * GAP_SCALE)): 0.5 at GAP_MID, see there for the measurements. That second
 * pass costs as much CPU as the first, after the end of speech, and rejects
 * nothing the garbage loop (below) lets through, so it runs only where the
 * figure is used (vc_confidence_pass in recogniser.h). */
#include "speech/recogniser.h"

#include <math.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/fe.h>
#include <sphinxbase/feat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build_config.h"
#include "core/log.h"
#include "nlu/template.h"
#include "speech/grammar.h"
#include "speech/lexicon.h"

/* Audio goes to the decoder in blocks of this many samples (0.25 s). */
#define BLOCK_SAMPLES 4000
/* Longest utterance decoded: 10 minutes of 16 kHz audio. */
#define MAX_SAMPLES (16000u * 600u)
/* Probability of a one-word filler ("um") looping at a state. */
#define FILLER_PROB 0.05

/* Wider than pocketsphinx's (1e-48, 7e-29, 1e-48): in noise the right path
 * falls far behind the best one for a while. Measured on the 120
 * barista-dev recordings with kitchen noise at 12 dB (cafe pack, its
 * [orderDrink.speech] grammar): beams 1e-60/1e-40/1e-60 understood 81.7 %,
 * 1e-80/1e-60/1e-80 84.2 % (RTF 0.057 -> 0.065). */
#define DEFAULT_BEAM 1e-80
#define DEFAULT_WBEAM 1e-60
#define DEFAULT_PBEAM 1e-80
/* Noise and silence between words: pocketsphinx's defaults (filler 1e-8,
 * silence 0.005) make the decoder explain a clatter with words; with the
 * noise filler (+NSN+) and silence cheaper, 12 dB went from 84.2 % to
 * 87.5 % (same recordings; a filler of 1e-2 gained nothing more, a silence
 * of 0.3 lost 2 recordings). Clean stayed at 117/120. */
#define FILLER_WORD_PROB "1e-3"
#define SILENCE_PROB "0.1"
/* Most HMMs the search keeps active in a frame (pocketsphinx: 30000, which
 * the wide beams above reach in noise and on large grammars). Measured
 * 2026-11-30 on the 120 barista-dev recordings: 1500 understood the same
 * clean (117), at 12 dB (102) and at 6 dB (78) at RTF 0.013 / 0.036 /
 * 0.042 instead of 0.014 / 0.039 / 0.046; 1000 lost one at 12 dB, 800 two
 * at 12 and two at 6 dB. On the bench's retail sentences 1500 gave the
 * same words for all 36 at RTF 0.042-0.053 instead of 0.051-0.062. */
#define MAX_ACTIVE_HMMS "1500"

/* The phone loop's search name and its phone bigram in the model folder. */
#define PHONE_LOOP "phoneloop"
#define PHONE_LM "en-us-phone.lm.bin"
/* Beam and phone beam of the phone loop (see vc_recogniser_new). */
#define PHONE_LOOP_BEAM 1e-20
/* Confidence from the phone-loop gap (see the top of the file): a logistic
 * that is 0.5 at GAP_MID and falls from 0.73 to 0.27 over +-GAP_SCALE.
 * Measured (cafe pack): the first 40 sorted barista-dev recordings have gaps
 * 0.006..0.052 (median 0.031); out-of-domain speech (sphinx-test cards,
 * goforward; cafe and retail packs) 0.014..0.059, so speech outside the
 * grammar is NOT separated by this gap: the grammar's fillers and short
 * words let it follow almost any speech. Kitchen noise reaches 0.06..0.19 in
 * a quarter of the 5 s pieces. GAP_MID sits just above every in-domain
 * recording measured (no false reject); rejecting on it is off by default
 * (VC_RECOGNISER_REJECT_BELOW). */
#define GAP_MID 0.060
#define GAP_SCALE 0.010

struct vc_recogniser {
    const vc_understander *u;
    ps_decoder_t *ps;
    cmd_ln_t *config;
    char *base_dict, *lexicon;
    vc_grammar_options options;
    vc_grammar_stats stats;
    unsigned generation; /* of the search in use */
    double reject_below;
    vc_confidence_pass confidence;
    double garbage_prob; /* per phone of the garbage loop; 0: none */
    int decoded; /* an utterance has run (vc_recogniser_free) */
    /* Where the search's frames lie in the audio of the utterance (see
     * track_frames): from search frame shifts[i].from on, the audio frame
     * is the search frame + shifts[i].by. */
    struct frame_shift {
        long from, by;
    } *shifts;
    size_t n_shifts, shifts_cap;
    size_t utt_samples; /* fed to the utterance */
    /* after the last block: frames searched, frames the front end made
     * (passed or not), whether the VAD was in speech, and the first frame
     * that may belong to a later stretch than the last shift's */
    long searched, made, next_from;
    int in_speech;
    /* The grammar of the search in use: vc_recogniser_partial() asks it
     * whether the words so far make a whole sentence. */
    vc_grammar *grammar;

    /* The utterance between vc_recogniser_begin and _finish. */
    int in_utterance;
    size_t fed;      /* samples fed */
    clock_t cpu;     /* CPU time of its feeds */
    /* Its audio, for the phone loop at finish (see "streaming" below);
     * not kept (keep_audio 0) when _decode lends the caller's buffer. */
    int keep_audio;
    int16_t *audio;
    size_t audio_cap;
    /* The last partial hypothesis handed out and whether it was complete:
     * asked again with the same words, the grammar is not walked again. */
    char *partial;
    int partial_complete, partial_valid;
};

/* Rejection inside the search: beside the pack's sentences the FSG offers
 * a garbage loop, any run of the model's phones, each phone costing
 * DEFAULT_GARBAGE_PROB. Speech that the grammar fits takes the sentence
 * (a word's phones come free); noise and other speech fit the loop better
 * than any sentence, and the utterance is rejected. Measured (cafe pack):
 * of 40 random 1.5-4 s pieces of kitchen noise, 40 were heard as a command
 * without the loop, 13 at 1e-3, 7 at 1e-2, 5 at 5e-2; of the first 40
 * barista-dev recordings none was lost at 1e-2 clean or at 12 dB (one at 6
 * dB), while 5e-2 lost one clean and two at 12 dB. The sphinx-test cards
 * ("nine of clubs"...) are rejected 4 of 5 against the cafe pack, 0 of 5
 * against the retail pack, whose catalog words and numbers fit them. */
#define DEFAULT_GARBAGE_PROB 1e-2
/* The garbage loop's words: "<g-AA>" for each of the model's phones but
 * silence (the search has its own). 0 when phone i is silence. */
static int garbage_word(size_t i, char *word, size_t cap)
{
    const char *phone = vc_lexicon_phone(i);
    if (!phone || strcmp(phone, "SIL") == 0)
        return 0;
    snprintf(word, cap, "<g-%s>", phone);
    return 1;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static vc_filler_mode filler_mode(void)
{
    /* A tuning knob for measurements, not a setting: VOXCART_ASR_FILLERS. */
    const char *v = getenv("VOXCART_ASR_FILLERS");
    if (v && strcmp(v, "none") == 0)
        return VC_FILLERS_NONE;
    if (v && strcmp(v, "anywhere") == 0)
        return VC_FILLERS_ANYWHERE;
    return VC_FILLERS_START;
}

/* Adds the words of g the decoder does not know yet; counts the words
 * pronounced through espeak-ng. */
static vc_status add_words(vc_recogniser *r, const vc_grammar *g, size_t *oov)
{
    vc_status rc;
    vc_lexicon *lex = NULL;
    size_t n = vc_grammar_word_count(g), n_new = 0;
    const char **words = malloc((n + 1) * sizeof *words);

    if (!words)
        return vc_fail(VC_ENOMEM, "recogniser: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *w = vc_grammar_word(g, i);
        char *known = ps_lookup_word(r->ps, w);
        if (known)
            ckd_free(known);
        else
            words[n_new++] = w;
    }
    if ((rc = vc_lexicon_new(r->base_dict, r->lexicon, words, n_new, &lex)) != VC_OK)
        goto out_free_words;
    for (size_t i = 0; i < vc_lexicon_count(lex); i++) {
        const char *word, *phones;
        vc_lexicon_entry(lex, i, &word, &phones);
        if (ps_add_word(r->ps, word, phones, 0) < 0) {
            rc = vc_fail(VC_EINVAL, "recogniser: the decoder refuses \"%s\" (%s)", word, phones);
            goto out_free_lexicon;
        }
    }
    *oov += vc_lexicon_oov_count(lex);
    rc = VC_OK;
out_free_lexicon:
    vc_lexicon_free(lex);
out_free_words:
    free(words);
    return rc;
}

/* The FSG of g: its states, plus one final state joined by null moves when
 * g ends in several states (pocketsphinx wants exactly one). */
static fsg_model_t *make_fsg(vc_recogniser *r, const vc_grammar *g, const char *name)
{
    logmath_t *lmath = ps_get_logmath(r->ps);
    float32 lw = cmd_ln_float32_r(r->config, "-lw");
    int32_t n = (int32_t)vc_grammar_state_count(g);
    int32_t final = -1, n_final = 0;
    const vc_grammar_arc *arcs = vc_grammar_arcs(g);
    size_t n_arcs = vc_grammar_arc_count(g);

    for (int32_t s = 0; s < n; s++) {
        if (!vc_grammar_is_final(g, s))
            continue;
        n_final++;
        final = s;
    }
    if (n_final == 1) {
        for (size_t i = 0; i < n_arcs; i++)
            if (arcs[i].from == final && !arcs[i].filler && arcs[i].to != final)
                n_final = 2; /* the final state goes on: needs its own */
    }
    int extra = n_final != 1;
    /* state n + extra: the garbage loop (see GARBAGE_PHONE_PROB) */
    int32_t garbage = n + extra;
    fsg_model_t *fsg = fsg_model_init(name, lmath, lw, n + extra + 1);
    if (!fsg)
        return NULL;
    fsg->start_state = vc_grammar_start(g);
    fsg->final_state = extra ? n : final;
    int32_t *wid = malloc((vc_grammar_word_count(g) + 1) * sizeof *wid);
    if (!wid) {
        fsg_model_free(fsg);
        return NULL;
    }
    for (size_t i = 0; i < vc_grammar_word_count(g); i++)
        wid[i] = fsg_model_word_add(fsg, vc_grammar_word(g, i));
    int32 filler_logp = (int32)(logmath_log(lmath, FILLER_PROB) * lw);
    for (size_t i = 0; i < n_arcs; i++) {
        if (arcs[i].word < 0)
            fsg_model_null_trans_add(fsg, arcs[i].from, arcs[i].to, 0);
        else
            fsg_model_trans_add(fsg, arcs[i].from, arcs[i].to,
                                arcs[i].filler ? filler_logp : 0, wid[arcs[i].word]);
    }
    if (extra)
        for (int32_t s = 0; s < n; s++)
            if (vc_grammar_is_final(g, s))
                fsg_model_null_trans_add(fsg, s, n, 0);
    if (r->garbage_prob > 0) {
        int32 garbage_logp = (int32)(logmath_log(lmath, r->garbage_prob) * lw);
        for (size_t i = 0; i < vc_lexicon_phone_count(); i++) {
            char word[16];
            if (!garbage_word(i, word, sizeof word))
                continue;
            int32 w = fsg_model_word_add(fsg, word);
            fsg_model_trans_add(fsg, fsg->start_state, garbage, garbage_logp, w);
            fsg_model_trans_add(fsg, garbage, garbage, garbage_logp, w);
        }
        fsg_model_null_trans_add(fsg, garbage, fsg->final_state, 0);
    }
    /* The search follows null moves one at a time only after their closure
     * is known (as fsg_model_read() and the JSGF compiler do). */
    glist_free(fsg_model_null_trans_closure(fsg, NULL));
    free(wid);
    return fsg;
}

/* Builds the grammar of r->u's lists and makes it the search in use; on
 * failure the search in use stays. */
static vc_status install_grammar(vc_recogniser *r)
{
    vc_status rc;
    vc_grammar *g = NULL;
    vc_grammar_stats stats = {0};
    char name[32], old[32];

    if ((rc = vc_grammar_build(r->u, &r->options, &g)) != VC_OK)
        return rc;
    if ((rc = add_words(r, g, &stats.oov_words)) != VC_OK)
        goto out_free_grammar;
    snprintf(name, sizeof name, "grammar%u", r->generation + 1);
    snprintf(old, sizeof old, "grammar%u", r->generation);
    for (size_t i = 0; r->garbage_prob > 0 && i < vc_lexicon_phone_count(); i++) {
        char word[16];
        if (!garbage_word(i, word, sizeof word))
            continue;
        char *known = ps_lookup_word(r->ps, word);
        if (known)
            ckd_free(known);
        else if (ps_add_word(r->ps, word, vc_lexicon_phone(i), 0) < 0)
            vc_log_warn("recogniser: cannot add %s", word);
    }
    fsg_model_t *fsg = make_fsg(r, g, name);
    if (!fsg) {
        rc = vc_fail(VC_ENOMEM, "recogniser: cannot build the FSG");
        goto out_free_grammar;
    }
    int set = ps_set_fsg(r->ps, name, fsg);
    fsg_model_free(fsg); /* the search holds its own reference */
    if (set < 0 || ps_set_search(r->ps, name) < 0) {
        rc = vc_fail(VC_EINVAL, "recogniser: pocketsphinx refuses the grammar of pack %s "
                                "(VOXCART_LOG=debug shows why)",
                     vc_pack_name(vc_understander_pack(r->u)));
        goto out_free_grammar;
    }
    if (r->generation > 0)
        ps_unset_search(r->ps, old);
    r->generation++;
    stats.states = vc_grammar_state_count(g);
    stats.transitions = vc_grammar_arc_count(g);
    stats.words = vc_grammar_word_count(g);
    r->stats = stats;
    vc_log_info("recogniser: grammar of %zu states, %zu transitions, %zu words (%zu via "
                "espeak-ng)",
                stats.states, stats.transitions, stats.words, stats.oov_words);
    vc_grammar_free(r->grammar);
    r->grammar = g;
    g = NULL;
    r->partial_valid = 0; /* its completeness was the old grammar's */
    rc = VC_OK;
out_free_grammar:
    vc_grammar_free(g);
    return rc;
}

/* Whether the utterance begun now gets the phone-loop pass. */
static int measures_confidence(const vc_recogniser *r)
{
    switch (r->confidence) {
    case VC_CONFIDENCE_ALWAYS:
        return 1;
    case VC_CONFIDENCE_NEVER:
        return 0;
    case VC_CONFIDENCE_FOR_ANSWERS:
        break;
    }
    return !r->options.skip_answers;
}

static int debug_logging(void)
{
    const char *v = getenv("VOXCART_LOG");
    return v && strcmp(v, "debug") == 0;
}

vc_status vc_recogniser_new(const vc_recogniser_config *cfg, const vc_understander *u,
                            vc_recogniser **out)
{
    vc_status rc;
    vc_recogniser *r;
    char hmm[1024], dict[1024], beam[32], wbeam[32], pbeam[32];
    vc_recogniser_config defaults = {0};

    *out = NULL;
    if (!u)
        return vc_fail(VC_EINVAL, "recogniser: no understander");
    /* The acoustic model and dictionary are English (pocketsphinx-en-us). */
    if (strcmp(vc_pack_language(vc_understander_pack(u)), "en") != 0)
        return vc_fail(VC_EINVAL,
                       "pack %s is written in '%s': speech recognition has an English "
                       "acoustic model and listens for English packs only; use the text path "
                       "(voxcart ask, chat) with this pack",
                       vc_pack_name(vc_understander_pack(u)),
                       vc_pack_language(vc_understander_pack(u)));
    if (!cfg)
        cfg = &defaults;
    if (cfg->confidence != VC_CONFIDENCE_FOR_ANSWERS && cfg->confidence != VC_CONFIDENCE_ALWAYS &&
        cfg->confidence != VC_CONFIDENCE_NEVER)
        return vc_fail(VC_EINVAL, "recogniser: confidence pass %d is none of "
                                  "VC_CONFIDENCE_FOR_ANSWERS, _ALWAYS, _NEVER",
                       (int)cfg->confidence);
    snprintf(hmm, sizeof hmm, "%s", cfg->model_dir ? cfg->model_dir
                                                   : VC_POCKETSPHINX_MODELDIR "/en-us/en-us");
    snprintf(dict, sizeof dict, "%s", cfg->dictionary
                                          ? cfg->dictionary
                                          : VC_POCKETSPHINX_MODELDIR "/en-us/cmudict-en-us.dict");
    snprintf(beam, sizeof beam, "%g", cfg->beam > 0 ? cfg->beam : DEFAULT_BEAM);
    snprintf(wbeam, sizeof wbeam, "%g", cfg->wbeam > 0 ? cfg->wbeam : DEFAULT_WBEAM);
    snprintf(pbeam, sizeof pbeam, "%g", cfg->pbeam > 0 ? cfg->pbeam : DEFAULT_PBEAM);

    r = calloc(1, sizeof *r);
    if (!r)
        return vc_fail(VC_ENOMEM, "recogniser: out of memory");
    r->u = u;
    r->options.fillers = filler_mode();
    /* Until the dialog asks a question, the pack's answer intents are not
     * listened for (vc_recogniser_expect_answer). */
    r->options.skip_answers = 1;
    r->base_dict = strdup(dict);
    r->lexicon = dup_or_null(cfg->lexicon);
    if (!r->base_dict || (cfg->lexicon && !r->lexicon)) {
        rc = vc_fail(VC_ENOMEM, "recogniser: out of memory");
        goto out_free_recogniser;
    }
    FILE *probe = fopen(hmm[0] ? hmm : ".", "r");
    if (!probe) {
        rc = vc_fail(VC_ENOTFOUND, "recogniser: acoustic model %s not found "
                                   "(install pocketsphinx-en-us)",
                     hmm);
        goto out_free_recogniser;
    }
    fclose(probe);

    if (!debug_logging())
        err_set_logfp(NULL); /* pocketsphinx's own messages; before init */
    r->config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", "/dev/null", "-beam",
                            beam, "-wbeam", wbeam, "-pbeam", pbeam, "-allphone_ci", "yes", "-fillprob", FILLER_WORD_PROB,
                            "-silprob", SILENCE_PROB, "-maxhmmpf", MAX_ACTIVE_HMMS, "-logfn",
                            debug_logging() ? "/dev/stderr" : "/dev/null", NULL);
    if (!r->config) {
        rc = vc_fail(VC_EINVAL, "recogniser: pocketsphinx refuses its settings");
        goto out_free_recogniser;
    }
    r->ps = ps_init(r->config);
    if (!r->ps) {
        rc = vc_fail(VC_EIO, "recogniser: pocketsphinx cannot load the model %s", hmm);
        goto out_free_recogniser;
    }
    /* The phone loop's bigram sits beside the acoustic model (Debian:
     * en-us/en-us-phone.lm.bin next to en-us/en-us). */
    char phone_lm[1100];
    const char *slash = strrchr(hmm, '/');
    snprintf(phone_lm, sizeof phone_lm, "%.*s%s", slash ? (int)(slash - hmm + 1) : 0, hmm,
             PHONE_LM);
    /* The allphone search takes its beams from the config when it is set
     * up; the grammar's wide beams make it crawl (RTF 5 with triphones), so
     * it gets its own narrow ones and context-independent phones, and the
     * config is put back for the grammar searches set up later. */
    double grammar_beam = cmd_ln_float64_r(r->config, "-beam");
    double grammar_pbeam = cmd_ln_float64_r(r->config, "-pbeam");
    cmd_ln_set_float64_r(r->config, "-beam", PHONE_LOOP_BEAM);
    cmd_ln_set_float64_r(r->config, "-pbeam", PHONE_LOOP_BEAM);
    int loop_set = ps_set_allphone_file(r->ps, PHONE_LOOP, phone_lm);
    cmd_ln_set_float64_r(r->config, "-beam", grammar_beam);
    cmd_ln_set_float64_r(r->config, "-pbeam", grammar_pbeam);
    if (loop_set < 0) {
        rc = vc_fail(VC_ENOTFOUND, "recogniser: cannot load the phone bigram %s "
                                   "(install pocketsphinx-en-us)",
                     phone_lm);
        goto out_free_recogniser;
    }
    r->reject_below = cfg->reject_below != 0 ? cfg->reject_below : VC_RECOGNISER_REJECT_BELOW;
    r->confidence = cfg->confidence;
    r->garbage_prob = cfg->garbage_prob > 0   ? cfg->garbage_prob
                      : cfg->garbage_prob < 0 ? 0
                                              : DEFAULT_GARBAGE_PROB;
    if ((rc = install_grammar(r)) != VC_OK)
        goto out_free_recogniser;
    *out = r;
    return VC_OK;
out_free_recogniser:
    vc_recogniser_free(r);
    return rc;
}

void vc_recogniser_free(vc_recogniser *r)
{
    if (!r)
        return;
    vc_recogniser_cancel(r);
    /* The allphone search of 5prealpha keeps the segments of its last
     * ps_seg_iter() until the next one and never frees them (LeakSanitizer);
     * an empty utterance leaves it an empty list to forget. */
    if (r->ps && r->decoded && ps_set_search(r->ps, PHONE_LOOP) == 0 &&
        ps_start_utt(r->ps) == 0 && ps_end_utt(r->ps) == 0) {
        ps_seg_t *seg = ps_seg_iter(r->ps);
        if (seg)
            ps_seg_free(seg);
    }
    if (r->ps)
        ps_free(r->ps);
    if (r->config)
        cmd_ln_free_r(r->config);
    vc_grammar_free(r->grammar);
    free(r->audio);
    free(r->shifts);
    free(r->partial);
    free(r->base_dict);
    free(r->lexicon);
    free(r);
}

vc_status vc_recogniser_update_grammar(vc_recogniser *r)
{
    if (!r)
        return vc_fail(VC_EINVAL, "recogniser: NULL");
    /* the running utterance decodes with the search it began with */
    if (r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: cannot change the grammar during an utterance");
    return install_grammar(r);
}

vc_status vc_recogniser_expect_answer(vc_recogniser *r, int expecting)
{
    if (!r)
        return vc_fail(VC_EINVAL, "recogniser: NULL");
    if (r->options.skip_answers == !expecting)
        return VC_OK;
    if (r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: cannot change the grammar during an utterance");
    r->options.skip_answers = !expecting;
    vc_status rc = install_grammar(r);
    if (rc != VC_OK)
        r->options.skip_answers = expecting; /* the old search stays in use */
    return rc;
}

void vc_recogniser_grammar_stats(const vc_recogniser *r, vc_grammar_stats *out)
{
    *out = r->stats;
}

/* "read(2)" -> "read"; fillers ("<sil>", "[NOISE]") -> NULL. */
static size_t word_length(const char *w)
{
    if (w[0] == '<' || w[0] == '[' || w[0] == '(')
        return 0; /* silence, noise, "(NULL)" of a null move */
    const char *paren = strchr(w, '(');
    return paren && paren != w ? (size_t)(paren - w) : strlen(w);
}

/* Seconds into the utterance's audio (at most max) where the search's frame
 * f begins, or ends when end is set. */
static double audio_seconds(const vc_recogniser *r, long f, int end, int frate, double max)
{
    long by = 0;
    for (size_t i = 0; i < r->n_shifts && r->shifts[i].from <= f; i++)
        by = r->shifts[i].by;
    double t = (double)(f + by + (end ? 1 : 0)) / frate;
    return t < 0 ? 0 : t > max ? max : t;
}

static vc_status collect_words(vc_recogniser *r, vc_transcript *out)
{
    int frate = (int)cmd_ln_int32_r(r->config, "-frate");
    size_t n = 0, text_len = 0;
    ps_seg_t *seg;

    if (frate <= 0)
        frate = 100;
    for (seg = ps_seg_iter(r->ps); seg; seg = ps_seg_next(seg)) {
        size_t len = word_length(ps_seg_word(seg));
        if (len) {
            n++;
            text_len += len + 1;
        }
    }
    out->text = malloc(text_len + 1);
    out->words = calloc(n + 1, sizeof *out->words);
    if (!out->text || !out->words)
        return vc_fail(VC_ENOMEM, "recogniser: out of memory");
    out->text[0] = '\0';
    size_t pos = 0;
    /* ps_seg_frames() adds one offset to all the search's frames (see
     * track_frames); the first segment begins at the search's frame 0. */
    long first = -1;
    for (seg = ps_seg_iter(r->ps); seg; seg = ps_seg_next(seg)) {
        const char *w = ps_seg_word(seg);
        size_t len = word_length(w);
        int sf, ef;
        ps_seg_frames(seg, &sf, &ef);
        if (first < 0)
            first = sf;
        if (!len || out->n_words >= n)
            continue;
        vc_word *vw = &out->words[out->n_words];
        vw->word = strndup(w, len);
        if (!vw->word) {
            ps_seg_free(seg);
            return vc_fail(VC_ENOMEM, "recogniser: out of memory");
        }
        vw->start = audio_seconds(r, sf - first, 0, frate, out->audio_seconds);
        vw->end = audio_seconds(r, ef - first, 1, frate, out->audio_seconds);
        out->n_words++;
        if (pos)
            out->text[pos++] = ' ';
        memcpy(out->text + pos, w, len);
        pos += len;
        out->text[pos] = '\0';
    }
    return VC_OK;
}

/* Where the search's frames lie in the audio. The front end's VAD
 * (-remove_silence, on by default) hands the search only the frames it takes
 * for speech, with some before and after each stretch, so the search's frame
 * f is audio frame f + the frames dropped before it. ps_seg_frames() instead
 * adds where the VAD last began a stretch in the decoder's stream, which is
 * right only when nothing was passed before that stretch: not in a decoder's
 * first utterance (the VAD passes the first ~1.2 s while it learns the noise
 * level, drops the silence, then begins again: words came 1.2 s late) nor in
 * noise (it stops and begins again late in the utterance, the gap covered by
 * the frames it keeps before a stretch: words came past the end of the
 * audio).
 *
 * So the shift is measured after each block. While the VAD stays in speech
 * and the search takes one frame for each the front end makes (one per frame
 * shift once a window is full), the newest frame searched is the newest made
 * less the frames the dynamic features hold back. Not in the block where a
 * stretch begins: the frames the VAD kept from before it are still flowing
 * through (with small blocks, for a few blocks). Frames are dropped only
 * while the VAD is out of speech, so the shift grows only across such
 * blocks; a new shift applies from the frames searched after the last block
 * known to be in the old stretch (in speech, or out of it), less the
 * held-back frames, which were made before. */
static vc_status track_frames(vc_recogniser *r)
{
    int shift, size;
    fe_get_input_size(ps_get_fe(r->ps), &shift, &size);
    long held = feat_window_size(ps_get_feat(r->ps));
    long searched = ps_get_n_frames(r->ps) - 1; /* it counts one ahead */
    long made = shift > 0 && r->utt_samples >= (size_t)size
                    ? (long)((r->utt_samples - (size_t)size) / (size_t)shift) + 1
                    : 0;
    int in_speech = ps_get_in_speech(r->ps);
    int steady = in_speech && r->in_speech && searched > 0 &&
                 searched - r->searched == made - r->made;

    r->in_speech = in_speech;
    r->searched = searched;
    r->made = made;
    long from = r->next_from;
    if (steady || !in_speech)
        r->next_from = searched + held;
    if (!steady)
        return VC_OK;
    long by = made - held - searched;
    if (r->n_shifts && by <= r->shifts[r->n_shifts - 1].by)
        return VC_OK;
    if (r->n_shifts == r->shifts_cap) {
        size_t cap = r->shifts_cap ? r->shifts_cap * 2 : 8;
        struct frame_shift *grown = realloc(r->shifts, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "recogniser: out of memory");
        r->shifts = grown;
        r->shifts_cap = cap;
    }
    r->shifts[r->n_shifts] = (struct frame_shift){r->n_shifts ? from : 0, by};
    r->n_shifts++;
    return VC_OK;
}

/* Hands pcm to the search in use in blocks of at most BLOCK_SAMPLES. */
static vc_status process(vc_recogniser *r, const int16_t *pcm, size_t n)
{
    vc_status rc;

    for (size_t off = 0; off < n; off += BLOCK_SAMPLES) {
        size_t len = n - off < BLOCK_SAMPLES ? n - off : BLOCK_SAMPLES;
        if (ps_process_raw(r->ps, pcm + off, len, FALSE, FALSE) < 0)
            return vc_fail(VC_EAUDIO, "recogniser: pocketsphinx cannot process the audio");
        r->utt_samples += len;
        if ((rc = track_frames(r)) != VC_OK)
            return rc;
    }
    return VC_OK;
}

static vc_status start_utterance(vc_recogniser *r)
{
    r->n_shifts = 0;
    r->utt_samples = 0;
    r->searched = r->made = r->next_from = 0;
    r->in_speech = 0;
    if (ps_start_utt(r->ps) < 0)
        return vc_fail(VC_ESTATE, "recogniser: pocketsphinx cannot start an utterance");
    return VC_OK;
}

/* Ends the utterance of the search in use. */
static vc_status end_utterance(vc_recogniser *r)
{
    r->decoded = 1;
    if (ps_end_utt(r->ps) < 0)
        return vc_fail(VC_EAUDIO, "recogniser: pocketsphinx cannot end the utterance");
    return VC_OK;
}

/* Runs the search in use over the audio, as one utterance. */
static vc_status run_search(vc_recogniser *r, const int16_t *pcm, size_t n)
{
    vc_status rc, end;

    if ((rc = start_utterance(r)) != VC_OK)
        return rc;
    rc = process(r, pcm, n);
    end = end_utterance(r);
    return rc != VC_OK ? rc : end;
}

/* The acoustic score of the best path of the last utterance, summed over
 * its segments; *speech_frames (if asked) counts the frames of real words. */
static double best_path_ascr(vc_recogniser *r, long *speech_frames)
{
    double sum = 0;
    long frames = 0;
    for (ps_seg_t *seg = ps_seg_iter(r->ps); seg; seg = ps_seg_next(seg)) {
        int32 ascr = 0, lscr = 0, lback = 0;
        int sf, ef;
        ps_seg_prob(seg, &ascr, &lscr, &lback);
        ps_seg_frames(seg, &sf, &ef);
        sum += ascr;
        if (word_length(ps_seg_word(seg)) && ef >= sf)
            frames += ef - sf + 1;
    }
    if (speech_frames)
        *speech_frames = frames;
    return sum;
}

/* Decodes the audio again with the free phone loop and sets the gap,
 * confidence and rejected flag of out from it. The grammar stays the
 * search in use, also on failure. */
static vc_status score_against_phone_loop(vc_recogniser *r, const int16_t *pcm, size_t n,
                                          double grammar_ascr, long speech_frames,
                                          vc_transcript *out)
{
    vc_status rc;
    char grammar[32];

    snprintf(grammar, sizeof grammar, "grammar%u", r->generation);
    if (ps_set_search(r->ps, PHONE_LOOP) < 0)
        return vc_fail(VC_ESTATE, "recogniser: pocketsphinx cannot switch to the phone loop");
    rc = run_search(r, pcm, n);
    double loop_ascr = rc == VC_OK ? best_path_ascr(r, NULL) : 0;
    if (ps_set_search(r->ps, grammar) < 0 && rc == VC_OK)
        rc = vc_fail(VC_ESTATE, "recogniser: pocketsphinx cannot switch back to %s", grammar);
    if (rc != VC_OK)
        return rc;
    /* A word lasts at least a few frames; the floor keeps a one-frame
     * "word" from blowing the gap up. */
    double frames = speech_frames > 10 ? (double)speech_frames : 10.0;
    out->phone_loop_gap = (loop_ascr - grammar_ascr) / frames / 1000.0;
    out->confidence = 1.0 / (1.0 + exp((out->phone_loop_gap - GAP_MID) / GAP_SCALE));
    out->confidence_measured = 1;
    out->rejected = r->reject_below > 0 && out->confidence < r->reject_below;
    return VC_OK;
}

/* ---- streaming --------------------------------------------------------------
 *
 * When confidence is measured, the phone loop must score the same audio as
 * the grammar, and a decoder runs one search at a time, so the utterance's
 * audio is kept (up to MAX_SAMPLES; _decode lends the caller's buffer
 * instead) and the phone loop runs over it at finish. Measured against a
 * second decoder running the phone loop fed in step (cafe pack, 12 barista
 * recordings through the listener, this x86 machine): finish costs a median 100 ms of CPU (max
 * 174 ms) here against 2 ms (max 4 ms) there, but the second decoder loads
 * the acoustic model again: +6.3 MB RSS once loaded (22.9 -> 29.1 MB) and
 * a peak of 35.7 MB instead of 27.3 MB for one order, past the 32 MB
 * budget, and it changes every confidence (each decoder's live CMN then
 * sees other audio than today's single decoder). The listener hides the
 * finish instead: it finishes during the trailing silence, before the end
 * is decided (listener.c, finish_ahead). */

/* Kept audio is let go after an utterance longer than this (30 s), so that
 * one long utterance does not hold its memory for good. */
#define KEPT_AUDIO_MAX_SAMPLES (16000u * 30u)

static void release_audio(vc_recogniser *r)
{
    if (r->audio_cap > KEPT_AUDIO_MAX_SAMPLES) {
        free(r->audio);
        r->audio = NULL;
        r->audio_cap = 0;
    }
}

/* Appends pcm to the utterance's kept audio. */
static vc_status keep_audio(vc_recogniser *r, const int16_t *pcm, size_t n)
{
    size_t need = r->fed + n;

    if (need > r->audio_cap) {
        /* doubling, from 4 s, never past the longest utterance */
        size_t cap = r->audio_cap ? r->audio_cap : 16000u * 4u;
        while (cap < need)
            cap *= 2;
        if (cap > MAX_SAMPLES)
            cap = MAX_SAMPLES;
        int16_t *grown = realloc(r->audio, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "recogniser: out of memory keeping %.1f s of audio",
                           need / 16000.0);
        r->audio = grown;
        r->audio_cap = cap;
    }
    memcpy(r->audio + r->fed, pcm, n * sizeof *pcm);
    return VC_OK;
}

vc_status vc_recogniser_begin(vc_recogniser *r)
{
    vc_status rc;
    clock_t t0 = clock();

    if (!r)
        return vc_fail(VC_EINVAL, "recogniser: NULL");
    if (r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: an utterance is already being decoded");
    if ((rc = start_utterance(r)) != VC_OK)
        return rc;
    r->in_utterance = 1;
    r->keep_audio = measures_confidence(r);
    r->fed = 0;
    r->cpu = clock() - t0;
    return VC_OK;
}

vc_status vc_recogniser_feed(vc_recogniser *r, const int16_t *pcm, size_t n)
{
    vc_status rc;
    clock_t t0 = clock();

    if (!r || (!pcm && n > 0))
        return vc_fail(VC_EINVAL, "recogniser: no audio");
    if (!r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: no utterance begun (vc_recogniser_begin)");
    if (n > MAX_SAMPLES - r->fed)
        return vc_fail(VC_ETOOBIG, "recogniser: the utterance is longer than the %u s it may "
                                   "last",
                       MAX_SAMPLES / 16000u);
    if (n == 0)
        return VC_OK;
    if (r->keep_audio && (rc = keep_audio(r, pcm, n)) != VC_OK)
        return rc;
    if ((rc = process(r, pcm, n)) != VC_OK) {
        /* the decoder's state is unknown now: the utterance cannot go on */
        vc_recogniser_cancel(r);
        return rc;
    }
    r->fed += n;
    r->cpu += clock() - t0;
    return VC_OK;
}

/* The words of a pocketsphinx hypothesis, fillers and alternative marks
 * ("read(2)") dropped: *joined space separated, words[] NUL terminated in
 * *buf (both allocated, hyp's length at most). */
static vc_status split_hypothesis(const char *hyp, char **joined, char **buf, const char ***words,
                                  size_t *n_words)
{
    size_t len = strlen(hyp), pos = 0, jpos = 0;

    *n_words = 0;
    *joined = malloc(len + 1);
    *buf = malloc(len + 1);
    *words = malloc((len / 2 + 1) * sizeof **words);
    if (!*joined || !*buf || !*words)
        return vc_fail(VC_ENOMEM, "recogniser: out of memory");
    (*joined)[0] = '\0';
    for (const char *p = hyp; *p;) {
        p += strspn(p, " ");
        size_t token = strcspn(p, " ");
        if (!token)
            break;
        memcpy(*buf + pos, p, token);
        (*buf)[pos + token] = '\0';
        p += token;
        size_t word = word_length(*buf + pos);
        if (!word)
            continue;
        (*buf)[pos + word] = '\0';
        (*words)[(*n_words)++] = *buf + pos;
        if (jpos)
            (*joined)[jpos++] = ' ';
        memcpy(*joined + jpos, *buf + pos, word + 1);
        jpos += word;
        pos += word + 1;
    }
    return VC_OK;
}

vc_status vc_recogniser_partial(vc_recogniser *r, const char **text, int *complete)
{
    vc_status rc;
    char *joined = NULL, *buf = NULL;
    const char **words = NULL;
    size_t n_words;
    int32 score;

    if (!r || !text || !complete)
        return vc_fail(VC_EINVAL, "recogniser: vc_recogniser_partial needs r, text and complete");
    *text = "";
    *complete = 0;
    if (!r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: no utterance begun (vc_recogniser_begin)");
    const char *hyp = ps_get_hyp(r->ps, &score);
    if ((rc = split_hypothesis(hyp ? hyp : "", &joined, &buf, &words, &n_words)) != VC_OK)
        goto out_free;
    /* The hypothesis moves on a few times a second at most; the grammar is
     * walked only when it does. */
    if (!r->partial_valid || strcmp(joined, r->partial) != 0) {
        free(r->partial);
        r->partial = joined;
        joined = NULL;
        r->partial_complete =
            n_words > 0 && vc_grammar_accepts(r->grammar, (const char *const *)words, n_words);
        r->partial_valid = 1;
    }
    *text = r->partial;
    *complete = r->partial_complete;
    rc = VC_OK;
out_free:
    free(joined);
    free(buf);
    free(words);
    return rc;
}

/* Ends the utterance begun and fills out (cleared by the caller) from it;
 * pcm is its audio, for the phone loop. */
static vc_status finish_utterance(vc_recogniser *r, const int16_t *pcm, vc_transcript *out)
{
    vc_status rc;
    clock_t t0 = clock();
    size_t n = r->fed;

    r->in_utterance = 0;
    out->audio_seconds = n / 16000.0;
    if ((rc = end_utterance(r)) != VC_OK)
        goto out_release_audio;
    int32 score;
    const char *hyp = ps_get_hyp(r->ps, &score);
    int garbage = 0;
    for (ps_seg_t *seg = ps_seg_iter(r->ps); seg; seg = ps_seg_next(seg))
        if (strncmp(ps_seg_word(seg), "<g-", 3) == 0)
            garbage = 1;
    if (garbage) {
        out->text = strdup("");
        out->rejected = 1;
        if (!out->text) {
            rc = vc_fail(VC_ENOMEM, "recogniser: out of memory");
            goto out_clear;
        }
    } else if (hyp && *hyp) {
        if ((rc = collect_words(r, out)) != VC_OK)
            goto out_clear;
        if (out->n_words > 0) {
            int32 prob = ps_get_prob(r->ps);
            double c = logmath_exp(ps_get_logmath(r->ps), prob);
            out->posterior = c < 0 ? 0 : c > 1 ? 1 : c;
            out->confidence = 1;
            if (measures_confidence(r)) {
                long speech_frames;
                double grammar_ascr = best_path_ascr(r, &speech_frames);
                if ((rc = score_against_phone_loop(r, pcm, n, grammar_ascr, speech_frames,
                                                   out)) != VC_OK)
                    goto out_clear;
            }
        }
    } else {
        out->text = strdup("");
        if (!out->text) {
            rc = vc_fail(VC_ENOMEM, "recogniser: out of memory");
            goto out_clear;
        }
    }
    out->decode_seconds = (double)(r->cpu + (clock() - t0)) / CLOCKS_PER_SEC;
    release_audio(r);
    return VC_OK;
out_clear:
    vc_transcript_clear(out);
out_release_audio:
    release_audio(r);
    return rc;
}

vc_status vc_recogniser_finish(vc_recogniser *r, vc_transcript *out)
{
    if (!out)
        return vc_fail(VC_EINVAL, "recogniser: no transcript to fill");
    memset(out, 0, sizeof *out);
    if (!r)
        return vc_fail(VC_EINVAL, "recogniser: NULL");
    if (!r->in_utterance)
        return vc_fail(VC_ESTATE, "recogniser: no utterance begun (vc_recogniser_begin)");
    return finish_utterance(r, r->audio, out);
}

void vc_recogniser_cancel(vc_recogniser *r)
{
    if (!r || !r->in_utterance)
        return;
    r->in_utterance = 0;
    (void)end_utterance(r); /* nothing to keep of it either way */
    release_audio(r);
}

vc_status vc_recogniser_decode(vc_recogniser *r, const int16_t *pcm, size_t n,
                               vc_transcript *out)
{
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!r || (!pcm && n > 0))
        return vc_fail(VC_EINVAL, "recogniser: no audio");
    if (n > MAX_SAMPLES)
        return vc_fail(VC_ETOOBIG, "recogniser: %.0f s of audio is longer than the %u s an "
                                   "utterance may last",
                       n / 16000.0, MAX_SAMPLES / 16000u);
    if ((rc = vc_recogniser_begin(r)) != VC_OK)
        return rc;
    /* The caller's buffer serves the phone loop: no copy of a whole file. */
    r->keep_audio = 0;
    if ((rc = vc_recogniser_feed(r, pcm, n)) != VC_OK)
        return rc;
    return finish_utterance(r, pcm, out);
}

vc_status vc_transcript_understand(vc_understander *u, const vc_transcript *t,
                                   vc_understanding *out)
{
    vc_status rc = vc_understand(u, t->text ? t->text : "", out);

    if (rc != VC_OK)
        return rc;
    if (out->intent && t->confidence < out->confidence)
        out->confidence = t->confidence;
    if (t->rejected && out->intent) {
        char *text = out->text;
        out->text = NULL;
        vc_understanding_clear(out);
        out->text = text;
        out->confidence = t->confidence;
    }
    return VC_OK;
}

void vc_transcript_clear(vc_transcript *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_words; i++)
        free(t->words[i].word);
    free(t->words);
    free(t->text);
    memset(t, 0, sizeof *t);
}
