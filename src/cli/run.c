/* `voxcart run` (run.h). */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assistant/device.h"
#include "assistant/listener.h"
#include "assistant/sim.h"
#include "assistant/syncer.h"
#include "audio/audio_file.h"
#include "audio/capture.h"
#include "audio/gpio.h"
#include "audio/playback.h"
#include "audio/trigger.h"
#include "core/log.h"
#include "core/service.h"
#include "nlu/understander.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"
#include "update.h"

/* Retrying a device that failed: 1 s, doubling up to 30 s. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000

/* Everything a running device holds; made afresh on SIGHUP. */
typedef struct {
    vc_config cfg;
    vc_assistant *assistant;
    vc_recogniser *rec;
    vc_synthesiser *synth;
    vc_wakeword *wake;
    vc_button *keys; /* the pc board's Enter */
    vc_gpio_set gpio;
    vc_syncer *syncer; /* NULL: no backend */
    unsigned trigger;
    const char *phrase;
} parts;

typedef struct {
    const vc_run_options *o;
    parts *p;
    double stream_origin; /* script: 0; live: seconds of stream before this run */
    int idle;             /* the device waits for a wake word or the button */
} printer;

static int fail(const char *what)
{
    fprintf(stderr, "voxcart: run: %s: %s\n", what, vc_error_detail());
    return 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !vc_service_stop_requested())
        ;
}

/* ---- opening and closing -------------------------------------------------- */

static void close_parts(parts *p)
{
    vc_syncer_stop(p->syncer);
    vc_gpio_set_close(&p->gpio);
    vc_button_free(p->keys);
    vc_wakeword_free(p->wake);
    vc_synthesiser_free(p->synth);
    vc_recogniser_free(p->rec);
    vc_assistant_free(p->assistant);
    memset(p, 0, sizeof *p);
}

/* scripted: the trigger is the room's button */
static int open_parts(const vc_run_options *o, int scripted, parts *p)
{
    vc_recogniser_config rc = {.lexicon = o->lexicon};
    vc_synthesiser_config sc = {.mode = VC_SPEAK_NONE};
    const char *trigger;

    memset(p, 0, sizeof *p);
    if (o->open(o->ctx, &p->cfg, &p->assistant) != VC_OK)
        return fail("loading the configuration and the domain pack");
    if (p->cfg.backend_url[0] &&
        vc_syncer_start(&p->cfg, vc_assistant_store_path(p->assistant), &p->syncer) != VC_OK)
        return fail("starting the sync with the merchant backend");
    if (vc_recogniser_new(&rc, vc_assistant_understander(p->assistant), &p->rec) != VC_OK)
        return fail("loading the recogniser");
    vc_assistant_voice(p->assistant, &p->cfg, &sc);
    if (vc_synthesiser_new(&sc, &p->synth) != VC_OK)
        return fail("loading the voice");
    if (scripted) {
        p->trigger = VC_TRIGGER_PUSH_TO_TALK;
        return 0;
    }
    trigger = o->trigger ? o->trigger : p->cfg.trigger;
    if (strcmp(trigger, "always") == 0)
        p->trigger = 0;
    else if (vc_trigger_parse(trigger, &p->trigger) != VC_OK)
        return fail(o->trigger ? "--trigger" : "[audio] trigger");
    if (p->trigger & VC_TRIGGER_WAKE_WORD) {
        vc_wakeword_config wc = {
            .phrase = vc_pack_setting(vc_assistant_pack(p->assistant), "wake_phrase"),
            .lexicon = o->lexicon,
        };
        if (!wc.phrase) {
            fprintf(stderr, "voxcart: run: the %s pack has no wake_phrase (pack.ini); set "
                            "[audio] trigger = push_to_talk\n",
                    vc_pack_name(vc_assistant_pack(p->assistant)));
            return 1;
        }
        if (vc_wakeword_new(&wc, &p->wake) != VC_OK)
            return fail("loading the wake word");
        p->phrase = vc_wakeword_phrase(p->wake);
    }
    if (vc_gpio_open_from_config(&p->cfg, &p->gpio) != VC_OK)
        return fail("opening the board's GPIO");
    if ((p->trigger & VC_TRIGGER_PUSH_TO_TALK) && !p->gpio.button &&
        vc_button_new_keys(STDIN_FILENO, &p->keys) != VC_OK)
        return fail("the push-to-talk button");
    return 0;
}

/* ---- what happens, as it happens ---------------------------------------- */

static double seconds(uint64_t at)
{
    return (double)at / VC_AUDIO_RATE;
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void on_event(void *ctx, const vc_device_event *ev)
{
    printer *pr = ctx;
    double t = pr->stream_origin + seconds(ev->at);

    if (pr->o->json) {
        printf("{\"event\":\"%s\",\"at\":%.3f", vc_device_event_name(ev->type), t);
        if (ev->text) {
            printf(",\"text\":");
            print_json_string(ev->text);
        }
        if (ev->type == VC_DEVICE_EV_HEARD) {
            printf(",\"intent\":");
            if (ev->intent)
                print_json_string(ev->intent);
            else
                printf("null");
            printf(",\"confidence\":%.3f,\"speech_end\":%.3f", ev->confidence,
                   pr->stream_origin + seconds(ev->speech_end));
        }
        if (ev->type == VC_DEVICE_EV_REPLY)
            printf(",\"latency\":%.3f,\"synth_first_audio\":%.5f", ev->latency_seconds,
                   ev->synth_first_audio_seconds);
        if (ev->type == VC_DEVICE_EV_WOKE)
            printf(",\"by\":\"%s\"", vc_trigger_name(ev->woke_by));
        if (ev->order_number) {
            printf(",\"order\":");
            print_json_string(ev->order_number);
        }
        if (ev->outcome)
            printf(",\"outcome\":\"%s\"", ev->outcome);
        printf("}\n");
        fflush(stdout);
        return;
    }
    printf("[%7.2f s] ", t);
    switch (ev->type) {
    case VC_DEVICE_EV_WOKE:
        printf("woken by %s\n", ev->woke_by == VC_TRIGGER_WAKE_WORD ? "the wake word"
                                                                   : "the button");
        break;
    case VC_DEVICE_EV_HEARD:
        if (ev->intent)
            printf("customer: \"%s\"  (%s, %.2f)\n", ev->text, ev->intent, ev->confidence);
        else
            printf("customer: \"%s\"  (not understood)\n", ev->text ? ev->text : "");
        break;
    case VC_DEVICE_EV_REPLY:
        printf("voxcart:  \"%s\"  (%.0f ms after the end of speech; first audio after %.1f ms "
               "of synthesis)\n",
               ev->text, ev->latency_seconds * 1000, ev->synth_first_audio_seconds * 1000);
        break;
    case VC_DEVICE_EV_BARGE_IN:
        printf("customer spoke over the reply: stopped\n");
        break;
    case VC_DEVICE_EV_TIMEOUT:
        printf("no answer\n");
        break;
    case VC_DEVICE_EV_ORDER:
        printf("order %s placed\n", ev->order_number ? ev->order_number : "?");
        break;
    case VC_DEVICE_EV_END:
        printf("conversation %s\n", ev->outcome ? ev->outcome : "ended");
        break;
    }
    fflush(stdout);
}

static void on_state(void *ctx, vc_device_state s)
{
    printer *pr = ctx;

    pr->idle = s == VC_DEVICE_IDLE;
    if (pr->p->gpio.led &&
        vc_gpio_led_set(pr->p->gpio.led, s != VC_DEVICE_IDLE) != VC_OK)
        vc_log_warn("run: LED: %s", vc_error_detail());
    vc_service_status("%s", s == VC_DEVICE_IDLE && pr->p->phrase ? "waiting for the wake word"
                            : vc_device_state_name(s));
}

static int reload_pending;

static vc_status tick(void *ctx)
{
    printer *pr = ctx;

    vc_service_watchdog_ping();
    if (vc_service_stop_requested())
        return vc_fail(VC_ECANCELLED, "stop requested");
    if (vc_service_take_reload()) {
        reload_pending = 1; /* run_devices returns, run_live reloads */
        return vc_fail(VC_ECANCELLED, "reload requested");
    }
    /* A synced catalog is taken in between conversations, never during
     * one: the reload recompiles the grammar from the store. */
    if (pr && pr->idle && vc_syncer_take_catalog_changed(pr->p->syncer)) {
        vc_log_info("run: the catalog changed; reloading");
        reload_pending = 1;
        return vc_fail(VC_ECANCELLED, "catalog changed");
    }
    return VC_OK;
}

static void device_config(parts *p, printer *pr, vc_device_output out, vc_device_config *dc)
{
    memset(dc, 0, sizeof *dc);
    vc_listener_config_defaults(&dc->listen);
    dc->listen.trigger = p->trigger;
    dc->listen.wake = p->wake;
    dc->listen.button = p->gpio.button ? p->gpio.button : p->keys;
    dc->rec = p->rec;
    dc->assistant = p->assistant;
    dc->synth = p->synth;
    dc->output = out;
    dc->customer = vc_assistant_customer(p->assistant);
    dc->metrics = 1;
    dc->follow_up_timeout_ms = p->cfg.follow_up_timeout_ms;
    dc->barge_in = p->cfg.barge_in;
    dc->earcons = p->cfg.earcons;
    dc->on_event = on_event;
    dc->on_state = on_state;
    dc->tick = tick;
    dc->ctx = pr;
}

/* ---- the scripted conversation ------------------------------------------ */

/* The scripted conversations: a press of the button, then what the
 * customer says, turn by turn; NULL ends a conversation, and the customer
 * then waits in silence for pause_ms. */
typedef struct {
    const char *pack;
    const char *const *lines;
    size_t n;
} script;

static const char *const retail_script[] = {
    "reorder two packs of coffee filters", "yes", NULL,
    "where is my order", NULL,
};
static const char *const cafe_script[] = {
    "a large latte with oat milk", "yes", NULL,
};
static const script scripts[] = {
    {"retail", retail_script, sizeof retail_script / sizeof retail_script[0]},
    {"cafe", cafe_script, sizeof cafe_script / sizeof cafe_script[0]},
};

static vc_status build_script(vc_sim *sim, const script *sc)
{
    vc_synthesiser_config vcfg = {.mode = VC_SPEAK_NONE, .voice = "en-us", .rate = 150,
                                  .pitch = 40, .volume = 100};
    vc_synthesiser *voice = NULL;
    vc_status rc;
    int conversation_start = 1;

    if ((rc = vc_synthesiser_new(&vcfg, &voice)) != VC_OK)
        return rc;
    for (size_t i = 0; i < sc->n && rc == VC_OK; i++) {
        if (!sc->lines[i]) {
            /* the customer leaves the device time to finish and time out */
            vc_sim_turn pause = {.label = "(silence)", .barge_ms = -1};
            rc = vc_sim_add_turn(sim, &pause, NULL, 0);
            conversation_start = 1;
            continue;
        }
        if (conversation_start) {
            vc_sim_turn press = {.label = "(button)", .barge_ms = -1, .press = 1,
                                 .gap_ms = 1000};
            if ((rc = vc_sim_add_turn(sim, &press, NULL, 0)) != VC_OK)
                break;
            conversation_start = 0;
        }
        vc_audio a = {0};
        vc_sim_turn t = {.label = sc->lines[i], .barge_ms = -1};
        if ((rc = vc_synthesiser_render(voice, sc->lines[i], &a)) == VC_OK)
            rc = vc_sim_add_turn(sim, &t, a.samples, a.n);
        vc_audio_clear(&a);
    }
    if (rc == VC_OK)
        rc = vc_sim_add_pause(sim, VC_DEVICE_FOLLOW_UP_MS + 2000);
    vc_synthesiser_free(voice);
    return rc;
}

/* Plays the recorded conversation, both sides, on the output device when
 * the machine has one; says so when it has not. */
static void play_conversation(parts *p, vc_sim *sim)
{
    vc_playback_config pc = {.device = p->cfg.output_device,
                             .rate = vc_synthesiser_rate(p->synth)};
    vc_playback *pb = NULL;
    int16_t *mix = NULL;
    size_t n = 0;
    int done = 0;

    if (vc_playback_new(&pc, &pb) != VC_OK) {
        printf("no audio output here (%s): listen to the WAV files\n", vc_error_detail());
        return;
    }
    if (vc_sim_render_mix(sim, &mix, &n) == VC_OK) {
        printf("playing the conversation on %s (%.0f s)\n", pc.device, (double)n / pc.rate);
        fflush(stdout);
    }
    if (!mix || vc_playback_write(pb, mix, n) != VC_OK ||
        vc_playback_drain(pb, -1, &done) != VC_OK)
        fprintf(stderr, "voxcart: run: playing the conversation: %s\n", vc_error_detail());
    free(mix);
    vc_playback_free(pb);
}

static int run_script(const vc_run_options *o)
{
    char dir[4096], in_wav[4200], out_wav[4200], json[4200];
    const script *sc = NULL;
    vc_device_output out;
    vc_listener_source src;
    vc_device_config dc;
    vc_device *dev = NULL;
    vc_sim *sim = NULL;
    parts p;
    printer pr = {.o = o, .p = &p};
    int ret = 1;

    if (open_parts(o, 1, &p) != 0)
        goto out_close;
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        if (strcmp(scripts[i].pack, vc_pack_name(vc_assistant_pack(p.assistant))) == 0)
            sc = &scripts[i];
    if (!sc) {
        fprintf(stderr, "voxcart: run: no scripted conversation for the %s pack (there are "
                        "for retail and cafe); on a machine with a microphone, run --live\n",
                vc_pack_name(vc_assistant_pack(p.assistant)));
        goto out_close;
    }
    if (o->wav_dir) {
        snprintf(dir, sizeof dir, "%s", o->wav_dir);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "voxcart: run: cannot make %s: %s\n", dir, strerror(errno));
            goto out_close;
        }
    } else {
        snprintf(dir, sizeof dir, "%s/voxcart-run-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "voxcart: run: cannot make a directory for the recordings: %s\n",
                    strerror(errno));
            goto out_close;
        }
    }
    if (vc_sim_new(vc_synthesiser_rate(p.synth), &sim) != VC_OK ||
        build_script(sim, sc) != VC_OK) {
        ret = fail("making the scripted conversation");
        goto out_close;
    }
    vc_sim_output(sim, &out);
    vc_sim_source(sim, &src);
    device_config(&p, &pr, out, &dc);
    dc.listen.button = vc_sim_button(sim);
    if (vc_device_new(&dc, &dev) != VC_OK) {
        ret = fail("starting the device loop");
        goto out_close;
    }
    if (!o->json)
        printf("voxcart run: no microphone here, so a scripted conversation (customer voice "
               "made with espeak-ng) plays through the device loop; domain %s\n\n",
               vc_pack_name(vc_assistant_pack(p.assistant)));
    if (vc_device_run(dev, &src) != VC_OK) {
        ret = fail("the device loop");
        goto out_close;
    }
    snprintf(in_wav, sizeof in_wav, "%s/input.wav", dir);
    snprintf(out_wav, sizeof out_wav, "%s/output.wav", dir);
    snprintf(json, sizeof json, "%s/timeline.json", dir);
    if (vc_sim_write(sim, in_wav, out_wav, json) != VC_OK) {
        ret = fail("writing the recordings");
        goto out_close;
    }
    if (!o->json)
        printf("\nwhat the microphone heard: %s\nwhat the loudspeaker played: %s\n"
               "timeline (for the latency harness): %s\n",
               in_wav, out_wav, json);
    if (!o->json)
        play_conversation(&p, sim);
    ret = 0;
out_close:
    vc_device_free(dev);
    vc_sim_free(sim);
    close_parts(&p);
    return ret;
}

/* ---- the live loop -------------------------------------------------------- */

typedef struct {
    vc_playback *pb;
} live_output;

static vc_status live_write(void *ctx, const int16_t *pcm, size_t n, uint64_t at)
{
    live_output *lo = ctx;
    (void)at;
    return vc_playback_write(lo->pb, pcm, n);
}

static vc_status live_stop(void *ctx, uint64_t at)
{
    live_output *lo = ctx;
    (void)at;
    return vc_playback_stop(lo->pb);
}

static int live_busy(void *ctx, uint64_t at)
{
    live_output *lo = ctx;
    (void)at;
    return vc_playback_busy(lo->pb);
}

/* Opens the devices and runs the loop until it stops or a device fails:
 * 0 stop, 1 fatal, 2 retry (a device failed), 3 reload. */
static int run_devices(const vc_run_options *o, parts *p, double *origin)
{
    vc_capture_config cc = {.device = o->device ? o->device : p->cfg.input_device,
                            .rate = p->cfg.sample_rate};
    vc_playback_config pc = {.device = p->cfg.output_device,
                             .rate = vc_synthesiser_rate(p->synth)};
    live_output lo = {0};
    vc_capture *cap = NULL;
    vc_listener_source src;
    vc_device_output out = {live_write, live_stop, live_busy, 0, &lo};
    vc_device_config dc;
    vc_device *dev = NULL;
    printer pr = {.o = o, .p = p, .stream_origin = *origin};
    vc_status rc;
    int ret = 2;

    if (vc_capture_new(&cc, &cap) != VC_OK || vc_capture_start(cap) != VC_OK) {
        vc_log_error("run: the microphone (%s): %s", cc.device, vc_error_detail());
        goto out_close;
    }
    if (vc_playback_new(&pc, &lo.pb) != VC_OK) {
        vc_log_error("run: the loudspeaker (%s): %s", pc.device, vc_error_detail());
        goto out_close;
    }
    out.rate = pc.rate;
    device_config(p, &pr, out, &dc);
    if (vc_device_new(&dc, &dev) != VC_OK) {
        ret = fail("starting the device loop");
        goto out_close;
    }
    vc_listener_capture_source(cap, &src);
    vc_service_ready(p->phrase ? "waiting for the wake word" : "ready");
    /* ready is the health check: an update waiting for it is kept */
    vc_cli_update_confirm(&p->cfg);
    if (!o->json)
        printf("voxcart run: listening on %s at %d Hz%s%s%s%s\n", cc.device,
               vc_capture_device_rate(cap), p->phrase ? "; say \"" : "",
               p->phrase ? p->phrase : "", p->phrase ? "\"" : "",
               (p->trigger & VC_TRIGGER_PUSH_TO_TALK) ? " or press the button" : "");
    else
        printf("{\"event\":\"ready\",\"device_rate\":%d}\n", vc_capture_device_rate(cap));
    fflush(stdout);
    if (o->exit_when_ready) {
        ret = 0;
        goto out_close;
    }
    rc = vc_device_run(dev, &src);
    if (rc == VC_OK || vc_service_stop_requested()) {
        ret = 0;
    } else if (rc == VC_ECANCELLED) {
        ret = reload_pending ? 3 : 0;
        reload_pending = 0;
    } else {
        vc_log_error("run: %s", vc_error_detail());
        ret = rc == VC_EAUDIO || rc == VC_EIO ? 2 : 1;
    }
out_close:
    vc_device_free(dev);
    vc_playback_free(lo.pb);
    vc_capture_free(cap);
    return ret;
}

static int run_live(const vc_run_options *o)
{
    int delay = RETRY_FIRST_MS;
    double origin = 0;
    parts p;

    if (vc_service_signals_install() != VC_OK)
        return fail("installing the signal handlers");
    if (open_parts(o, 0, &p) != 0) {
        close_parts(&p);
        return 1;
    }
    for (;;) {
        int r = run_devices(o, &p, &origin);
        if (r == 0 || r == 1) {
            vc_service_stopping();
            close_parts(&p);
            return r;
        }
        if (r == 3) {
            vc_service_reloading();
            vc_log_info("run: reloading the configuration and the domain pack");
            close_parts(&p);
            if (open_parts(o, 0, &p) != 0) {
                close_parts(&p);
                return 1;
            }
            delay = RETRY_FIRST_MS;
            continue;
        }
        /* a device failed: a clear line, a pause that grows, again */
        vc_service_status("audio device failed; retrying in %d s", delay / 1000);
        vc_log_warn("run: retrying the audio devices in %d s", delay / 1000);
        for (int waited = 0; waited < delay && !vc_service_stop_requested(); waited += 100) {
            vc_service_watchdog_ping();
            sleep_ms(100);
        }
        if (vc_service_stop_requested()) {
            vc_service_stopping();
            close_parts(&p);
            return 0;
        }
        delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
    }
}

/* A microphone is there when the input device opens. */
static int have_microphone(const vc_run_options *o)
{
    vc_config cfg;
    vc_capture *c = NULL;
    vc_capture_config cc = {0};
    int yes;

    if (o->load_config(o->ctx, &cfg) != VC_OK)
        return 1; /* let the live path report the configuration's problem */
    cc.device = o->device ? o->device : cfg.input_device;
    cc.rate = cfg.sample_rate;
    yes = vc_capture_new(&cc, &c) == VC_OK;
    vc_capture_free(c);
    return yes;
}

int vc_cli_run(const vc_run_options *o)
{
    const char *mode = o->mode ? o->mode : "auto";

    if (strcmp(mode, "script") == 0)
        return run_script(o);
    if (strcmp(mode, "live") == 0)
        return run_live(o);
    if (strcmp(mode, "auto") != 0) {
        fprintf(stderr, "voxcart: run: unknown mode \"%s\" (auto, live, script)\n", mode);
        return 2;
    }
    if (!have_microphone(o)) {
        fprintf(stderr, "voxcart: run: no microphone (%s); playing the scripted "
                        "conversation instead\n",
                vc_error_detail());
        return run_script(o);
    }
    return run_live(o);
}
