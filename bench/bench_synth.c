/* Speech out: how soon a reply starts to sound. Figures, no pass/fail.
 *
 * For the en-us and nb voices, a short reply and one of about 6 s, each
 * synthesised RUNS times through vc_synthesiser_stream with a sink that
 * only counts: the median wall time from the call to the first chunk of
 * audio, and to the end of synthesis. The end of synthesis is also when
 * the first audio would play had the reply been made whole before playing
 * (as vc_synthesiser_speak did before streaming): the baseline, measured in
 * the same runs. Playback itself is not timed (no device is needed).
 *
 * usage: vc_bench_synth [SOURCE_DIR] (unused; accepted like the others) */
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "speech/synthesiser.h"

#define RUNS 21

typedef struct {
    const char *voice;
    const char *label;
    const char *text;
} reply;

static const reply REPLIES[] = {
    {"en-us", "short", "Your order is placed."},
    {"en-us", "~6 s",
     "Your order of two large oat milk lattes is placed. It will be ready in about five "
     "minutes at the counter on your left."},
    {"nb", "short", "Bestillingen din er lagt inn."},
    {"nb", "~6 s",
     "Bestillingen din på to store havrelatte er lagt inn. Den er klar om fem minutter ved "
     "disken."},
};

static vc_status count_only(void *ctx, const int16_t *pcm, size_t n)
{
    (void)ctx;
    (void)pcm;
    (void)n;
    return VC_OK;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("speech out: synthesis to first audio (streamed, %d ms chunks asked) against the "
           "whole reply (the baseline: synthesise, then play); median of %d runs\n",
           VC_SYNTH_CHUNK_MS, RUNS);
    printf("%-6s %-6s %8s %7s %14s %14s %8s %10s\n", "voice", "reply", "audio_s", "chunks",
           "first_audio_ms", "whole_reply_ms", "ratio", "synth_rtf");
    for (size_t i = 0; i < BENCH_COUNT(REPLIES); i++) {
        const reply *r = &REPLIES[i];
        vc_synthesiser_config cfg = {.mode = VC_SPEAK_NONE, .voice = r->voice, .rate = 175,
                                     .pitch = 50, .volume = 100};
        double first[RUNS], total[RUNS], first_ms, total_ms, audio_s = 0;
        unsigned chunks = 0;
        vc_synthesiser *s;

        if (vc_synthesiser_new(&cfg, &s) != VC_OK) {
            fprintf(stderr, "bench: synthesiser for %s: %s\n", r->voice, vc_error_detail());
            return 1;
        }
        for (int k = 0; k < RUNS; k++) {
            vc_synth_stats st;
            if (vc_synthesiser_stream(s, r->text, count_only, NULL, &st) != VC_OK) {
                fprintf(stderr, "bench: %s: %s\n", r->voice, vc_error_detail());
                return 1;
            }
            first[k] = st.first_audio_seconds * 1e3;
            total[k] = st.total_seconds * 1e3;
            audio_s = (double)st.samples / vc_synthesiser_rate(s);
            chunks = st.chunks;
        }
        first_ms = bench_percentile(first, RUNS, 0.5);
        total_ms = bench_percentile(total, RUNS, 0.5);
        printf("%-6s %-6s %8.2f %7u %14.2f %14.2f %8.3f %10.4f\n", r->voice, r->label, audio_s,
               chunks, first_ms, total_ms, first_ms / total_ms, total_ms / 1e3 / audio_s);
        vc_synthesiser_free(s);
    }
    return 0;
}
