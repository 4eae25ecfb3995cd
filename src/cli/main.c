/* voxcart: the command-line front of the assistant. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assistant/assistant.h"
#include "assistant/link.h"
#include "assistant/listener.h"
#include "audio/audio_file.h"
#include "audio/capture.h"
#include "audio/trigger.h"
#include "build_config.h"
#include "commerce/metrics.h"
#include "core/fsutil.h"
#include "core/utf8.h"
#include "eval.h"
#include "run.h"
#include "stats.h"
#include "update.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define TEXT_FILE_MAX_BYTES (16u << 20)

static const char usage[] =
    "usage: voxcart [options] COMMAND [ARGS]\n"
    "\n"
    "Offline voice-commerce assistant.\n"
    "\n"
    "commands:\n"
    "  run [--live | --script] [--trigger T] [--device D] [--wav-dir DIR] [--json]\n"
    "                             the device: wake word or button, listen, answer by\n"
    "                             voice, follow-ups, barge-in; without a microphone, a\n"
    "                             scripted conversation through the same loop, recorded\n"
    "                             to WAV files, with the transcript and its timings\n"
    "  demo                       a scripted conversation on the embedded defaults,\n"
    "                             replies printed and spoken (audio device or WAV files)\n"
    "  understand [--json] (--text TEXT | --text-file FILE | FILE.wav ...)\n"
    "                             what each input means: intent, slots, confidence\n"
    "  transcribe [--json] [--no-confidence] FILE.wav ...\n"
    "                             the words heard in each recording, with their times\n"
    "                             and the decoder's confidence\n"
    "  eval --labels labels.json DIR [--noise N.wav --snr clean,24,12] [--seed S]\n"
    "       [--limit N] [--json]  command acceptance rate on labelled recordings\n"
    "  listen [--device D] [--rate N] [--count N] [--smart-eou MS] [--trigger T]\n"
    "         [--exit-when-ready] [--json] [FILE.wav ...]\n"
    "                             hear orders from the microphone, or each file as if\n"
    "                             live: words, intent and slots, confidence, and the\n"
    "                             time from the end of speech to the result\n"
    "  ask TEXT                   one dialog turn; the conversation carries on across calls\n"
    "  chat                       an interactive text conversation\n"
    "  catalog import FILE.json   replace the store's catalog (all or nothing)\n"
    "  register                   make the device's key and register it with the\n"
    "                             merchant backend ([backend] in the config)\n"
    "  sync                       send queued orders and events, bring the catalog and\n"
    "                             order history up to date with the backend\n"
    "  stats [--since DAYS] [--json]\n"
    "                             conversation metrics: completion, conversion, order\n"
    "                             value, response time, hand-overs, rejections\n"
    "  update apply [--force] BUNDLE|URL | check [--apply] | status | boot-check |\n"
    "         mark-healthy | rollback\n"
    "                             signed updates: install into the other slot, health\n"
    "                             check, rollback (voxcart update help; docs/update.md)\n"
    "  version                    print the version\n"
    "\n"
    "options:\n"
    "  -c, --config FILE    device config (default: $VOXCART_CONFIG, else\n"
    "                       /etc/voxcart/voxcart.conf when present)\n"
    "  -d, --domain NAME    domain pack (retail, cafe; default from the config)\n"
    "      --catalog FILE   use this catalog file instead of the store's catalog\n"
    "      --store FILE     the store database (default: <state_dir>/<domain>.db)\n"
    "      --session NAME   conversation kept by `ask` (default: cli)\n"
    "      --new            `ask`: start a new conversation\n"
    "      --speak          `ask`, `chat`: also speak the replies\n"
    "      --wav-dir DIR    write spoken replies as WAV files to DIR\n"
    "      --json           `understand`, `transcribe`, `listen`: one JSON object per\n"
    "                       input or utterance, one a line; `eval`, `stats`: a JSON\n"
    "                       summary\n"
    "      --since DAYS     `stats`: only conversations of the last DAYS days\n"
    "      --raw-rate N     audio files are headerless s16le mono at N Hz\n"
    "      --labels FILE    `eval`: file name -> {\"intent\", \"slots\"} (JSON)\n"
    "      --noise FILE     `eval`: noise mixed into the recordings\n"
    "      --snr LIST       `eval`: conditions, 'clean' or dB, comma separated\n"
    "                       (default: clean)\n"
    "      --seed S         `eval`: picks each recording's stretch of noise (default 0)\n"
    "      --limit N        `eval`: only the first N recordings (sorted by name)\n"
    "      --device D       `listen`: input device, a name or an index (default: the\n"
    "                       config's [audio] input_device)\n"
    "      --rate N         `listen`: the device's rate in Hz (default: the config's)\n"
    "      --count N        `listen`: stop after N utterances\n"
    "      --no-confidence  `transcribe`: decode as the device decodes an order, without\n"
    "                       the second pass that measures confidence (half the CPU)\n"
    "      --exit-when-ready\n"
    "                       `listen`: exit once the model is loaded and the device open\n"
    "      --smart-eou MS   `listen`: silence after a whole sentence that ends the\n"
    "                       utterance (default 300; 0: wait for the full 1000 ms)\n"
    "      --trigger T      `listen`: what starts each utterance: wake_word (the pack's\n"
    "                       wake_phrase), push_to_talk (Enter on standard input),\n"
    "                       \"wake_word | push_to_talk\" or always (default: the\n"
    "                       config's [audio] trigger for a device, always for files)\n"
    "      --wake-threshold X, --wake-phone-loop P\n"
    "                       `listen`: the wake word spotter's settings (default 1e-20\n"
    "                       and 1e-3; smaller wakes more easily, and more falsely)\n"
    "  -t, --text TEXT      `understand`: a sentence (repeatable)\n"
    "  -f, --text-file FILE `understand`: one sentence a line\n"
    "  -h, --help           this help\n";

typedef struct {
    const char *config_path;
    const char *domain;
    const char *catalog;
    const char *store;
    const char *session;
    const char *wav_dir;
    const char *text_file;
    const char **texts;
    size_t n_texts;
    const char *labels;
    const char *noise;
    const char *snr;
    unsigned long long seed;
    size_t limit;
    int raw_rate;
    const char *device;
    int rate;
    unsigned long long count; /* 0: no limit */
    int exit_when_ready;
    int no_confidence;
    int smart_eou_ms; /* -1: the listener's default */
    const char *trigger;  /* NULL: the config's for a device, always for files */
    double wake_threshold, wake_phone_loop; /* 0: the spotter's defaults */
    int json;
    int force; /* `update apply`: downgrade, same version, other board */
    int apply; /* `update check`: install the newer bundle */
    int new_session;
    int speak;
    unsigned long long since_days; /* `stats`; 0: all */
    const char *run_mode; /* `run`: NULL (auto), "live", "script" */
} options;

static int fail(const char *what)
{
    fprintf(stderr, "voxcart: %s: %s\n", what, vc_error_detail());
    return 1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Built-in defaults, then the board's definition, then the device config. */
static vc_status load_config(const options *o, vc_config *cfg)
{
    const char *path = o->config_path;
    char board_ini[700], board_dir[640];
    vc_status rc;

    vc_config_defaults(cfg);
    if (vc_board_dir(cfg->board[0] ? cfg->board : VC_BOARD, board_dir, sizeof board_dir) == VC_OK) {
        snprintf(board_ini, sizeof board_ini, "%s/board.ini", board_dir);
        if ((rc = vc_config_load(cfg, board_ini)) != VC_OK)
            return rc;
    }
    if (!path)
        path = getenv("VOXCART_CONFIG");
    if (!path && file_exists("/etc/voxcart/voxcart.conf"))
        path = "/etc/voxcart/voxcart.conf";
    if (path && (rc = vc_config_load(cfg, path)) != VC_OK)
        return rc;
    return VC_OK;
}

/* backend = 0 for commands that never order: they work on a device that is
 * configured for a backend it cannot reach or has not registered with. */
static vc_status open_assistant_with(const options *o, vc_config *cfg, int backend,
                                     vc_assistant **a)
{
    vc_assistant_options ao = {0};
    vc_status rc = load_config(o, cfg);

    if (rc != VC_OK)
        return rc;
    ao.config = cfg;
    ao.no_backend = !backend;
    ao.domain = o->domain;
    ao.store_path = o->store;
    ao.catalog_path = o->catalog;
    return vc_assistant_new(&ao, a);
}

static vc_status open_assistant(const options *o, vc_config *cfg, vc_assistant **a)
{
    return open_assistant_with(o, cfg, 1, a);
}

static vc_status open_assistant_offline(const options *o, vc_config *cfg, vc_assistant **a)
{
    return open_assistant_with(o, cfg, 0, a);
}

static vc_status open_synthesiser(vc_assistant *a, const vc_config *cfg, vc_speak_mode mode,
                                  const char *wav_dir, vc_synthesiser **out)
{
    vc_synthesiser_config sc = {
        .mode = mode,
        .wav_dir = wav_dir,
        .output_device = cfg->output_device,
    };
    vc_assistant_voice(a, cfg, &sc);
    return vc_synthesiser_new(&sc, out);
}

/* The project's own pronunciations, when the models folder has them: buf,
 * else NULL. */
static const char *project_lexicon(char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "%s/lexicon.dict", vc_models_dir());

    return len > 0 && (size_t)len < cap && file_exists(buf) ? buf : NULL;
}

/* The decoder for the assistant's pack and catalog, with the project's own
 * pronunciations. Loaded once per process: every file of a command is
 * decoded by it. `transcribe` measures every transcript's confidence; the
 * other commands decode as the device does (recogniser.h). */
static vc_status open_recogniser(vc_assistant *a, vc_confidence_pass confidence,
                                 vc_recogniser **out)
{
    vc_recogniser_config rcfg = {.confidence = confidence};
    char lexicon[1024];
    rcfg.lexicon = project_lexicon(lexicon, sizeof lexicon);
    return vc_recogniser_new(&rcfg, vc_assistant_understander(a), out);
}

static vc_audio_read_options read_options(const options *o)
{
    vc_audio_read_options ro = {.raw_rate = o->raw_rate};
    return ro;
}

/* A JSON string literal of s ("\"name\"" with escapes); NULL without memory. */
static char *json_quote(const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *out = str ? cJSON_PrintUnformatted(str) : NULL;

    cJSON_Delete(str);
    return out;
}

/* ---- understand ----------------------------------------------------------- */

static void print_understanding(const vc_understanding *u, int json)
{
    if (json) {
        char *line = vc_understanding_to_json(u);
        if (line) {
            puts(line);
            free(line);
        }
        return;
    }
    printf("%s  (%.2f)", u->intent ? u->intent : "(rejected)", u->confidence);
    for (size_t i = 0; i < u->n_slots; i++)
        printf("  %s=%s [%s]", u->slots[i].name, u->slots[i].value, u->slots[i].text);
    printf("  <- \"%s\"\n", u->text ? u->text : "");
}

/* One input that could not be understood at all: a line on stderr, and in
 * JSON mode its object of the output contract (intent null) with an "error",
 * so that a reader still gets one object per input. file names an audio
 * input; NULL for text. */
static void print_input_error(int json, const char *file, const char *where, const char *why)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        char *line = NULL;
        /* cJSON escapes quotes and control characters a file name may hold. */
        if (o && (!file || cJSON_AddStringToObject(o, "file", file)) &&
            cJSON_AddNullToObject(o, "text") && cJSON_AddNullToObject(o, "intent") &&
            cJSON_AddNumberToObject(o, "confidence", 0) && cJSON_AddArrayToObject(o, "slots") &&
            cJSON_AddStringToObject(o, "error", why))
            line = cJSON_PrintUnformatted(o);
        if (line)
            puts(line);
        free(line);
        cJSON_Delete(o);
    }
    if (file && !json)
        printf("%s: %s\n", file, why);
    else if (!file)
        fprintf(stderr, "voxcart: understand: %s: %s\n", where, why);
}

/* where names the input in errors ("--text 2", "notes.txt:7"). The
 * understander rejects over-long text as it should; here the person who
 * typed it is told why instead of seeing a bare rejection. */
static int understand_one(vc_understander *und, const char *text, int json, const char *where)
{
    vc_understanding u = {0};
    size_t len = strlen(text);
    char why[128];

    if (len > VC_UTTERANCE_MAX_BYTES) {
        snprintf(why, sizeof why, "%zu bytes, longer than the limit of %d bytes", len,
                 VC_UTTERANCE_MAX_BYTES);
        print_input_error(json, NULL, where, why);
        return 1;
    }
    if (!vc_utf8_valid(text, len)) {
        print_input_error(json, NULL, where, "not UTF-8 text");
        return 1;
    }
    if (vc_understand(und, text, &u) != VC_OK)
        return fail("understand");
    print_understanding(&u, json);
    vc_understanding_clear(&u);
    return 0;
}

/* Each non-blank line of path is one input. A file that is not text (a NUL
 * byte) or holds no sentence at all is an error, not a silent success. */
static int understand_text_file(vc_understander *und, const char *path, int json)
{
    char *buf = NULL, where[64];
    size_t len = 0, sentences = 0;
    int failed = 0, lineno = 0;

    if (vc_read_file(path, TEXT_FILE_MAX_BYTES, &buf, &len) != VC_OK)
        return fail("understand");
    if (strlen(buf) != len) {
        fprintf(stderr, "voxcart: understand: %s: contains a NUL byte (not a text file?)\n", path);
        free(buf);
        return 1;
    }
    for (char *line = buf, *next; line; line = next) {
        size_t n;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[n - 1] = '\0';
        if (line[strspn(line, " \t")] == '\0')
            continue;
        sentences++;
        snprintf(where, sizeof where, "%.40s:%d", path, lineno);
        failed |= understand_one(und, line, json, where);
    }
    if (sentences == 0) {
        fprintf(stderr, "voxcart: understand: %s: no sentences (the file is empty or blank)\n",
                path);
        failed = 1;
    }
    free(buf);
    return failed;
}

static int is_audio_path(const char *arg)
{
    const char *dot = strrchr(arg, '.');
    static const char *const exts[] = {".wav", ".flac", ".ogg", ".raw", ".mp3", ".aiff"};

    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

/* The contract object of one recording, with "file" first. */
static void print_audio_understanding(const char *file, const vc_understanding *u, int json)
{
    char *contract, *quoted;

    if (!json) {
        printf("%s: ", file);
        print_understanding(u, 0);
        return;
    }
    contract = vc_understanding_to_json(u);
    quoted = json_quote(file);
    if (contract && quoted && contract[0] == '{')
        printf("{\"file\":%s,%s\n", quoted, contract + 1);
    else
        fprintf(stderr, "voxcart: understand: %s: out of memory writing the result\n", file);
    free(quoted);
    free(contract);
}

/* Reads, decodes and understands each audio file with one recogniser. A
 * file that cannot be read gets its error object and the next one is
 * heard; the result says whether any failed. */
static int understand_audio_files(const options *o, vc_assistant *a, int argc, char **argv)
{
    vc_audio_read_options ro = read_options(o);
    vc_understander *und = vc_assistant_understander(a);
    vc_recogniser *rec = NULL;
    int failed = 0, any_audio = 0;

    for (int i = 0; i < argc; i++)
        any_audio |= is_audio_path(argv[i]);
    /* the model is loaded only when there is something for it to hear */
    if (any_audio && open_recogniser(a, VC_CONFIDENCE_FOR_ANSWERS, &rec) != VC_OK)
        return fail("understand: loading the recogniser");
    for (int i = 0; i < argc; i++) {
        vc_audio audio = {0};
        vc_transcript t = {0};
        vc_understanding u = {0};
        if (!is_audio_path(argv[i])) {
            print_input_error(o->json, argv[i], argv[i], "not an audio file name");
            failed = 1;
            continue;
        }
        if (vc_audio_read_file(argv[i], &ro, &audio) != VC_OK ||
            vc_recogniser_decode(rec, audio.samples, audio.n, &t) != VC_OK) {
            print_input_error(o->json, argv[i], argv[i], vc_error_detail());
            failed = 1;
        } else if (vc_transcript_understand(und, &t, &u) != VC_OK) {
            failed |= fail("understand");
        } else {
            print_audio_understanding(argv[i], &u, o->json);
        }
        fflush(stdout);
        vc_understanding_clear(&u);
        vc_transcript_clear(&t);
        vc_audio_clear(&audio);
    }
    vc_recogniser_free(rec);
    return failed;
}

static int cmd_understand(const options *o, int argc, char **argv)
{
    vc_assistant *a = NULL;
    vc_understander *und;
    vc_config cfg;
    char where[32];
    int failed = 0;

    if (o->n_texts == 0 && !o->text_file && argc == 0) {
        fprintf(stderr, "voxcart understand: give --text, --text-file or audio files\n");
        return 2;
    }
    if (open_assistant_offline(o, &cfg, &a) != VC_OK)
        return fail("understand");
    und = vc_assistant_understander(a);

    for (size_t i = 0; i < o->n_texts; i++) {
        snprintf(where, sizeof where, "--text %zu", i + 1);
        failed |= understand_one(und, o->texts[i], o->json, where);
    }
    if (o->text_file)
        failed |= understand_text_file(und, o->text_file, o->json);
    if (argc > 0)
        failed |= understand_audio_files(o, a, argc, argv);
    vc_assistant_free(a);
    return failed;
}

/* ---- transcribe and eval ----------------------------------------------------- */

static void print_transcript(const char *file, const vc_transcript *t, int json)
{
    cJSON *obj, *words;
    char *line = NULL;

    if (!json) {
        char confidence[32] = "not measured";
        if (t->confidence_measured || !t->n_words)
            snprintf(confidence, sizeof confidence, "%.2f", t->confidence);
        printf("%s: \"%s\"  confidence %s, %.2f s of audio decoded in %.3f s\n", file, t->text,
               confidence, t->audio_seconds, t->decode_seconds);
        for (size_t i = 0; i < t->n_words; i++)
            printf("  %7.2f %7.2f  %s\n", t->words[i].start, t->words[i].end, t->words[i].word);
        return;
    }
    obj = cJSON_CreateObject();
    if (obj && cJSON_AddStringToObject(obj, "file", file) &&
        cJSON_AddStringToObject(obj, "text", t->text ? t->text : "") &&
        (t->confidence_measured || !t->n_words
             ? cJSON_AddNumberToObject(obj, "confidence", t->confidence) != NULL
             : cJSON_AddNullToObject(obj, "confidence") != NULL) &&
        (words = cJSON_AddArrayToObject(obj, "words")) != NULL) {
        size_t i;
        for (i = 0; i < t->n_words; i++) {
            cJSON *w = cJSON_CreateObject();
            if (!w)
                break;
            cJSON_AddItemToArray(words, w);
            if (!cJSON_AddStringToObject(w, "word", t->words[i].word) ||
                !cJSON_AddNumberToObject(w, "start", t->words[i].start) ||
                !cJSON_AddNumberToObject(w, "end", t->words[i].end))
                break;
        }
        if (i == t->n_words && cJSON_AddNumberToObject(obj, "audio_seconds", t->audio_seconds) &&
            cJSON_AddNumberToObject(obj, "decode_seconds", t->decode_seconds))
            line = cJSON_PrintUnformatted(obj);
    }
    if (line)
        puts(line);
    else
        fprintf(stderr, "voxcart: transcribe: %s: out of memory writing the result\n", file);
    free(line);
    cJSON_Delete(obj);
}

static void print_transcribe_error(const char *file, const char *why, int json)
{
    cJSON *obj;
    char *line = NULL;

    if (!json) {
        printf("%s: %s\n", file, why);
        return;
    }
    obj = cJSON_CreateObject();
    if (obj && cJSON_AddStringToObject(obj, "file", file) && cJSON_AddNullToObject(obj, "text") &&
        cJSON_AddStringToObject(obj, "error", why))
        line = cJSON_PrintUnformatted(obj);
    if (line)
        puts(line);
    free(line);
    cJSON_Delete(obj);
}

static int cmd_transcribe(const options *o, int argc, char **argv)
{
    vc_audio_read_options ro = read_options(o);
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_config cfg;
    int failed = 0;

    if (argc == 0) {
        fprintf(stderr, "voxcart transcribe: give one or more audio files\n");
        return 2;
    }
    if (open_assistant_offline(o, &cfg, &a) != VC_OK)
        return fail("transcribe");
    if (open_recogniser(a, o->no_confidence ? VC_CONFIDENCE_NEVER : VC_CONFIDENCE_ALWAYS,
                        &rec) != VC_OK) {
        failed = fail("transcribe: loading the recogniser");
        goto out_free_assistant;
    }
    for (int i = 0; i < argc; i++) {
        vc_audio audio = {0};
        vc_transcript t = {0};
        if (vc_audio_read_file(argv[i], &ro, &audio) != VC_OK ||
            vc_recogniser_decode(rec, audio.samples, audio.n, &t) != VC_OK) {
            print_transcribe_error(argv[i], vc_error_detail(), o->json);
            failed = 1;
        } else {
            print_transcript(argv[i], &t, o->json);
        }
        fflush(stdout);
        vc_transcript_clear(&t);
        vc_audio_clear(&audio);
    }
    vc_recogniser_free(rec);
out_free_assistant:
    vc_assistant_free(a);
    return failed;
}

static int cmd_eval(const options *o, int argc, char **argv)
{
    vc_audio_read_options ro = read_options(o);
    vc_eval_options eo = {0};
    vc_eval *e = NULL;
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_config cfg;
    int bad_input = 0, ret = 1;

    if (argc != 1 || !o->labels) {
        fprintf(stderr, "usage: voxcart eval --labels labels.json DIR [--noise N.wav --snr "
                        "clean,24,12] [--seed S] [--limit N] [--json]\n");
        return 2;
    }
    eo.labels_path = o->labels;
    eo.dir = argv[0];
    eo.noise_path = o->noise;
    eo.seed = o->seed;
    eo.limit = o->limit;
    eo.json = o->json;
    eo.read_options = &ro;
    if (o->snr && vc_eval_parse_conditions(o->snr, &eo) != VC_OK) {
        fail("eval");
        return 2;
    }
    if (o->noise && !o->snr) {
        fprintf(stderr, "voxcart eval: --noise needs --snr (say which levels to test)\n");
        return 2;
    }
    if (vc_eval_new(&eo, &e) != VC_OK)
        return fail("eval");
    if (open_assistant_offline(o, &cfg, &a) != VC_OK) {
        ret = fail("eval");
        goto out_free_eval;
    }
    if (open_recogniser(a, VC_CONFIDENCE_FOR_ANSWERS, &rec) != VC_OK) {
        ret = fail("eval: loading the recogniser");
        goto out_free_assistant;
    }
    if (vc_eval_run(e, rec, vc_assistant_understander(a), &bad_input) != VC_OK) {
        ret = fail("eval");
        goto out_free_recogniser;
    }
    ret = bad_input;
out_free_recogniser:
    vc_recogniser_free(rec);
out_free_assistant:
    vc_assistant_free(a);
out_free_eval:
    vc_eval_free(e);
    return ret;
}

/* ---- listen ------------------------------------------------------------------ */

/* Blocks a file source hands out: 20 ms, about what a capture read returns. */
#define LISTEN_FILE_BLOCK 320

static double stream_seconds(uint64_t samples)
{
    return (double)samples / VC_AUDIO_RATE;
}

/* One utterance heard: the understanding (the output contract in JSON, with
 * "file" first for a file and the listener's outcome and timings after). */
static void print_listen_result(const char *file, const vc_listener_result *r, int json)
{
    const char *outcome = vc_listen_outcome_name(r->outcome);

    if (!json) {
        if (file)
            printf("%s: ", file);
        if (r->outcome == VC_LISTEN_TIMED_OUT) {
            printf("(no speech)\n");
            return;
        }
        print_understanding(&r->understanding, 0);
        printf("  end of speech at %.2f s; result %.3f s later (%.3f s of silence waited, "
               "%.3f s of work%s)%s\n",
               stream_seconds(r->speech_end), r->latency_seconds,
               stream_seconds(r->decided_at - r->speech_end), r->result_wall_seconds,
               r->smart_eou ? ", smart end of utterance" : "",
               r->outcome == VC_LISTEN_MAX_LENGTH ? " [cut at the longest utterance]" : "");
        return;
    }
    char *contract = vc_understanding_to_json(&r->understanding);
    char *quoted = file ? json_quote(file) : NULL;
    size_t len = contract ? strlen(contract) : 0;
    if (len < 2 || contract[0] != '{' || contract[len - 1] != '}' || (file && !quoted)) {
        fprintf(stderr, "voxcart: listen: out of memory writing the result\n");
    } else {
        /* the contract's members, then the listener's */
        printf("{%s%s%s\"outcome\":\"%s\",%.*s,\"speech_end\":%.3f,\"latency\":%.3f,"
               "\"result_seconds\":%.4f,\"result_cpu_seconds\":%.4f,\"smart_eou\":%s,"
               "\"redecodes\":%d}\n",
               file ? "\"file\":" : "", file ? quoted : "", file ? "," : "", outcome, (int)(len - 2),
               contract + 1, stream_seconds(r->speech_end), r->latency_seconds,
               r->result_wall_seconds, r->result_cpu_seconds, r->smart_eou ? "true" : "false",
               r->redecodes);
    }
    free(quoted);
    free(contract);
}

/* What starts each utterance, and what notices it (owned here). */
typedef struct {
    unsigned modes;   /* VC_TRIGGER_* bits; 0: always */
    const char *text; /* the setting, for messages */
    const char *phrase;
    vc_wakeword *wake;
    vc_button *button;
} listen_trigger;

/* The trigger as --trigger (checked by cmd_listen) or the config says:
 * the pack's wake phrase spotter, Enter on standard input as the button. */
static int open_trigger(const options *o, const vc_config *cfg, vc_assistant *a, int files,
                        listen_trigger *t)
{
    const vc_pack *pack = vc_assistant_pack(a);
    int always = o->trigger ? strcmp(o->trigger, "always") == 0 : files;
    char lexicon[1024];

    memset(t, 0, sizeof *t);
    t->text = o->trigger ? o->trigger : files ? "always" : cfg->trigger;
    if (!always && vc_trigger_parse(t->text, &t->modes) != VC_OK)
        return fail(o->trigger ? "listen: --trigger" : "listen: [audio] trigger");
    if (t->modes & VC_TRIGGER_WAKE_WORD) {
        vc_wakeword_config wc = {
            .phrase = vc_pack_setting(pack, "wake_phrase"),
            .threshold = o->wake_threshold,
            .phone_loop_prob = o->wake_phone_loop,
            .lexicon = project_lexicon(lexicon, sizeof lexicon),
        };
        if (!wc.phrase) {
            fprintf(stderr, "voxcart: listen: the %s pack has no wake_phrase (pack.ini); use "
                            "--trigger push_to_talk or always\n",
                    vc_pack_name(pack));
            return 1;
        }
        if (vc_wakeword_new(&wc, &t->wake) != VC_OK)
            return fail("listen: the wake word");
        t->phrase = vc_wakeword_phrase(t->wake);
    }
    if ((t->modes & VC_TRIGGER_PUSH_TO_TALK) &&
        vc_button_new_keys(STDIN_FILENO, &t->button) != VC_OK)
        return fail("listen: the push-to-talk button");
    return 0;
}

static void close_trigger(listen_trigger *t)
{
    vc_wakeword_free(t->wake);
    vc_button_free(t->button);
    memset(t, 0, sizeof *t);
}

/* The trigger fired: a line before the utterance it starts. */
static void print_woke(const char *file, const vc_listener_result *r, int json)
{
    char *quoted = file ? json_quote(file) : NULL;

    if (file && !quoted) {
        fprintf(stderr, "voxcart: listen: out of memory writing the result\n");
    } else if (json) {
        printf("{%s%s%s\"event\":\"woke\",\"by\":\"%s\",\"at\":%.3f}\n",
               file ? "\"file\":" : "", file ? quoted : "", file ? "," : "",
               vc_trigger_name(r->woke_by), stream_seconds(r->woke_at));
    } else {
        printf("%s%swoke: %s at %.2f s\n", file ? file : "", file ? ": " : "",
               vc_trigger_name(r->woke_by), stream_seconds(r->woke_at));
    }
    free(quoted);
}

/* A file that ended without the trigger ever firing: said, so that its
 * silence is not mistaken for an order nobody understood. */
static void print_not_woken(const char *file, const listen_trigger *t, int json)
{
    char *quoted = json_quote(file), *trigger = json_quote(t->text);

    if (!quoted || !trigger)
        fprintf(stderr, "voxcart: listen: out of memory writing the result\n");
    else if (json)
        printf("{\"file\":%s,\"event\":\"not_woken\",\"trigger\":%s}\n", quoted, trigger);
    else
        printf("%s: not woken (trigger: %s)\n", file, t->text);
    free(quoted);
    free(trigger);
}

/* Listens to src until it ends or *left utterances have been heard (0:
 * no limit); counts them off *left. */
static int listen_stream(const options *o, vc_listener *l, const vc_listener_source *src,
                         const listen_trigger *t, const char *file, unsigned long long *left)
{
    int woken = 0;

    for (;;) {
        vc_listener_result r;
        if (vc_listener_listen(l, src, &r) != VC_OK)
            return fail(file ? file : "listen");
        vc_listen_outcome outcome = r.outcome;
        if (outcome == VC_LISTEN_WOKE) {
            woken = 1;
            print_woke(file, &r, o->json);
        } else if (outcome == VC_LISTEN_END_OF_AUDIO) {
            if (t->modes && !woken && file)
                print_not_woken(file, t, o->json);
        } else {
            print_listen_result(file, &r, o->json);
        }
        fflush(stdout);
        vc_listener_result_clear(&r);
        if (outcome == VC_LISTEN_END_OF_AUDIO)
            return 0;
        if (outcome != VC_LISTEN_TIMED_OUT && outcome != VC_LISTEN_WOKE && *left &&
            --*left == 0)
            return 0;
    }
}

static int listen_files(const options *o, const vc_listener_config *lc, const listen_trigger *t,
                        vc_recogniser *rec, vc_understander *und, int argc, char **argv)
{
    vc_audio_read_options ro = read_options(o);
    unsigned long long left = o->count;
    int failed = 0;

    for (int i = 0; i < argc; i++) {
        vc_audio audio = {0};
        vc_listener *l = NULL;
        vc_listener_memory m;
        vc_listener_source src;
        /* each file is a stream of its own: a new listener */
        if (vc_audio_read_file(argv[i], &ro, &audio) != VC_OK) {
            print_input_error(o->json, argv[i], argv[i], vc_error_detail());
            failed = 1;
            continue;
        }
        if (vc_listener_new(lc, rec, und, &l) != VC_OK) {
            vc_audio_clear(&audio);
            return fail("listen");
        }
        vc_listener_memory_source(&m, audio.samples, audio.n, LISTEN_FILE_BLOCK, &src);
        failed |= listen_stream(o, l, &src, t, argv[i], &left);
        vc_listener_free(l);
        vc_audio_clear(&audio);
        if (o->count && left == 0)
            break;
    }
    return failed;
}

static int listen_device(const options *o, const vc_config *cfg, const vc_listener_config *lc,
                         const listen_trigger *t, vc_recogniser *rec, vc_understander *und)
{
    vc_capture_config cc = {
        .device = o->device ? o->device : cfg->input_device,
        .rate = o->rate ? o->rate : cfg->sample_rate,
    };
    vc_capture *c = NULL;
    vc_listener *l = NULL;
    vc_listener_source src;
    unsigned long long left = o->count;
    int ret = 1;

    if (vc_capture_new(&cc, &c) != VC_OK)
        return fail("listen: opening the input device");
    if (vc_listener_new(lc, rec, und, &l) != VC_OK) {
        ret = fail("listen");
        goto out_free_capture;
    }
    if (vc_capture_start(c) != VC_OK) {
        ret = fail("listen: starting the input device");
        goto out_free_listener;
    }
    if (o->json)
        printf("{\"event\":\"listening\",\"device_rate\":%d}\n", vc_capture_device_rate(c));
    else
        printf("listening (device at %d Hz)%s%s%s%s%s\n", vc_capture_device_rate(c),
               t->modes ? " for " : "", t->phrase ? "\"" : "", t->phrase ? t->phrase : "",
               t->phrase ? "\"" : "",
               t->button ? (t->phrase ? " or Enter" : "Enter") : "");
    fflush(stdout);
    if (o->exit_when_ready) {
        ret = 0;
        goto out_free_listener;
    }
    vc_listener_capture_source(c, &src);
    ret = listen_stream(o, l, &src, t, NULL, &left);
out_free_listener:
    vc_listener_free(l);
out_free_capture:
    vc_capture_free(c);
    return ret;
}

/* The board's clean-up ([dsp]) as the listener takes it: NULL when it is
 * all off, so that speexdsp is not run for nothing. */
static const vc_dsp_config *dsp_settings(const vc_config *cfg, vc_dsp_config *dc)
{
    if (!cfg->denoise && !cfg->agc)
        return NULL;
    vc_dsp_config_defaults(dc);
    dc->denoise = cfg->denoise;
    dc->noise_suppress_db = cfg->noise_suppress_db;
    dc->agc = cfg->agc;
    dc->agc_level = cfg->agc_level;
    dc->agc_max_gain_db = cfg->agc_max_gain_db;
    return dc;
}

static int cmd_listen(const options *o, int argc, char **argv)
{
    vc_listener_config lc;
    vc_dsp_config dc;
    listen_trigger t = {0};
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_config cfg;
    unsigned modes;
    int ret;

    if (argc > 0 && (o->device || o->rate)) {
        fprintf(stderr, "voxcart listen: --device and --rate are for a device, not files\n");
        return 2;
    }
    if (o->trigger && strcmp(o->trigger, "always") != 0 &&
        vc_trigger_parse(o->trigger, &modes) != VC_OK) {
        fprintf(stderr, "voxcart listen: --trigger: %s, or always\n", vc_error_detail());
        return 2;
    }
    vc_listener_config_defaults(&lc);
    if (o->smart_eou_ms >= 0)
        lc.smart_eou_ms = o->smart_eou_ms;
    if (open_assistant_offline(o, &cfg, &a) != VC_OK)
        return fail("listen");
    lc.dsp = dsp_settings(&cfg, &dc);
    if (open_recogniser(a, VC_CONFIDENCE_FOR_ANSWERS, &rec) != VC_OK) {
        ret = fail("listen: loading the recogniser");
        goto out_free_assistant;
    }
    /* loaded before "ready": a device is not ready until it can wake */
    if ((ret = open_trigger(o, &cfg, a, argc > 0, &t)) != 0)
        goto out_free_trigger;
    lc.trigger = t.modes;
    lc.wake = t.wake;
    lc.button = t.button;
    if (argc > 0)
        ret = o->exit_when_ready
                  ? 0
                  : listen_files(o, &lc, &t, rec, vc_assistant_understander(a), argc, argv);
    else
        ret = listen_device(o, &cfg, &lc, &t, rec, vc_assistant_understander(a));
out_free_trigger:
    close_trigger(&t);
    vc_recogniser_free(rec);
out_free_assistant:
    vc_assistant_free(a);
    return ret;
}

/* ---- conversations --------------------------------------------------------- */

typedef struct {
    vc_assistant *assistant;
    vc_synthesiser *voice; /* NULL: print only */
    int show_understanding;
    /* conversation metrics (commerce/metrics.h); NULL: none kept (demo) */
    vc_store *metrics;
    const char *customer;
    const char *session; /* `ask`'s, so that the next call goes on with it */
    int64_t metrics_id;  /* the open conversation; 0: none */
} conversation;

/* Metrics are best-effort: a failure is said and the conversation goes on. */
static void metrics_failed(const char *what)
{
    fprintf(stderr, "voxcart: metrics: %s: %s\n", what, vc_error_detail());
}

static void metrics_end(conversation *c, vc_metrics_outcome outcome)
{
    if (!c->metrics || !c->metrics_id)
        return;
    if (vc_metrics_conversation_end(c->metrics, c->metrics_id, outcome) != VC_OK)
        metrics_failed("ending the conversation");
    c->metrics_id = 0;
}

/* A typed turn: the conversation begins with its first turn and ends when
 * the dialog says it is over or hands it to a person. No response time: the
 * text path has no end of speech. */
static void metrics_turn(conversation *c, const vc_understanding *u, const vc_turn *t)
{
    vc_metrics_turn mt = {.intent = u->intent, .response_ms = -1, .speech_ms = -1};

    if (!c->metrics)
        return;
    if (!c->metrics_id) {
        vc_metrics_conversation mc = {
            .domain = vc_pack_name(vc_assistant_pack(c->assistant)),
            .started_by = "text",
            .customer = c->customer && c->customer[0] ? c->customer : NULL,
            .session = c->session,
        };
        if (vc_metrics_conversation_begin(c->metrics, &mc, &c->metrics_id) != VC_OK) {
            metrics_failed("beginning a conversation");
            return;
        }
    }
    if (vc_metrics_add_turn(c->metrics, c->metrics_id, &mt) != VC_OK)
        metrics_failed("recording the turn");
    if (t->order_placed && t->order_number)
        if (vc_metrics_add_store_order(c->metrics, c->metrics_id, c->customer,
                                       t->order_number) != VC_OK)
            metrics_failed("recording the order");
    if (t->handover && vc_metrics_add_handover(c->metrics, c->metrics_id) != VC_OK)
        metrics_failed("recording the hand-over");
    if (t->handover)
        metrics_end(c, VC_OUTCOME_HANDED_OVER);
    else if (t->finished)
        metrics_end(c, t->order_placed || t->order_queued ? VC_OUTCOME_COMPLETED
                                                          : VC_OUTCOME_CANCELLED);
}

/* Prints reply and speaks its spoken form (speech; NULL: reply). */
static void say(conversation *c, const char *reply, const char *speech)
{
    char *wav = NULL;

    printf("voxcart> %s\n", reply);
    if (c->voice) {
        if (vc_synthesiser_speak(c->voice, speech ? speech : reply, &wav) != VC_OK)
            fprintf(stderr, "voxcart: speaking failed: %s\n", vc_error_detail());
        else if (wav)
            printf("          (spoken to %s)\n", wav);
        free(wav);
    }
    fflush(stdout);
}

/* One customer turn: understand, run the dialog, answer. */
static int turn(conversation *c, const char *text, int *finished)
{
    vc_understanding u = {0};
    vc_turn t = {0};

    if (vc_understand(vc_assistant_understander(c->assistant), text, &u) != VC_OK)
        return fail("understand");
    if (c->show_understanding) {
        printf("          [");
        print_understanding(&u, 0);
    }
    if (vc_dialog_turn(vc_assistant_dialog(c->assistant), &u, &t) != VC_OK) {
        vc_understanding_clear(&u);
        metrics_end(c, VC_OUTCOME_ERROR);
        return fail("dialog");
    }
    metrics_turn(c, &u, &t);
    say(c, t.reply, t.speech);
    if (t.order_placed)
        printf("          (order %s placed)\n", t.order_number ? t.order_number : "?");
    if (t.order_queued)
        printf("          (order queued: it is sent when the backend answers)\n");
    if (t.handover)
        printf("          (hand-over to a person recorded)\n");
    if (finished)
        *finished = t.finished;
    vc_turn_clear(&t);
    vc_understanding_clear(&u);
    return 0;
}

static int cmd_ask(const options *o, int argc, char **argv)
{
    const char *session = o->session ? o->session : "cli";
    conversation c = {0};
    char *state = NULL;
    vc_config cfg;
    vc_status rc;
    int ret = 1;

    if (argc != 1) {
        fprintf(stderr, "voxcart ask: give one sentence in quotes\n");
        return 2;
    }
    if (open_assistant(o, &cfg, &c.assistant) != VC_OK)
        return fail("ask");
    if (o->speak && open_synthesiser(c.assistant, &cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
                                     o->wav_dir ? o->wav_dir : "voxcart-replies", &c.voice) != VC_OK) {
        ret = fail("speech");
        goto out;
    }
    c.metrics = vc_assistant_store(c.assistant);
    c.customer = cfg.customer_id;
    c.session = session;
    rc = vc_metrics_open_conversation(c.metrics, session, &c.metrics_id);
    if (rc != VC_OK && rc != VC_ENOTFOUND)
        metrics_failed("finding the session's conversation");
    if (o->new_session)
        metrics_end(&c, VC_OUTCOME_ABANDONED);
    if (!o->new_session) {
        rc = vc_store_session_get(vc_assistant_store(c.assistant), session, &state);
        if (rc == VC_OK && vc_dialog_restore(vc_assistant_dialog(c.assistant), state) != VC_OK)
            fprintf(stderr, "voxcart: the saved conversation was unreadable; starting anew (%s)\n",
                    vc_error_detail());
        else if (rc != VC_OK && rc != VC_ENOTFOUND) {
            ret = fail("ask");
            goto out;
        }
        free(state);
        state = NULL;
    }
    if (turn(&c, argv[0], NULL) != 0)
        goto out;
    if (vc_dialog_save(vc_assistant_dialog(c.assistant), &state) != VC_OK ||
        vc_store_session_put(vc_assistant_store(c.assistant), session, state) != VC_OK) {
        ret = fail("saving the conversation");
        goto out;
    }
    ret = 0;
out:
    free(state);
    vc_synthesiser_free(c.voice);
    vc_assistant_free(c.assistant);
    return ret;
}

/* A line longer than a sentence may be is answered, said on stderr and
 * skipped; the conversation goes on, and the exit status says that some
 * input was refused. */
static int cmd_chat(const options *o)
{
    conversation c = {0};
    char line[VC_UTTERANCE_MAX_BYTES + 3]; /* a longest sentence, CR LF, NUL */
    char *greeting = NULL;
    int interactive = isatty(STDIN_FILENO);
    int lineno = 0, refused = 0;
    vc_config cfg;
    int ret = 1;

    if (open_assistant(o, &cfg, &c.assistant) != VC_OK)
        return fail("chat");
    if (o->speak && open_synthesiser(c.assistant, &cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
                                     o->wav_dir ? o->wav_dir : "voxcart-replies", &c.voice) != VC_OK) {
        ret = fail("speech");
        goto out;
    }
    if (vc_dialog_greeting(vc_assistant_dialog(c.assistant), &greeting) != VC_OK) {
        ret = fail("dialog");
        goto out;
    }
    c.metrics = vc_assistant_store(c.assistant);
    c.customer = cfg.customer_id;
    say(&c, greeting, NULL);
    for (;;) {
        size_t n;
        if (interactive) {
            fputs("you> ", stdout);
            fflush(stdout);
        }
        if (!fgets(line, sizeof line, stdin))
            break;
        lineno++;
        n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (strlen(line) > VC_UTTERANCE_MAX_BYTES) {
            printf("voxcart> That was too long for me. Could you say it shorter?\n");
            fflush(stdout);
            fprintf(stderr, "voxcart: chat: line %d is longer than the limit of %d bytes; "
                            "ignored\n", lineno, VC_UTTERANCE_MAX_BYTES);
            refused = 1;
            continue;
        }
        if (line[strspn(line, " \t")] == '\0')
            continue;
        if (!interactive)
            printf("you> %s\n", line);
        if (turn(&c, line, NULL) != 0)
            goto out;
    }
    if (ferror(stdin)) {
        fprintf(stderr, "voxcart: chat: cannot read standard input\n");
        goto out;
    }
    ret = refused;
out:
    /* the customer walked away from an unfinished conversation */
    metrics_end(&c, VC_OUTCOME_ABANDONED);
    free(greeting);
    vc_synthesiser_free(c.voice);
    vc_assistant_free(c.assistant);
    return ret;
}

/* The embedded defaults' main job, until the live device loop lands: a
 * short scripted conversation through the whole text path, in a fresh store
 * so that it says the same thing every time it runs. */
static const char *const demo_retail[] = {
    "um can you reorder coffee filters",
    "yes please",
    "where is my order",
    "do you have waterproof winter jackets under two hundred dollars",
    "the second one",
    "no thanks",
    "what's the status of order eight oh two",
    "I'd like to talk to a person",
};
static const char *const demo_cafe[] = {
    "hi can I get a large latte with a little bit of sugar",
    "yes",
    "and um a twelve ounce dark roast drip coffee with some skim milk",
    "no",
    "cancel",
};

static int cmd_demo(const options *o)
{
    char dir[] = "/tmp/voxcart-demo-XXXXXX";
    char store[64], wavs[64];
    const char *const *script;
    size_t n_script;
    options demo = *o;
    conversation c = {0};
    char *greeting = NULL;
    vc_config cfg;
    int ret = 1;

    if (!mkdtemp(dir)) {
        perror("voxcart demo: mkdtemp");
        return 1;
    }
    snprintf(store, sizeof store, "%s/store.db", dir);
    snprintf(wavs, sizeof wavs, "%s/replies", dir);
    if (!demo.store && !demo.catalog)
        demo.store = store;
    if (open_assistant(&demo, &cfg, &c.assistant) != VC_OK)
        return fail("demo");
    if (open_synthesiser(c.assistant, &cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
                         o->wav_dir ? o->wav_dir : wavs, &c.voice) != VC_OK) {
        ret = fail("speech");
        goto out;
    }
    c.show_understanding = 1;
    if (strcmp(vc_pack_name(vc_assistant_pack(c.assistant)), "cafe") == 0) {
        script = demo_cafe;
        n_script = sizeof demo_cafe / sizeof demo_cafe[0];
    } else {
        script = demo_retail;
        n_script = sizeof demo_retail / sizeof demo_retail[0];
    }
    printf("voxcart %s demo: domain %s, store %s\n\n", VC_VERSION,
           vc_pack_name(vc_assistant_pack(c.assistant)), demo.store ? demo.store : demo.catalog);
    if (vc_dialog_greeting(vc_assistant_dialog(c.assistant), &greeting) != VC_OK) {
        ret = fail("dialog");
        goto out;
    }
    say(&c, greeting, NULL);
    for (size_t i = 0; i < n_script; i++) {
        printf("\ncustomer> %s\n", script[i]);
        if (turn(&c, script[i], NULL) != 0)
            goto out;
    }
    ret = 0;
out:
    free(greeting);
    vc_synthesiser_free(c.voice);
    vc_assistant_free(c.assistant);
    return ret;
}

static int cmd_catalog(const options *o, int argc, char **argv)
{
    vc_assistant *a = NULL;
    vc_config cfg;
    size_t count = 0;
    int ret = 1;

    if (argc != 2 || strcmp(argv[0], "import") != 0) {
        fprintf(stderr, "usage: voxcart catalog import FILE.json\n");
        return 2;
    }
    if (o->catalog) {
        /* --catalog reads a file into a private, throw-away store */
        fprintf(stderr, "voxcart catalog import: --catalog cannot be combined with an import "
                        "(use --store to choose the store)\n");
        return 2;
    }
    if (open_assistant_offline(o, &cfg, &a) != VC_OK) {
        ret = fail("catalog import");
        goto out;
    }
    /* Streamed into one transaction: a bad file rolls back, the old catalog
     * stays. */
    if (vc_store_import_catalog_file(vc_assistant_store(a), argv[1]) != VC_OK ||
        vc_store_product_count(vc_assistant_store(a), &count) != VC_OK ||
        vc_assistant_reload_catalog(a) != VC_OK) {
        ret = fail("catalog import");
        goto out;
    }
    printf("imported %zu products from %s\n", count, argv[1]);
    ret = 0;
out:
    vc_assistant_free(a);
    return ret;
}

/* ---- the merchant backend ----------------------------------------------------- */

/* Wall-clock milliseconds: outbox retry times are stored and outlive the
 * process. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_register(const options *o)
{
    vc_identity id;
    vc_config cfg;

    if (load_config(o, &cfg) != VC_OK || vc_link_register(&cfg, &id) != VC_OK)
        return fail("register");
    printf("registered %s with %s for customer %s; certificate %s valid until %s\n",
           id.device_id, cfg.backend_url, id.customer_id, id.cert_path, id.not_after);
    return 0;
}

/* One round of everything the device keeps in step with its backend; what
 * failed is reported, what worked is kept (each step is its own
 * transaction). */
static int cmd_sync(const options *o)
{
    vc_assistant *a = NULL;
    vc_link *l = NULL;
    vc_config cfg;
    int sent = 0, events = 0, changed = 0, ret = 0;
    int64_t due;
    long long version = 0;
    vc_status rc;

    if (o->catalog) {
        fprintf(stderr, "voxcart sync: --catalog uses a throw-away store (use --store)\n");
        return 2;
    }
    if (open_assistant_offline(o, &cfg, &a) != VC_OK)
        return fail("sync");
    if (vc_link_open(&cfg, vc_assistant_store(a), 0, &l) != VC_OK) {
        ret = fail("sync");
        goto out;
    }
    if ((rc = vc_sync_outbox(vc_link_sync(l), wall_ms(), &sent)) != VC_OK)
        ret = fail("sync: orders");
    else
        printf("orders: %d sent\n", sent);
    if ((rc = vc_sync_catalog(vc_link_sync(l), &changed)) != VC_OK) {
        ret = fail("sync: catalog");
    } else {
        if (vc_store_catalog_version(vc_assistant_store(a), &version) != VC_OK)
            version = 0;
        printf("catalog: version %lld%s\n", version, changed ? ", updated" : ", unchanged");
    }
    if ((rc = vc_sync_history(vc_link_sync(l), 0)) != VC_OK)
        ret = fail("sync: order history");
    else
        printf("order history: updated\n");
    if ((rc = vc_sync_events(vc_link_sync(l), &events)) != VC_OK)
        ret = fail("sync: events");
    else
        printf("events: %d sent\n", events);
    if (vc_sync_outbox_due_in(vc_link_sync(l), wall_ms(), &due) == VC_OK && due >= 0)
        printf("orders waiting: the next is due in %lld ms\n", (long long)due);
out:
    vc_link_free(l);
    vc_assistant_free(a);
    return ret;
}

/* `voxcart update ...` (update.c): needs only the configuration. */
static int cmd_update(const options *o, int argc, char **argv)
{
    vc_config cfg;

    if (load_config(o, &cfg) != VC_OK)
        return fail("update");
    return vc_cli_update(&cfg, o->force, o->apply, argc, argv);
}

/* ---- stats ------------------------------------------------------------------ */

static int cmd_stats(const options *o, int argc)
{
    vc_metrics_summary m;
    vc_assistant *a = NULL;
    vc_config cfg;
    int64_t since = 0;
    int ret;

    if (argc != 0) {
        fprintf(stderr, "usage: voxcart stats [--since DAYS] [--json]\n");
        return 2;
    }
    if (o->catalog) {
        fprintf(stderr, "voxcart stats: --catalog uses a throw-away store with no metrics "
                        "(use --store to choose the store)\n");
        return 2;
    }
    if (open_assistant_offline(o, &cfg, &a) != VC_OK)
        return fail("stats");
    if (o->since_days)
        since = (int64_t)time(NULL) - (int64_t)o->since_days * 86400;
    if (vc_metrics_summary_get(vc_assistant_store(a), since, &m) != VC_OK)
        ret = fail("stats");
    else
        ret = o->json ? vc_stats_print_json(&m, since) : (vc_stats_print(&m, since), 0);
    vc_assistant_free(a);
    return ret;
}

/* A whole decimal number from min to max, or a message and -1. */
static int parse_count(const char *text, const char *option, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
        fprintf(stderr, "voxcart: %s: '%s' is not a whole number from %llu to %llu\n", option,
                text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* A number in (0, 1] ("1e-30"), or a message and -1. vc_wakeword_new
 * checks the narrower range it accepts. */
static int parse_probability(const char *text, const char *option, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0 && v <= 1)) {
        fprintf(stderr, "voxcart: %s: '%s' is not a number above 0 and at most 1 (like 1e-20)\n",
                option, text);
        return -1;
    }
    *out = v;
    return 0;
}

static vc_status run_open(void *ctx, vc_config *cfg, vc_assistant **a)
{
    return open_assistant(ctx, cfg, a);
}

static vc_status run_load_config(void *ctx, vc_config *cfg)
{
    return load_config(ctx, cfg);
}

static int cmd_run(const options *o)
{
    char lexicon[1024];
    vc_run_options ro = {
        .open = run_open,
        .load_config = run_load_config,
        .ctx = (void *)o,
        .lexicon = project_lexicon(lexicon, sizeof lexicon),
        .mode = o->run_mode,
        .trigger = o->trigger,
        .device = o->device,
        .wav_dir = o->wav_dir,
        .json = o->json,
        .exit_when_ready = o->exit_when_ready,
    };
    return vc_cli_run(&ro);
}

/* A firmware update installs a newer voxcart into an A/B slot
 * (docs/update.md); this binary, the packaged one, hands every command but
 * `update` over to the slot `current` points at. `update` itself always
 * runs here, so that a broken update cannot stop the health check that
 * rolls it back. Without a `current` (no update, or the first one failed its
 * starts) the packaged version runs. Returns only when it does not hand
 * over. */
/* main's arguments as given (getopt reorders argv); kept for the process's
 * life */
static char **orig_argv;

static void hand_over_to_the_updated_slot(const options *o, const char *cmd)
{
    char path[400], target[PATH_MAX], self[PATH_MAX];
    vc_config cfg;

    if (strcmp(cmd, "update") == 0 || getenv("VOXCART_IN_SLOT"))
        return;
    if (load_config(o, &cfg) != VC_OK) {
        vc_error_clear(); /* the command itself reports the config's problem */
        return;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/current/bin/voxcart", cfg.update_root) >=
            sizeof path ||
        !realpath(path, target))
        return; /* no update installed */
    if (!realpath("/proc/self/exe", self) || strcmp(self, target) == 0)
        return;
    if (access(target, X_OK) != 0) {
        fprintf(stderr, "voxcart: the updated version %s cannot be run (%s); running the "
                        "packaged one\n",
                target, strerror(errno));
        return;
    }
    setenv("VOXCART_IN_SLOT", "1", 1);
    execv(target, orig_argv);
    fprintf(stderr, "voxcart: cannot start the updated version %s: %s; running the packaged "
                    "one\n",
            target, strerror(errno));
    unsetenv("VOXCART_IN_SLOT");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"domain", required_argument, NULL, 'd'},
        {"catalog", required_argument, NULL, 'C'},
        {"store", required_argument, NULL, 'S'},
        {"session", required_argument, NULL, 's'},
        {"new", no_argument, NULL, 'N'},
        {"speak", no_argument, NULL, 'k'},
        {"wav-dir", required_argument, NULL, 'W'},
        {"json", no_argument, NULL, 'j'},
        {"text", required_argument, NULL, 't'},
        {"text-file", required_argument, NULL, 'f'},
        {"raw-rate", required_argument, NULL, 'r'},
        {"labels", required_argument, NULL, 'L'},
        {"noise", required_argument, NULL, 'O'},
        {"snr", required_argument, NULL, 'P'},
        {"seed", required_argument, NULL, 'E'},
        {"limit", required_argument, NULL, 'M'},
        {"device", required_argument, NULL, 'D'},
        {"rate", required_argument, NULL, 'R'},
        {"count", required_argument, NULL, 'K'},
        {"exit-when-ready", no_argument, NULL, 'X'},
        {"no-confidence", no_argument, NULL, 'B'},
        {"smart-eou", required_argument, NULL, 'U'},
        {"trigger", required_argument, NULL, 'T'},
        {"wake-threshold", required_argument, NULL, 'H'},
        {"wake-phone-loop", required_argument, NULL, 'Q'},
        {"since", required_argument, NULL, 'Y'},
        {"live", no_argument, NULL, 'V'},
        {"script", no_argument, NULL, 'Z'},
        {"force", no_argument, NULL, 'G'},
        {"apply", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options o = {0};
    unsigned long long n;
    const char *cmd;
    int ch, ret;

    o.smart_eou_ms = -1;
    o.texts = calloc((size_t)argc, sizeof *o.texts);
    /* the arguments as given: getopt reorders argv, an updated slot is
     * started with these */
    orig_argv = calloc((size_t)argc + 1, sizeof *orig_argv);
    if (!o.texts || !orig_argv) {
        free(o.texts);
        return 1;
    }
    memcpy(orig_argv, argv, (size_t)argc * sizeof *argv);
    /* Options may stand before or after the command. */
    while ((ch = getopt_long(argc, argv, "c:d:t:f:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o.config_path = optarg; break;
        case 'd': o.domain = optarg; break;
        case 'C': o.catalog = optarg; break;
        case 'S': o.store = optarg; break;
        case 's': o.session = optarg; break;
        case 'N': o.new_session = 1; break;
        case 'k': o.speak = 1; break;
        case 'W': o.wav_dir = optarg; break;
        case 'j': o.json = 1; break;
        case 't': o.texts[o.n_texts++] = optarg; break;
        case 'f': o.text_file = optarg; break;
        case 'r':
            if (parse_count(optarg, "--raw-rate", 1000, 384000, &n) != 0) {
                free(o.texts);
                return 2;
            }
            o.raw_rate = (int)n;
            break;
        case 'L': o.labels = optarg; break;
        case 'O': o.noise = optarg; break;
        case 'P': o.snr = optarg; break;
        case 'E':
            if (parse_count(optarg, "--seed", 0, ULLONG_MAX, &o.seed) != 0) {
                free(o.texts);
                return 2;
            }
            break;
        case 'M':
            if (parse_count(optarg, "--limit", 1, SIZE_MAX, &n) != 0) {
                free(o.texts);
                return 2;
            }
            o.limit = (size_t)n;
            break;
        case 'D': o.device = optarg; break;
        case 'R':
            if (parse_count(optarg, "--rate", 8000, 192000, &n) != 0) {
                free(o.texts);
                return 2;
            }
            o.rate = (int)n;
            break;
        case 'K':
            if (parse_count(optarg, "--count", 1, ULLONG_MAX, &o.count) != 0) {
                free(o.texts);
                return 2;
            }
            break;
        case 'X': o.exit_when_ready = 1; break;
        case 'B': o.no_confidence = 1; break;
        case 'U':
            if (parse_count(optarg, "--smart-eou", 0, 60000, &n) != 0) {
                free(o.texts);
                return 2;
            }
            o.smart_eou_ms = (int)n;
            break;
        case 'T': o.trigger = optarg; break;
        case 'H':
        case 'Q':
            if (parse_probability(optarg, ch == 'H' ? "--wake-threshold" : "--wake-phone-loop",
                                  ch == 'H' ? &o.wake_threshold : &o.wake_phone_loop) != 0) {
                free(o.texts);
                return 2;
            }
            break;
        case 'Y':
            if (parse_count(optarg, "--since", 1, 36500, &o.since_days) != 0) {
                free(o.texts);
                return 2;
            }
            break;
        case 'V': o.run_mode = "live"; break;
        case 'Z': o.run_mode = "script"; break;
        case 'G': o.force = 1; break;
        case 'A': o.apply = 1; break;
        case 'h': fputs(usage, stdout); free(o.texts); return 0;
        default: fputs(usage, stderr); free(o.texts); return 2;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        free(o.texts);
        return 2;
    }
    cmd = argv[optind];
    hand_over_to_the_updated_slot(&o, cmd);
    argc -= optind + 1;
    argv += optind + 1;
    if (argc > 0 && (strcmp(cmd, "chat") == 0 || strcmp(cmd, "demo") == 0 ||
                     strcmp(cmd, "run") == 0 || strcmp(cmd, "register") == 0 ||
                     strcmp(cmd, "sync") == 0 ||
                     strcmp(cmd, "version") == 0 || strcmp(cmd, "help") == 0)) {
        fprintf(stderr, "voxcart %s: unexpected argument '%s' (see voxcart --help)\n", cmd,
                argv[0]);
        free(o.texts);
        return 2;
    }
    if (strcmp(cmd, "understand") == 0)
        ret = cmd_understand(&o, argc, argv);
    else if (strcmp(cmd, "transcribe") == 0)
        ret = cmd_transcribe(&o, argc, argv);
    else if (strcmp(cmd, "eval") == 0)
        ret = cmd_eval(&o, argc, argv);
    else if (strcmp(cmd, "listen") == 0)
        ret = cmd_listen(&o, argc, argv);
    else if (strcmp(cmd, "ask") == 0)
        ret = cmd_ask(&o, argc, argv);
    else if (strcmp(cmd, "chat") == 0)
        ret = cmd_chat(&o);
    else if (strcmp(cmd, "run") == 0)
        ret = cmd_run(&o);
    else if (strcmp(cmd, "demo") == 0)
        ret = cmd_demo(&o);
    else if (strcmp(cmd, "catalog") == 0)
        ret = cmd_catalog(&o, argc, argv);
    else if (strcmp(cmd, "stats") == 0)
        ret = cmd_stats(&o, argc);
    else if (strcmp(cmd, "update") == 0)
        ret = cmd_update(&o, argc, argv);
    else if (strcmp(cmd, "register") == 0)
        ret = cmd_register(&o);
    else if (strcmp(cmd, "sync") == 0)
        ret = cmd_sync(&o);
    else if (strcmp(cmd, "version") == 0)
        ret = (printf("voxcart %s (board %s)\n", VC_VERSION, VC_BOARD), 0);
    else if (strcmp(cmd, "help") == 0)
        ret = (fputs(usage, stdout), 0);
    else {
        fprintf(stderr, "voxcart: unknown command '%s'\n\n%s", cmd, usage);
        ret = 2;
    }
    free(o.texts);
    return ret;
}
