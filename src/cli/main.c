/* voxcart: the command-line front of the assistant. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assistant/assistant.h"
#include "build_config.h"
#include "core/fsutil.h"
#include "core/utf8.h"
#include "speech/synthesiser.h"

#define TEXT_FILE_MAX_BYTES (16u << 20)

static const char usage[] =
    "usage: voxcart [options] COMMAND [ARGS]\n"
    "\n"
    "Offline voice-commerce assistant.\n"
    "\n"
    "commands:\n"
    "  demo                       a scripted conversation on the embedded defaults,\n"
    "                             replies printed and spoken (audio device or WAV files)\n"
    "  understand [--json] (--text TEXT | --text-file FILE | FILE.wav ...)\n"
    "                             what each input means: intent, slots, confidence\n"
    "  ask TEXT                   one dialog turn; the conversation carries on across calls\n"
    "  chat                       an interactive text conversation\n"
    "  catalog import FILE.json   replace the store's catalog (all or nothing)\n"
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
    "      --json           `understand`: one JSON object per input, one a line\n"
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
    int json;
    int new_session;
    int speak;
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

static vc_status open_assistant(const options *o, vc_config *cfg, vc_assistant **a)
{
    vc_assistant_options ao = {0};
    vc_status rc = load_config(o, cfg);

    if (rc != VC_OK)
        return rc;
    ao.config = cfg;
    ao.domain = o->domain;
    ao.store_path = o->store;
    ao.catalog_path = o->catalog;
    return vc_assistant_new(&ao, a);
}

static vc_status open_synthesiser(const vc_config *cfg, vc_speak_mode mode, const char *wav_dir,
                                  vc_synthesiser **out)
{
    vc_synthesiser_config sc = {
        .mode = mode,
        .voice = cfg->voice,
        .rate = cfg->speech_rate,
        .pitch = cfg->pitch,
        .volume = cfg->volume,
        .wav_dir = wav_dir,
        .output_device = cfg->output_device,
    };
    return vc_synthesiser_new(&sc, out);
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
    if (open_assistant(o, &cfg, &a) != VC_OK)
        return fail("understand");
    und = vc_assistant_understander(a);

    for (size_t i = 0; i < o->n_texts; i++) {
        snprintf(where, sizeof where, "--text %zu", i + 1);
        failed |= understand_one(und, o->texts[i], o->json, where);
    }
    if (o->text_file)
        failed |= understand_text_file(und, o->text_file, o->json);
    /* Audio arrives with the speech-in issue; until then every audio input
     * still gets its one line, saying so. */
    for (int i = 0; i < argc; i++) {
        const char *why = is_audio_path(argv[i]) ? "audio input is not supported yet"
                                                 : "not an audio file name";
        print_input_error(o->json, argv[i], argv[i], why);
        failed = 1;
    }
    vc_assistant_free(a);
    return failed;
}

/* ---- conversations --------------------------------------------------------- */

typedef struct {
    vc_assistant *assistant;
    vc_synthesiser *voice; /* NULL: print only */
    int show_understanding;
} conversation;

static void say(conversation *c, const char *reply)
{
    char *wav = NULL;

    printf("voxcart> %s\n", reply);
    if (c->voice) {
        if (vc_synthesiser_speak(c->voice, reply, &wav) != VC_OK)
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
        return fail("dialog");
    }
    say(c, t.reply);
    if (t.order_placed)
        printf("          (order %s placed)\n", t.order_number ? t.order_number : "?");
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
    if (o->speak && open_synthesiser(&cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
                                     o->wav_dir ? o->wav_dir : "voxcart-replies", &c.voice) != VC_OK) {
        ret = fail("speech");
        goto out;
    }
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
    if (o->speak && open_synthesiser(&cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
                                     o->wav_dir ? o->wav_dir : "voxcart-replies", &c.voice) != VC_OK) {
        ret = fail("speech");
        goto out;
    }
    if (vc_dialog_greeting(vc_assistant_dialog(c.assistant), &greeting) != VC_OK) {
        ret = fail("dialog");
        goto out;
    }
    say(&c, greeting);
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
    if (open_synthesiser(&cfg, o->wav_dir ? VC_SPEAK_WAV : VC_SPEAK_AUTO,
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
    say(&c, greeting);
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
    if (open_assistant(o, &cfg, &a) != VC_OK) {
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options o = {0};
    const char *cmd;
    int ch, ret;

    o.texts = calloc((size_t)argc, sizeof *o.texts);
    if (!o.texts)
        return 1;
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
    argc -= optind + 1;
    argv += optind + 1;
    if (argc > 0 && (strcmp(cmd, "chat") == 0 || strcmp(cmd, "demo") == 0 ||
                     strcmp(cmd, "version") == 0 || strcmp(cmd, "help") == 0)) {
        fprintf(stderr, "voxcart %s: unexpected argument '%s' (see voxcart --help)\n", cmd,
                argv[0]);
        free(o.texts);
        return 2;
    }
    if (strcmp(cmd, "understand") == 0)
        ret = cmd_understand(&o, argc, argv);
    else if (strcmp(cmd, "ask") == 0)
        ret = cmd_ask(&o, argc, argv);
    else if (strcmp(cmd, "chat") == 0)
        ret = cmd_chat(&o);
    else if (strcmp(cmd, "demo") == 0)
        ret = cmd_demo(&o);
    else if (strcmp(cmd, "catalog") == 0)
        ret = cmd_catalog(&o, argc, argv);
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
