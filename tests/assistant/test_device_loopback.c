/* The device loop through the real PortAudio paths, without a sound card:
 * a whole conversation (wake word -> reorder -> confirm -> done) with the
 * customer's side (espeak-ng) as the infile of an ALSA `file` capture PCM
 * and the device's replies written by an ALSA `file` playback PCM into a
 * FIFO the test reads (tests/alsa_fixture.h). Then the loopback check of
 * speech out: the recorded reply audio goes through pocketsphinx against a
 * grammar of reply sentences (not the pack's, which could only hear
 * orders) in which other products fit as well as the right one, and its
 * transcript must name the product and read the confirmation and the
 * order placed. (pocketsphinx's general language model was tried first:
 * on espeak-ng's voice it heard "coffee" in one run and "kill all" in the
 * next.)
 *
 * The capture plugin delivers its infile faster than real time into the
 * capture's ring, so the customer's side is laid out in advance with room
 * for the replies; barge-in is off here (the sim tests cover it), since
 * the input runs ahead of the loudspeaker. The wake word runs at the
 * looser settings the espeak-ng tests use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jsgf.h>
#include <pocketsphinx.h>

#include "../alsa_fixture.h"
#include "../speech_fixtures.h"
#include "../test_util.h"
#include "assistant/assistant.h"
#include "assistant/device.h"
#include "audio/audio_file.h"
#include "audio/capture.h"
#include "audio/playback.h"
#include "audio/trigger.h"
#include "commerce/store.h"
#include "core/config.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define MODEL "/usr/share/pocketsphinx/model/en-us"
#define VOICE "en-us+f2"
#define VOICE_RATE 150
#define MAX_EVENTS 64

typedef struct {
    vc_device_event_type type;
    char text[512];
    char intent[64];
    char outcome[32];
} event;

typedef struct {
    event ev[MAX_EVENTS];
    size_t n;
    int ended;         /* a conversation ended */
    double ended_wall; /* when */
} events;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_event(void *ctx, const vc_device_event *e)
{
    events *ev = ctx;
    event *c;

    if (e->type == VC_DEVICE_EV_END && !ev->ended) {
        ev->ended = 1;
        ev->ended_wall = wall();
    }
    if (ev->n == MAX_EVENTS)
        return;
    c = &ev->ev[ev->n++];
    memset(c, 0, sizeof *c);
    c->type = e->type;
    snprintf(c->text, sizeof c->text, "%s", e->text ? e->text : "");
    snprintf(c->intent, sizeof c->intent, "%s", e->intent ? e->intent : "");
    snprintf(c->outcome, sizeof c->outcome, "%s", e->outcome ? e->outcome : "");
}

/* Stops the loop a second (wall) after the conversation ended, or after a
 * minute whatever happened: the capture plugin never ends by itself. */
static double started;
static vc_status tick(void *ctx)
{
    events *ev = ctx;
    double now = wall();

    if ((ev->ended && now - ev->ended_wall > 1.0) || now - started > 60)
        return vc_fail(VC_ECANCELLED, "test over");
    return VC_OK;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct {
    vc_playback *pb;
    int rate;        /* of what the device writes */
    uint64_t due;    /* where the last sound written was due */
    int wrote;
} live;

/* The capture runs ahead of real time, so the device can hear the
 * customer's next words, and write its next reply, while the last one is
 * still playing: queued straight behind it, the two would reach the
 * loudspeaker's recording as one stretch, which fits no reply sentence (the
 * check below then hears the second alone). A sound due somewhere new (the
 * device gives one position to all of a reply's chunks) therefore waits
 * until the last one has played, and 0.4 s of silence, as a customer would
 * listen to the end before answering. */
static vc_status out_write(void *ctx, const int16_t *pcm, size_t n, uint64_t at)
{
    live *o = ctx;

    if (o->wrote && at != o->due) {
        /* polled, not vc_playback_drain(), which stops the stream: the ALSA
         * file plugin would then close the recording's FIFO */
        static const int16_t quiet[48000 * 4 / 10];
        size_t len = (size_t)o->rate * 4 / 10;
        for (int waited = 0; vc_playback_busy(o->pb) && waited < 20000; waited += 10)
            nap_ms(10);
        vc_status rc = vc_playback_write(o->pb, quiet, len < 19200 ? len : 19200);
        if (rc != VC_OK)
            return rc;
    }
    o->wrote = 1;
    o->due = at;
    return vc_playback_write(o->pb, pcm, n);
}

static vc_status out_stop(void *ctx, uint64_t at)
{
    (void)at;
    return vc_playback_stop(((live *)ctx)->pb);
}

static int out_busy(void *ctx, uint64_t at)
{
    (void)at;
    return vc_playback_busy(((live *)ctx)->pb);
}

/* The customer's side: speech at the given starts (seconds), room tone
 * between, total seconds long. */
static void lay_out(vc_audio *track, double total, const char *const *texts, const double *at,
                    size_t n)
{
    vc_test_track t = {0};

    for (size_t i = 0; i < n; i++) {
        vc_audio a = {0};
        assert_int_equal(vc_test_speak(VOICE, VOICE_RATE, texts[i], &a), 0);
        assert_true(t.n <= (size_t)(at[i] * VC_AUDIO_RATE));
        vc_test_track_tone(&t, (int)((at[i] * VC_AUDIO_RATE - (double)t.n) / 16));
        vc_test_track_speech(&t, &a);
        vc_audio_clear(&a);
    }
    vc_test_track_tone(&t, (int)((total * VC_AUDIO_RATE - (double)t.n) / 16));
    track->samples = t.pcm;
    track->n = t.n;
}

/* The reply sentences the recorded audio is decoded against: the two this
 * conversation must have spoken, the same with other products in place of
 * coffee filters, and other replies of the pack. A transcript naming
 * coffee filters is then evidence from the audio: the other products fit
 * the grammar as well. Amounts and numbers as the dialog's spoken form
 * gives them to espeak-ng ("three dollars and forty-nine cents"). */
static const char REPLIES_JSGF[] =
    "#JSGF V1.0;\n"
    "grammar replies;\n"
    "public <reply> = <confirm> | <done> | <sorry> | <declined> | <which> | <last>;\n"
    "<confirm> = order <n> packs of <product> at <money> each <money> in total;\n"
    "<done> = [done] your order number is <digit> <digit> <digit> <n> packs of <product> for "
    "<money>;\n"
    "<last> = you last ordered <n> packs of <product> at <money> each order the same again;\n"
    "<sorry> = sorry i didn't catch that could you say it again;\n"
    "<declined> = ok i won't order that what else can i do for you;\n"
    "<which> = which product would you like to reorder;\n"
    "<product> = coffee filters | paper towels | trash bags | dish soap | toilet paper | "
    "batteries;\n"
    "<money> = <n> dollars and <n> [<n>] cents;\n"
    "<n> = one | two | three | four | five | six | seven | eight | nine | ten | twenty | "
    "thirty | forty | fifty | sixty | seventy | eighty | ninety;\n"
    "<digit> = zero | one | two | three | four | five | six | seven | eight | nine;\n";

/* What pocketsphinx hears in pcm (rate Hz) against REPLIES_JSGF: each
 * stretch of sound between silences of 300 ms or more that lasts over a
 * second (a reply, not an earcon) decoded as an utterance of its own;
 * the transcripts joined with " | "; caller frees. */
static char *transcribe_replies(const int16_t *pcm, size_t n, int rate)
{
    cmd_ln_t *cfg;
    ps_decoder_t *ps;
    char *out = calloc(1, 8192);
    /* found at the device's rate (the recording is long: the stream plays
     * silence between replies as fast as the test's FIFO reader takes it),
     * each stretch converted to 16 kHz on its own; 10 ms frames, 300 ms */
    size_t len = 0, i = 0, frame = (size_t)rate / 100, gap = 30;

    assert_non_null(out);
    /* the recogniser's wide beams: a long sentence must reach its end */
    cfg = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", MODEL "/en-us", "-dict",
                      MODEL "/cmudict-en-us.dict", "-beam", "1e-80", "-wbeam", "1e-60",
                      "-pbeam", "1e-80", "-logfn", "/dev/null", NULL);
    assert_non_null(cfg);
    ps = ps_init(cfg);
    assert_non_null(ps);
    /* the grammar built here rather than by ps_set_jsgf_string, which
     * never frees the parsed JSGF (LeakSanitizer) */
    {
        jsgf_t *jsgf = jsgf_parse_string(REPLIES_JSGF, NULL);
        jsgf_rule_t *rule = jsgf ? jsgf_get_public_rule(jsgf) : NULL;
        fsg_model_t *fsg;
        assert_non_null(rule);
        fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps), 7.5);
        assert_non_null(fsg);
        assert_int_equal(ps_set_fsg(ps, "replies", fsg), 0);
        fsg_model_free(fsg);
        jsgf_grammar_free(jsgf);
    }
    assert_int_equal(ps_set_search(ps, "replies"), 0);
    while (i + frame <= n) {
        size_t from, to, quiet = 0, j;
        vc_audio a = {0};
        /* the next loud frame starts a stretch; gap quiet frames end it */
        while (i + frame <= n) {
            double e = 0;
            for (j = 0; j < frame; j++)
                e += (double)pcm[i + j] * pcm[i + j];
            if (e / frame > 100.0 * 100.0)
                break;
            i += frame;
        }
        if (i + frame > n)
            break;
        from = i > frame * 20 ? i - frame * 20 : 0; /* 200 ms before */
        for (to = i; i + frame <= n && quiet < gap; i += frame) {
            double e = 0;
            for (j = 0; j < frame; j++)
                e += (double)pcm[i + j] * pcm[i + j];
            quiet = e / frame > 100.0 * 100.0 ? 0 : quiet + 1;
            if (!quiet)
                to = i + frame;
        }
        if (to - from < (size_t)rate)
            continue; /* an earcon */
        assert_int_equal(vc_audio_convert(pcm + from, i - from, rate, 1, &a), VC_OK);
        assert_int_equal(ps_start_utt(ps), 0);
        assert_true(ps_process_raw(ps, a.samples, a.n, FALSE, TRUE) >= 0);
        assert_int_equal(ps_end_utt(ps), 0);
        vc_audio_clear(&a);
        const char *hyp = ps_get_hyp(ps, NULL);
        if (hyp && *hyp && len + strlen(hyp) + 4 < 8192)
            len += (size_t)snprintf(out + len, 8192 - len, "%s%s", len ? " | " : "", hyp);
    }
    ps_free(ps);
    cmd_ln_free_r(cfg);
    return out;
}

static const event *find(const events *ev, vc_device_event_type type, size_t from)
{
    for (size_t i = from; i < ev->n; i++)
        if (ev->ev[i].type == type)
            return &ev->ev[i];
    return NULL;
}

static void a_reorder_conversation_runs_through_portaudio_and_its_replies_can_be_heard(
    void **state)
{
    static const char *const say[] = {"hey voxcart", "reorder two packs of coffee filters",
                                      "yes"};
    /* the confirmation ("Order 2 packs of coffee filters at $3.49 each,
     * $6.98 in total?") takes about 4.5 s from about 6 s on */
    static const double at[] = {0.8, 2.6, 12.0};
    vc_test_dir *dir = vc_test_dir_new("vc-loopback", "");
    char conf[4300], in_raw[4300], fifo[4300], store[4300];
    FILE *f;
    vc_audio track = {0};
    vc_test_speaker speaker;
    vc_config cfg;
    vc_assistant_options ao = {0};
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_synthesiser *synth = NULL;
    vc_synthesiser_config sc = {.mode = VC_SPEAK_NONE, .voice = "en-us", .rate = 175,
                                .pitch = 50, .volume = 100};
    vc_wakeword *wake = NULL;
    vc_wakeword_config wc = {.threshold = 1e-30, .phone_loop_prob = 1e-7};
    vc_capture_config cc = {.device = "voxcart_in", .rate = 48000, .ring_ms = 30000};
    vc_playback_config pc = {.device = "voxcart_out"};
    vc_capture *cap = NULL;
    live out = {0};
    vc_device_config dc = {0};
    vc_device *dev = NULL;
    vc_listener_source src;
    events ev = {0};
    vc_order order = {0};
    const event *heard, *confirm, *yes, *done, *end;
    int16_t *played;
    size_t n_played;
    char *words;
    int rc;

    (void)state;
    if (access(MODEL "/en-us.lm.bin", R_OK) != 0) {
        print_message("skipped: %s (pocketsphinx-en-us) is absent\n", MODEL "/en-us.lm.bin");
        vc_test_dir_free(dir);
        skip();
    }
    assert_non_null(dir);
    lay_out(&track, 24.0, say, at, 3);
    snprintf(in_raw, sizeof in_raw, "%s/in.raw", dir->path);
    snprintf(fifo, sizeof fifo, "%s/out.fifo", dir->path);
    snprintf(conf, sizeof conf, "%s/alsa.conf", dir->path);
    assert_int_equal(vc_test_write_raw_48k(in_raw, &track), 0);
    assert_int_equal(vc_test_speaker_start(&speaker, fifo), 0);
    assert_non_null(f = fopen(conf, "w"));
    vc_test_alsa_capture_pcm(f, "voxcart_in", in_raw);
    vc_test_alsa_playback_pcm(f, "voxcart_out", fifo);
    assert_int_equal(fclose(f), 0);
    vc_test_alsa_use(conf);

    vc_config_defaults(&cfg);
    snprintf(store, sizeof store, "%s/retail.db", dir->path);
    ao.config = &cfg;
    ao.domain = "retail";
    ao.store_path = store;
    assert_int_equal(vc_assistant_new(&ao, &a), VC_OK);
    assert_int_equal(vc_recogniser_new(NULL, vc_assistant_understander(a), &rec), VC_OK);
    assert_int_equal(vc_synthesiser_new(&sc, &synth), VC_OK);
    wc.phrase = vc_pack_setting(vc_assistant_pack(a), "wake_phrase");
    assert_int_equal(vc_wakeword_new(&wc, &wake), VC_OK);
    assert_int_equal(vc_capture_new(&cc, &cap), VC_OK);
    pc.rate = vc_synthesiser_rate(synth);
    out.rate = pc.rate;
    assert_int_equal(vc_playback_new(&pc, &out.pb), VC_OK);

    vc_listener_config_defaults(&dc.listen);
    dc.listen.trigger = VC_TRIGGER_WAKE_WORD;
    dc.listen.wake = wake;
    dc.rec = rec;
    dc.assistant = a;
    dc.synth = synth;
    dc.customer = cfg.customer_id;
    dc.output = (vc_device_output){out_write, out_stop, out_busy, pc.rate, &out};
    dc.barge_in = 0;
    dc.earcons = 1;
    dc.on_event = on_event;
    dc.tick = tick;
    dc.ctx = &ev;
    assert_int_equal(vc_device_new(&dc, &dev), VC_OK);
    assert_int_equal(vc_capture_start(cap), VC_OK);
    vc_listener_capture_source(cap, &src);
    started = wall();
    rc = vc_device_run(dev, &src);
    assert_int_equal(rc, VC_ECANCELLED);
    {
        int drained = 0;
        assert_int_equal(vc_playback_drain(out.pb, 10000, &drained), VC_OK);
        assert_true(drained);
    }
    vc_device_free(dev);
    vc_capture_free(cap);
    vc_playback_free(out.pb);
    played = vc_test_speaker_take(&speaker, &n_played);
    vc_test_speaker_stop(&speaker);
    assert_non_null(played);

    /* the conversation, as the device heard and answered it */
    assert_non_null(find(&ev, VC_DEVICE_EV_WOKE, 0));
    assert_non_null(heard = find(&ev, VC_DEVICE_EV_HEARD, 0));
    assert_string_equal(heard->intent, "reorder");
    assert_non_null(confirm = find(&ev, VC_DEVICE_EV_REPLY, (size_t)(heard - ev.ev)));
    assert_non_null(strstr(confirm->text, "coffee filters"));
    assert_non_null(yes = find(&ev, VC_DEVICE_EV_HEARD, (size_t)(confirm - ev.ev)));
    assert_string_equal(yes->intent, "yes");
    assert_non_null(done = find(&ev, VC_DEVICE_EV_REPLY, (size_t)(yes - ev.ev)));
    assert_non_null(strstr(done->text, "order number"));
    assert_non_null(find(&ev, VC_DEVICE_EV_ORDER, (size_t)(yes - ev.ev)));
    assert_non_null(end = find(&ev, VC_DEVICE_EV_END, (size_t)(done - ev.ev)));
    assert_string_equal(end->outcome, "completed");
    assert_int_equal(vc_store_latest_order(vc_assistant_store(a), cfg.customer_id, &order),
                     VC_OK);
    assert_string_equal(order.lines[0].sku, "HH-0012");
    assert_int_equal(order.lines[0].quantity, 2);
    vc_order_clear(&order);

    /* the loudspeaker's side: at least the two replies' length of audio,
     * and words of both replies in what a general recogniser hears */
    assert_true(n_played > (size_t)(6 * pc.rate));
    /* VC_TEST_KEEP_PLAYED=FILE keeps what was played (raw s16le) to listen to */
    if (getenv("VC_TEST_KEEP_PLAYED"))
        vc_test_write_raw(getenv("VC_TEST_KEEP_PLAYED"), played, n_played);
    words = transcribe_replies(played, n_played, pc.rate);
    print_message("the loudspeaker said, as pocketsphinx hears it: \"%s\"\n", words);
    /* the words; the amounts' numbers come out approximate ("forty twenty
     * cents") and are not what this checks */
    assert_non_null(strstr(words, "order two packs of coffee filters at"));
    assert_non_null(strstr(words, "your order number is"));
    assert_non_null(strstr(words, "packs of coffee filters for"));
    assert_null(strstr(words, "paper towels"));
    assert_null(strstr(words, "trash bags"));
    free(words);

    free(played);
    vc_wakeword_free(wake);
    vc_synthesiser_free(synth);
    vc_recogniser_free(rec);
    vc_assistant_free(a);
    vc_audio_clear(&track);
    vc_test_dir_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            a_reorder_conversation_runs_through_portaudio_and_its_replies_can_be_heard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
