/* Pack loading: pack.ini and replies through inih, intents.txt and slot
 * list files through the template parser below (the template language is
 * the product's own, documented in models/README.md). */
#include <dirent.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "nlu/arena.h"
#include "nlu/language.h"
#include "nlu/template.h"
#include "nlu/tokens.h"

/* The longest line Debian's build of inih reads whole. */
#define VC_INI_MAX_LINE 199
#define VC_PACK_MAX_REPLY_FILES 64

typedef struct {
    const char *key;
    const char *value;
} pack_kv;

typedef struct {
    const char *name;
    const char *source;
    int dynamic;
    const char **phrases;
    const char **values;
    size_t n_phrases;
} pack_list;

typedef struct {
    const char *name;
    vc_tpl **templates;
    size_t n, cap;
    /* [name.speech]: the recogniser's templates for this intent, or none */
    vc_tpl **speech;
    size_t n_speech, cap_speech;
    int is_answer; /* named by answer_intents in pack.ini */
} pack_intent;

typedef struct {
    const char *name;
    vc_tpl *tree;
    size_t size; /* nodes with every rule reference expanded */
    int depth;   /* levels of nodes, likewise */
    vc_tpl *speech; /* @name.speech: the recogniser's version, or NULL */
} pack_rule;

typedef struct {
    const char *locale;
    pack_kv *entries;
    size_t n, cap;
} pack_replies;

struct vc_pack {
    vc_arena arena;
    const char *name;
    pack_kv *settings;
    size_t n_settings, cap_settings;
    pack_list *lists;
    size_t n_lists, cap_lists;
    pack_intent *intents;
    size_t n_intents, cap_intents;
    pack_rule *rules;
    size_t n_rules, cap_rules;
    const char **fillers;
    size_t n_fillers;
    /* speech_fillers of pack.ini; has_speech_fillers: the key is there (an
     * empty value means none before a spoken sentence) */
    const char **speech_fillers;
    size_t n_speech_fillers;
    int has_speech_fillers;
    double reject_below;
    const char *default_locale;
    const char *language; /* "en", "nb" */
    vc_language lang;
    vc_pack_voice voice;  /* [voice] */
    pack_replies *replies;
    size_t n_replies, cap_replies;
};

/* Grows *arr (of elem-sized items, *cap of them) to hold n + 1. */
static int grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    void **p = arr;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* ---- where the files come from ------------------------------------------- */

typedef struct {
    const char *dir;          /* a pack directory, or NULL */
    const vc_pack_file *files; /* files held in memory */
    size_t n_files;
} pack_source;

/* The name errors use for rel: the full path on disk, rel in memory. */
static void source_path(const pack_source *src, const char *rel, char *out, size_t cap)
{
    if (src->dir)
        snprintf(out, cap, "%s/%s", src->dir, rel);
    else
        snprintf(out, cap, "%s", rel);
}

/* Reads rel (NUL-terminated, caller frees). VC_ENOTFOUND when absent. */
static vc_status source_read(const pack_source *src, const char *rel, char **text)
{
    char path[4096];
    *text = NULL;
    source_path(src, rel, path, sizeof path);
    if (src->dir) {
        vc_status rc = vc_read_file(path, VC_PACK_FILE_MAX_BYTES, text, NULL);
        if (rc == VC_EIO) {
            FILE *f = fopen(path, "rb");
            if (!f)
                return vc_fail(VC_ENOTFOUND, "%s: no such file", path);
            fclose(f);
        }
        return rc;
    }
    for (size_t i = 0; i < src->n_files; i++) {
        if (strcmp(src->files[i].path, rel) != 0)
            continue;
        size_t n = strlen(src->files[i].text);
        if (n > VC_PACK_FILE_MAX_BYTES)
            return vc_fail(VC_ETOOBIG, "%s: larger than the limit of %u bytes", path,
                           VC_PACK_FILE_MAX_BYTES);
        *text = strdup(src->files[i].text);
        return *text ? VC_OK : vc_fail(VC_ENOMEM, "%s: out of memory", path);
    }
    return vc_fail(VC_ENOTFOUND, "%s: no such file", path);
}

/* ---- pack.ini and replies --------------------------------------------------- */

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!is_name_char(*s))
            return 0;
    return 1;
}

/* Sets key in kv (appending to a value already there: inih reports an
 * indented continuation line as the same key again). */
static int kv_set(vc_arena *arena, pack_kv **kv, size_t *n, size_t *cap, const char *key,
                  const char *value, const char *joiner)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*kv)[i].key, key) != 0)
            continue;
        size_t a = strlen((*kv)[i].value), b = strlen(joiner), c = strlen(value);
        char *joined = vc_arena_alloc(arena, a + b + c + 1);
        if (!joined)
            return -1;
        memcpy(joined, (*kv)[i].value, a);
        memcpy(joined + a, joiner, b);
        memcpy(joined + a + b, value, c + 1);
        (*kv)[i].value = joined;
        return 0;
    }
    if (grow(kv, cap, *n, sizeof **kv) != 0)
        return -1;
    (*kv)[*n].key = vc_arena_strdup(arena, key);
    (*kv)[*n].value = vc_arena_strdup(arena, value);
    if (!(*kv)[*n].key || !(*kv)[*n].value)
        return -1;
    (*n)++;
    return 0;
}

/* Debian's inih reads lines of at most 200 bytes and cuts longer ones, yet
 * a filler list or a reply may well be longer. Such a value is set aside and
 * inih sees a marker in its place: "\x01<index>", which the handler swaps
 * back. Long comment lines are blanked; line numbers stay as they were. */
#define VC_INI_LONG_MARK '\x01'

typedef struct {
    vc_pack *pack;
    char problem[256];
    ini_handler inner;
    char **long_values;
    size_t n_long, cap_long;
} ini_ctx;

static int ini_entry(void *user, const char *section, const char *key, const char *value)
{
    ini_ctx *ctx = user;
    if (value[0] == VC_INI_LONG_MARK) {
        size_t i = strtoul(value + 1, NULL, 10);
        if (i < ctx->n_long)
            value = ctx->long_values[i];
    }
    return ctx->inner(user, section, key, value);
}

/* Writes text to out with long values replaced by markers. */
static vc_status set_long_lines_aside(const char *path, const char *text, ini_ctx *ctx, char *out)
{
    int line = 0;
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        line++;
        if (n <= VC_INI_MAX_LINE) {
            memcpy(out, s, n);
            out += n;
        } else {
            size_t indent = strspn(s, " \t");
            const char *content = s + indent;
            size_t key_len = strcspn(content, "=:\n");
            int continuation = indent > 0;
            if (*content == ';' || *content == '#') {
                /* a long comment: nothing to keep */
            } else if (!continuation && (content[key_len] != '=' && content[key_len] != ':')) {
                return vc_fail(VC_EPARSE, "%s:%d: line longer than %d bytes is not key = value",
                               path, line, VC_INI_MAX_LINE);
            } else {
                const char *v = continuation ? content : content + key_len + 1;
                const char *e = s + n;
                v += strspn(v, " \t");
                for (const char *c = v; c < e; c++) {
                    if (*c == ';' && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
                        e = c; /* an inline comment, as inih reads one */
                        break;
                    }
                }
                while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                    e--;
                if (grow(&ctx->long_values, &ctx->cap_long, ctx->n_long, sizeof *ctx->long_values) != 0)
                    return vc_fail(VC_ENOMEM, "%s: out of memory", path);
                ctx->long_values[ctx->n_long] = strndup(v, (size_t)(e - v));
                if (!ctx->long_values[ctx->n_long])
                    return vc_fail(VC_ENOMEM, "%s: out of memory", path);
                if (continuation) {
                    out += sprintf(out, " %c%zu", VC_INI_LONG_MARK, ctx->n_long);
                } else {
                    memcpy(out, content, key_len);
                    out += key_len;
                    out += sprintf(out, "= %c%zu", VC_INI_LONG_MARK, ctx->n_long);
                }
                ctx->n_long++;
            }
        }
        s += n;
        if (*s == '\n')
            *out++ = *s++;
    }
    *out = '\0';
    return VC_OK;
}

static vc_status parse_ini(const char *path, const char *text, ini_handler handler, ini_ctx *ctx)
{
    /* a marker is never longer than the line it replaces, bar a short key
     * on a very long line: 32 bytes of slack per line covers it */
    size_t lines = 1;
    for (const char *s = text; *s; s++)
        lines += *s == '\n';
    char *copy = malloc(strlen(text) + 32 * lines + 1);
    vc_status rc = VC_OK;

    ctx->problem[0] = '\0';
    ctx->inner = handler;
    ctx->long_values = NULL;
    ctx->n_long = ctx->cap_long = 0;
    if (!copy)
        return vc_fail(VC_ENOMEM, "%s: out of memory", path);
    rc = set_long_lines_aside(path, text, ctx, copy);
    if (rc == VC_OK) {
        int line = ini_parse_string(copy, ini_entry, ctx);
        if (line != 0)
            rc = vc_fail(VC_EPARSE, "%s:%d: %s", path, line,
                         ctx->problem[0] ? ctx->problem : "not a key = value line or [section]");
    }
    for (size_t i = 0; i < ctx->n_long; i++)
        free(ctx->long_values[i]);
    free(ctx->long_values);
    free(copy);
    return rc;
}

/* A whole number from lo to hi, and nothing else; -1 otherwise. */
static int ini_int(const char *value, int lo, int hi)
{
    long v = 0;
    if (!*value)
        return -1;
    for (const char *c = value; *c; c++) {
        if (*c < '0' || *c > '9' || v > 100000)
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v >= lo && v <= hi ? (int)v : -1;
}

/* One key of [voice]: the brand voice, with the ranges of the device
 * config's [voice] (firmware/voxcart.conf), so that either can override the
 * other key by key. */
static int voice_entry(ini_ctx *ctx, const char *key, const char *value)
{
    vc_pack_voice *v = &ctx->pack->voice;
    static const struct {
        const char *key;
        unsigned bit;
        int lo, hi;
    } ints[] = {
        {"rate", VC_PACK_VOICE_SET_RATE, 80, 450},
        {"pitch", VC_PACK_VOICE_SET_PITCH, 0, 100},
        {"volume", VC_PACK_VOICE_SET_VOLUME, 0, 200},
    };

    if (strcmp(key, "voice") == 0) {
        size_t n = strlen(value);
        if (v->set & VC_PACK_VOICE_SET_VOICE) {
            snprintf(ctx->problem, sizeof ctx->problem, "[voice] voice given twice");
            return 0;
        }
        if (n == 0 || n > 63 || strpbrk(value, " \t")) {
            snprintf(ctx->problem, sizeof ctx->problem,
                     "[voice] voice = '%.64s' is not an espeak-ng voice name (1 to 63 bytes, "
                     "no spaces)", value);
            return 0;
        }
        v->voice = vc_arena_strdup(&ctx->pack->arena, value);
        if (!v->voice) {
            snprintf(ctx->problem, sizeof ctx->problem, "out of memory");
            return 0;
        }
        v->set |= VC_PACK_VOICE_SET_VOICE;
        return 1;
    }
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcmp(key, ints[i].key) != 0)
            continue;
        int n = ini_int(value, ints[i].lo, ints[i].hi);
        if (v->set & ints[i].bit) {
            snprintf(ctx->problem, sizeof ctx->problem, "[voice] %s given twice", key);
            return 0;
        }
        if (n < 0) {
            snprintf(ctx->problem, sizeof ctx->problem,
                     "[voice] %s = '%.32s' is not a whole number from %d to %d", key, value,
                     ints[i].lo, ints[i].hi);
            return 0;
        }
        *(i == 0 ? &v->rate : i == 1 ? &v->pitch : &v->volume) = n;
        v->set |= ints[i].bit;
        return 1;
    }
    snprintf(ctx->problem, sizeof ctx->problem,
             "[voice] unknown key '%.40s' (voice, rate, pitch, volume)", key);
    return 0;
}

static int pack_ini_entry(void *user, const char *section, const char *key, const char *value)
{
    ini_ctx *ctx = user;
    vc_pack *pack = ctx->pack;

    if (strcmp(section, "pack") == 0) {
        const char *joiner = strcmp(key, "fillers") == 0 || strcmp(key, "speech_fillers") == 0 ||
                                     strcmp(key, "answer_intents") == 0
                                 ? ","
                                 : " ";
        if (kv_set(&pack->arena, &pack->settings, &pack->n_settings, &pack->cap_settings, key,
                   value, joiner) != 0) {
            snprintf(ctx->problem, sizeof ctx->problem, "out of memory");
            return 0;
        }
        return 1;
    }
    if (strcmp(section, "voice") == 0)
        return voice_entry(ctx, key, value);
    if (strcmp(section, "lists") != 0)
        return 1; /* other sections belong to other modules (dialog settings) */
    if (!is_name(key)) {
        snprintf(ctx->problem, sizeof ctx->problem, "list name '%s' is not a name", key);
        return 0;
    }
    for (size_t i = 0; i < pack->n_lists; i++) {
        if (strcmp(pack->lists[i].name, key) == 0) {
            snprintf(ctx->problem, sizeof ctx->problem, "list '%s' declared twice", key);
            return 0;
        }
    }
    int dynamic = strncmp(value, "catalog:", 8) == 0 && value[8];
    if (!dynamic && !(strncmp(value, "file:", 5) == 0 && value[5])) {
        snprintf(ctx->problem, sizeof ctx->problem,
                 "list '%s': source must be file:<path> or catalog:<name>", key);
        return 0;
    }
    if (grow(&pack->lists, &pack->cap_lists, pack->n_lists, sizeof *pack->lists) != 0) {
        snprintf(ctx->problem, sizeof ctx->problem, "out of memory");
        return 0;
    }
    pack_list *l = &pack->lists[pack->n_lists];
    memset(l, 0, sizeof *l);
    l->name = vc_arena_strdup(&pack->arena, key);
    l->source = vc_arena_strdup(&pack->arena, value);
    l->dynamic = dynamic;
    if (!l->name || !l->source) {
        snprintf(ctx->problem, sizeof ctx->problem, "out of memory");
        return 0;
    }
    pack->n_lists++;
    return 1;
}

static const char *setting(const vc_pack *pack, const char *key)
{
    for (size_t i = 0; i < pack->n_settings; i++)
        if (strcmp(pack->settings[i].key, key) == 0)
            return pack->settings[i].value;
    return NULL;
}

/* A fillers setting (key): comma-separated phrases, each normalised the way
 * input is, into *out. */
static vc_status load_fillers(vc_pack *pack, const char *path, const char *key,
                              const char ***out, size_t *n_out)
{
    const char *all = setting(pack, key);
    vc_tokens *toks = NULL;
    size_t cap = 0;
    vc_status rc = VC_OK;

    if (!all)
        return VC_OK;
    toks = malloc(sizeof *toks);
    if (!toks)
        return vc_fail(VC_ENOMEM, "%s: out of memory", path);
    for (const char *s = all; *s;) {
        size_t n = strcspn(s, ",");
        if (vc_tokenize(s, n, toks) != VC_OK) {
            rc = vc_fail(VC_EPARSE, "%s: %s: phrase '%.*s' is too long", path, key, (int)n, s);
            goto out_free_tokens;
        }
        if (toks->n > 0) {
            size_t bytes = 0;
            for (size_t i = 0; i < toks->n; i++)
                bytes += strlen(toks->tok[i].text) + 1;
            char *phrase = vc_arena_alloc(&pack->arena, bytes);
            if (!phrase || grow(out, &cap, *n_out, sizeof **out) != 0) {
                rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
                goto out_free_tokens;
            }
            for (size_t i = 0; i < toks->n; i++) {
                if (i)
                    strcat(phrase, " ");
                strcat(phrase, toks->tok[i].text);
            }
            (*out)[(*n_out)++] = phrase;
        }
        s += n;
        if (*s == ',')
            s++;
    }
out_free_tokens:
    free(toks);
    return rc;
}

static vc_status load_pack_ini(vc_pack *pack, const pack_source *src)
{
    char path[4096];
    char *text = NULL;
    ini_ctx ctx = {.pack = pack};
    vc_status rc;

    pack->voice.voice = "";
    source_path(src, "pack.ini", path, sizeof path);
    rc = source_read(src, "pack.ini", &text);
    if (rc != VC_OK)
        return rc;
    rc = parse_ini(path, text, pack_ini_entry, &ctx);
    if (rc != VC_OK)
        goto out_free_text;

    pack->name = setting(pack, "name");
    if (!pack->name || !*pack->name) {
        rc = vc_fail(VC_EPARSE, "%s: [pack] has no name", path);
        goto out_free_text;
    }
    pack->default_locale = setting(pack, "default_locale");
    if (!pack->default_locale)
        pack->default_locale = "en-US";
    pack->language = setting(pack, "language");
    if (!pack->language || strcmp(pack->language, "en") == 0) {
        pack->language = "en";
        pack->lang = VC_LANG_EN;
    } else if (strcmp(pack->language, "nb") == 0) {
        pack->lang = VC_LANG_NB;
    } else {
        rc = vc_fail(VC_EPARSE, "%s: language = '%s' is not supported (en, nb)", path,
                     pack->language);
        goto out_free_text;
    }
    pack->reject_below = 0.6;
    const char *reject = setting(pack, "reject_below");
    if (reject) {
        char *end;
        double v = strtod(reject, &end);
        if (end == reject || *end || !(v >= 0 && v <= 1)) {
            rc = vc_fail(VC_EPARSE, "%s: reject_below = '%s' is not a number from 0 to 1", path,
                         reject);
            goto out_free_text;
        }
        pack->reject_below = v;
    }
    rc = load_fillers(pack, path, "fillers", &pack->fillers, &pack->n_fillers);
    if (rc == VC_OK && setting(pack, "speech_fillers")) {
        pack->has_speech_fillers = 1;
        rc = load_fillers(pack, path, "speech_fillers", &pack->speech_fillers,
                          &pack->n_speech_fillers);
    }

out_free_text:
    free(text);
    return rc;
}

typedef struct {
    ini_ctx base;
    pack_replies *replies;
} replies_ctx;

static int replies_entry(void *user, const char *section, const char *key, const char *value)
{
    replies_ctx *ctx = user;
    pack_replies *r = ctx->replies;
    if (strcmp(section, "replies") != 0)
        return 1;
    if (kv_set(&ctx->base.pack->arena, &r->entries, &r->n, &r->cap, key, value, " ") != 0) {
        snprintf(ctx->base.problem, sizeof ctx->base.problem, "out of memory");
        return 0;
    }
    return 1;
}

static vc_status load_reply_file(vc_pack *pack, const pack_source *src, const char *file)
{
    char rel[512], path[4096];
    char *text = NULL;
    size_t n = strlen(file);
    vc_status rc;

    if (n <= 4 || n > 64 || strcmp(file + n - 4, ".ini") != 0)
        return VC_OK;
    for (size_t i = 0; i + 4 < n; i++) {
        char c = file[i];
        if (!is_name_char(c) && c != '-')
            return VC_OK;
    }
    if (pack->n_replies >= VC_PACK_MAX_REPLY_FILES)
        return vc_fail(VC_ETOOBIG, "replies/: more than %d locales", VC_PACK_MAX_REPLY_FILES);
    snprintf(rel, sizeof rel, "replies/%s", file);
    source_path(src, rel, path, sizeof path);
    rc = source_read(src, rel, &text);
    if (rc != VC_OK)
        return rc;
    if (grow(&pack->replies, &pack->cap_replies, pack->n_replies, sizeof *pack->replies) != 0) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
        goto out_free_text;
    }
    pack_replies *r = &pack->replies[pack->n_replies];
    memset(r, 0, sizeof *r);
    r->locale = vc_arena_strndup(&pack->arena, file, n - 4);
    if (!r->locale) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
        goto out_free_text;
    }
    pack->n_replies++;
    replies_ctx ctx = {.base = {.pack = pack}, .replies = r};
    rc = parse_ini(path, text, replies_entry, &ctx.base);

out_free_text:
    free(text);
    return rc;
}

static vc_status load_replies(vc_pack *pack, const pack_source *src)
{
    vc_status rc = VC_OK;
    if (!src->dir) {
        for (size_t i = 0; i < src->n_files && rc == VC_OK; i++)
            if (strncmp(src->files[i].path, "replies/", 8) == 0)
                rc = load_reply_file(pack, src, src->files[i].path + 8);
        return rc;
    }
    char path[4096];
    source_path(src, "replies", path, sizeof path);
    DIR *d = opendir(path);
    if (!d)
        return VC_OK; /* a pack without replies: the dialog says what it lacks */
    struct dirent *e;
    while (rc == VC_OK && (e = readdir(d)) != NULL)
        rc = load_reply_file(pack, src, e->d_name);
    closedir(d);
    return rc;
}

/* ---- the template parser ------------------------------------------------- */

typedef struct {
    vc_pack *pack;
    const char *file; /* for errors */
    int line;
    const char *s; /* the line, without its comment */
    size_t pos, len;
    int depth;
    int list_entry; /* a slot list entry: words, groups and optionals only */
    vc_status rc;
    int in_speech; /* intents.txt: the last header was [intent.speech] */
} parser;

VC_PRINTF(2, 3) static void *parse_error(parser *p, const char *fmt, ...)
{
    char problem[512];
    va_list ap;
    if (p->rc != VC_OK)
        return NULL; /* keep the first error */
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    p->rc = vc_fail(VC_EPARSE, "%s:%d: %s", p->file, p->line, problem);
    return NULL;
}

static void *parse_oom(parser *p)
{
    if (p->rc == VC_OK)
        p->rc = vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
    return NULL;
}

static vc_tpl *new_node(parser *p, vc_tpl_kind kind)
{
    vc_tpl *t = vc_arena_alloc(&p->pack->arena, sizeof *t);
    if (!t)
        return parse_oom(p);
    t->kind = kind;
    return t;
}

static vc_tpl *new_parent(parser *p, vc_tpl_kind kind, vc_tpl **kids, size_t n)
{
    vc_tpl *t = new_node(p, kind);
    if (!t)
        return NULL;
    t->kids = vc_arena_alloc(&p->pack->arena, n * sizeof *kids);
    if (!t->kids)
        return parse_oom(p);
    memcpy(t->kids, kids, n * sizeof *kids);
    t->n_kids = n;
    return t;
}

static void skip_space(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int peek(parser *p)
{
    skip_space(p);
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_template_word_byte(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '\'' || c == '-' || c == '.' || c >= 0x80;
}

/* An identifier at the cursor, copied to out; 0 when there is none. */
static int read_name(parser *p, char *out, size_t cap)
{
    size_t n = 0;
    skip_space(p);
    if (p->pos >= p->len || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
        return 0;
    while (p->pos < p->len && is_name_char(p->s[p->pos])) {
        if (n + 1 >= cap)
            return 0;
        out[n++] = p->s[p->pos++];
    }
    out[n] = '\0';
    return n > 0;
}

/* A number of a range: digits with an optional fraction ("1", "0.5"). */
static int read_range_number(parser *p, double *v)
{
    size_t start = p->pos;
    double x = 0, scale = 1;
    skip_space(p);
    start = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9' && p->pos - start < 9)
        x = x * 10 + (p->s[p->pos++] - '0');
    if (p->pos == start)
        return 0;
    if (p->pos + 1 < p->len && p->s[p->pos] == '.' && p->s[p->pos + 1] >= '0' &&
        p->s[p->pos + 1] <= '9') {
        p->pos++;
        for (int k = 0; p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'; k++) {
            scale /= 10;
            if (k < 9)
                x += (p->s[p->pos] - '0') * scale;
            p->pos++;
        }
    }
    *v = x;
    return 1;
}

static vc_tpl *parse_alt(parser *p);

static int contains_capture(const vc_tpl *t)
{
    if (t->kind == VC_TPL_LIST || t->kind == VC_TPL_NUMBER || t->kind == VC_TPL_DIGITS ||
        t->kind == VC_TPL_TEXT || t->kind == VC_TPL_TAG)
        return 1;
    for (size_t i = 0; i < t->n_kids; i++)
        if (contains_capture(t->kids[i]))
            return 1;
    return 0;
}

static vc_tpl *parse_slot(parser *p)
{
    char name[64], type[64];
    vc_tpl *t;

    p->pos++; /* '<' */
    if (p->list_entry)
        return parse_error(p, "a slot list entry cannot contain slots");
    if (!read_name(p, name, sizeof name))
        return parse_error(p, "'<' must be followed by a slot name");
    int c = peek(p);
    if (c == '>') {
        strcpy(type, name);
    } else if (c == ':') {
        p->pos++;
        if (!read_name(p, type, sizeof type))
            return parse_error(p, "slot <%s>: ':' must be followed by a type or list", name);
    } else {
        return parse_error(p, "slot <%s>: expected '>' or ':'", name);
    }
    int ranged = strcmp(type, "number") == 0 || strcmp(type, "digits") == 0 ||
                 strcmp(type, "text") == 0;
    if (ranged) {
        t = new_node(p, strcmp(type, "number") == 0   ? VC_TPL_NUMBER
                        : strcmp(type, "digits") == 0 ? VC_TPL_DIGITS
                                                      : VC_TPL_TEXT);
        if (!t)
            return NULL;
        t->min = t->kind == VC_TPL_NUMBER ? 0 : 1;
        t->max = t->kind == VC_TPL_NUMBER ? 1e9 : t->kind == VC_TPL_DIGITS ? 20 : 6;
        if (peek(p) != '>') {
            if (!read_range_number(p, &t->min) || p->pos + 1 >= p->len ||
                p->s[p->pos] != '.' || p->s[p->pos + 1] != '.' ||
                (p->pos += 2, !read_range_number(p, &t->max)))
                return parse_error(p, "slot <%s:%s>: expected a range like 1..50", name, type);
            if (t->min > t->max)
                return parse_error(p, "slot <%s:%s>: range %g..%g is reversed", name, type,
                                   t->min, t->max);
            if (t->kind == VC_TPL_DIGITS && (t->min < 1 || t->max > 32 || t->min != (int)t->min ||
                                             t->max != (int)t->max))
                return parse_error(p, "slot <%s:digits>: a digit count must be 1..32", name);
            if (t->kind == VC_TPL_TEXT && (t->min < 1 || t->max > 16 || t->min != (int)t->min ||
                                           t->max != (int)t->max))
                return parse_error(p, "slot <%s:text>: a word count must be 1..16", name);
        }
    } else {
        size_t list = 0;
        while (list < p->pack->n_lists && strcmp(p->pack->lists[list].name, type) != 0)
            list++;
        if (list == p->pack->n_lists) {
            if (c == ':' && peek(p) != '>')
                return parse_error(p, "slot <%s:%s>: unknown slot type '%s'", name, type, type);
            return parse_error(p, "slot <%s>: unknown list '%s' (declare it in pack.ini [lists])",
                               name, type);
        }
        t = new_node(p, VC_TPL_LIST);
        if (!t)
            return NULL;
        t->list = list;
    }
    if (peek(p) != '>')
        return parse_error(p, "slot <%s>: expected '>'", name);
    p->pos++;
    t->name = vc_arena_strdup(&p->pack->arena, name);
    return t->name ? t : parse_oom(p);
}

static vc_tpl *parse_words(parser *p)
{
    size_t start = p->pos;
    vc_tokens *toks;
    vc_tpl *seq[VC_UTTERANCE_MAX_TOKENS];
    vc_tpl *t = NULL;

    while (p->pos < p->len && is_template_word_byte((unsigned char)p->s[p->pos]))
        p->pos++;
    toks = malloc(sizeof *toks);
    if (!toks)
        return parse_oom(p);
    if (vc_tokenize(p->s + start, p->pos - start, toks) != VC_OK) {
        parse_error(p, "word '%.*s' is too long", (int)(p->pos - start), p->s + start);
        goto out_free_tokens;
    }
    if (toks->n == 0) {
        parse_error(p, "'%.*s' is not a word", (int)(p->pos - start), p->s + start);
        goto out_free_tokens;
    }
    for (size_t i = 0; i < toks->n; i++) {
        seq[i] = new_node(p, VC_TPL_WORD);
        if (!seq[i])
            goto out_free_tokens;
        seq[i]->word = vc_arena_strdup(&p->pack->arena, toks->tok[i].text);
        if (!seq[i]->word) {
            parse_oom(p);
            goto out_free_tokens;
        }
    }
    t = toks->n == 1 ? seq[0] : new_parent(p, VC_TPL_SEQ, seq, toks->n);
out_free_tokens:
    free(toks);
    return t;
}

static vc_tpl *parse_group(parser *p, int c)
{
    int close = c == '(' ? ')' : ']';
    if (++p->depth > VC_TPL_MAX_DEPTH)
        return parse_error(p, "groups nested deeper than %d", VC_TPL_MAX_DEPTH);
    p->pos++;
    vc_tpl *inner = parse_alt(p);
    if (!inner)
        return NULL;
    if (peek(p) != close)
        return parse_error(p, "unbalanced '%c': expected '%c'", c, close);
    p->pos++;
    p->depth--;
    return c == '(' ? inner : new_parent(p, VC_TPL_OPT, &inner, 1);
}

static vc_tpl *parse_tag(parser *p, vc_tpl *inner)
{
    char name[64];
    p->pos++; /* '{' */
    if (p->list_entry)
        return parse_error(p, "a slot list entry cannot contain tags");
    if (!read_name(p, name, sizeof name))
        return parse_error(p, "'{' must be followed by a slot name");
    if (contains_capture(inner))
        return parse_error(p, "tag {%s}: a tagged group cannot contain slots or tags", name);
    vc_tpl *t = new_parent(p, VC_TPL_TAG, &inner, 1);
    if (!t)
        return NULL;
    t->name = vc_arena_strdup(&p->pack->arena, name);
    if (!t->name)
        return parse_oom(p);
    int c = peek(p);
    if (c == ':') {
        p->pos++;
        skip_space(p);
        size_t start = p->pos;
        while (p->pos < p->len && p->s[p->pos] != '}')
            p->pos++;
        size_t end = p->pos;
        while (end > start && (p->s[end - 1] == ' ' || p->s[end - 1] == '\t'))
            end--;
        if (end == start)
            return parse_error(p, "tag {%s:}: empty value", name);
        t->value = vc_arena_strndup(&p->pack->arena, p->s + start, end - start);
        if (!t->value)
            return parse_oom(p);
        c = peek(p);
    }
    if (c != '}')
        return parse_error(p, "unbalanced '{': expected '}'");
    p->pos++;
    return t;
}

static const pack_rule *find_rule(const vc_pack *pack, const char *name)
{
    for (size_t i = 0; i < pack->n_rules; i++)
        if (strcmp(pack->rules[i].name, name) == 0)
            return &pack->rules[i];
    return NULL;
}

static vc_tpl *parse_item(parser *p)
{
    int c = peek(p);
    vc_tpl *t;

    if (c == '(' || c == '[') {
        t = parse_group(p, c);
    } else if (c == '<') {
        t = parse_slot(p);
    } else if (c == '@') {
        char name[64];
        p->pos++;
        if (p->list_entry)
            return parse_error(p, "a slot list entry cannot use rules");
        if (!read_name(p, name, sizeof name))
            return parse_error(p, "'@' must be followed by a rule name");
        const pack_rule *rule = find_rule(p->pack, name);
        if (!rule)
            return parse_error(p, "unknown rule @%s (rules must be defined before use)", name);
        t = new_parent(p, VC_TPL_RULE, (vc_tpl **)&rule->tree, 1);
        if (t)
            t->name = rule->name;
    } else if (c >= 0 && is_template_word_byte(c)) {
        t = parse_words(p);
    } else if (c == ')' || c == ']') {
        return parse_error(p, "unbalanced '%c'", c);
    } else if (c == '{') {
        return parse_error(p, "a tag {…} must follow a group (…)");
    } else {
        return parse_error(p, "unexpected character '%c'", c);
    }
    if (t && peek(p) == '{') {
        if (c != '(' && c != '[')
            return parse_error(p, "a tag {…} must follow a group (…)");
        t = parse_tag(p, t);
    }
    return t;
}

static vc_tpl *parse_seq(parser *p)
{
    vc_tpl *items[256];
    size_t n = 0;
    for (;;) {
        int c = peek(p);
        if (c < 0 || c == '|' || c == ')' || c == ']' || (c == '=' && p->list_entry))
            break;
        if (n == sizeof items / sizeof items[0])
            return parse_error(p, "more than %zu items in one sequence", n);
        items[n] = parse_item(p);
        if (!items[n])
            return NULL;
        n++;
    }
    if (n == 0)
        return parse_error(p, "empty alternative");
    return n == 1 ? items[0] : new_parent(p, VC_TPL_SEQ, items, n);
}

static vc_tpl *parse_alt(parser *p)
{
    vc_tpl *alts[256];
    size_t n = 0;
    for (;;) {
        if (n == sizeof alts / sizeof alts[0])
            return parse_error(p, "more than %zu alternatives in one group", n);
        alts[n] = parse_seq(p);
        if (!alts[n])
            return NULL;
        n++;
        if (peek(p) != '|')
            break;
        p->pos++;
    }
    return n == 1 ? alts[0] : new_parent(p, VC_TPL_ALT, alts, n);
}

/* Parses s[0..len) as a whole template; NULL with p->rc set on error. */
static vc_tpl *parse_line(parser *p, const char *s, size_t len)
{
    p->s = s;
    p->len = len;
    p->pos = 0;
    p->depth = 0;
    vc_tpl *t = parse_alt(p);
    if (!t)
        return NULL;
    int c = peek(p);
    if (c == ')' || c == ']')
        return parse_error(p, "unbalanced '%c'", c);
    if (c >= 0 && !(c == '=' && p->list_entry))
        return parse_error(p, "unexpected '%c'", c);
    return t;
}

/* Templates are compiled with every rule reference expanded, recursively:
 * these bound the work and the stack that takes. */
#define VC_TPL_MAX_NODES (1u << 16)
#define VC_TPL_MAX_LEVELS (4 * VC_TPL_MAX_DEPTH)

static void measure(const vc_pack *pack, const vc_tpl *t, size_t *size, int *depth)
{
    if (t->kind == VC_TPL_RULE) {
        const pack_rule *rule = find_rule(pack, t->name);
        *size = rule->size + 1;
        *depth = rule->depth + 1;
        return;
    }
    size_t total = 1;
    int deepest = 0;
    for (size_t i = 0; i < t->n_kids; i++) {
        size_t s;
        int d;
        measure(pack, t->kids[i], &s, &d);
        total = total + s > VC_TPL_MAX_NODES ? VC_TPL_MAX_NODES + 1 : total + s;
        if (d > deepest)
            deepest = d;
    }
    *size = total;
    *depth = deepest + 1;
}

static vc_status check_measure(parser *p, const vc_tpl *t, size_t *size, int *depth)
{
    measure(p->pack, t, size, depth);
    if (*size > VC_TPL_MAX_NODES)
        return vc_fail(VC_ETOOBIG, "%s:%d: expands to more than %u nodes (rules within rules)",
                       p->file, p->line, VC_TPL_MAX_NODES);
    if (*depth > VC_TPL_MAX_LEVELS)
        return vc_fail(VC_EPARSE, "%s:%d: nested deeper than %d levels (rules within rules)",
                       p->file, p->line, VC_TPL_MAX_LEVELS);
    return VC_OK;
}

/* Parses one template (or rule body) and checks its size and depth. */
static vc_status parse_measured(parser *p, const char *s, size_t len, vc_tpl **tree,
                                size_t *size, int *depth)
{
    p->rc = VC_OK;
    *tree = parse_line(p, s, len);
    if (!*tree) /* parse_line sets p->rc whenever it gives no tree */
        return p->rc != VC_OK ? p->rc : vc_fail(VC_EPARSE, "%s:%d: no template", p->file, p->line);
    return check_measure(p, *tree, size, depth);
}

/* Calls fn for each line of text without its comment and outer blanks. */
typedef vc_status (*line_fn)(parser *p, const char *s, size_t len, void *ctx);

static vc_status for_each_line(parser *p, const char *text, line_fn fn, void *ctx)
{
    p->line = 0;
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        size_t content = strcspn(s, "#\n");
        const char *a = s, *b = s + content;
        p->line++;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (b > a) {
            vc_status rc = fn(p, a, (size_t)(b - a), ctx);
            if (rc != VC_OK)
                return rc;
        }
        s += n;
        if (*s == '\n')
            s++;
    }
    return VC_OK;
}

/* "[name]" alone on a line heads an intent; "[please] reorder" is a template
 * starting with an optional word. */
static int section_header(const char *s, size_t len, char *name, size_t cap)
{
    if (len < 3 || s[0] != '[' || s[len - 1] != ']')
        return 0;
    size_t a = 1, b = len - 1;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    if (b == a || b - a >= cap || (s[a] >= '0' && s[a] <= '9'))
        return 0;
    for (size_t i = a; i < b; i++)
        if (!is_name_char(s[i]))
            return 0;
    memcpy(name, s + a, b - a);
    name[b - a] = '\0';
    return 1;
}

/* 1 when t refers (directly; the rules' own trees were checked when they
 * were defined) to a rule at index `first` or later in pack->rules. */
static int refers_to_rule_from(const vc_pack *pack, const vc_tpl *t, size_t first)
{
    if (t->kind == VC_TPL_RULE)
        return (size_t)(find_rule(pack, t->name) - pack->rules) >= first;
    for (size_t i = 0; i < t->n_kids; i++)
        if (refers_to_rule_from(pack, t->kids[i], first))
            return 1;
    return 0;
}

/* "@name.speech = expression": the recogniser's version of rule @name (see
 * models/README.md). s[1..name_end) is the name, s[i..len) what follows
 * ".speech". The text path never sees it; vc_pack_rule_speech() gives it to
 * the grammar compiler, which uses it for every reference to @name. */
static vc_status speech_rule_line(parser *p, const char *s, size_t len, size_t name_end, size_t i)
{
    vc_pack *pack = p->pack;
    char name[64];

    if (name_end - 1 >= sizeof name)
        return vc_fail(VC_EPARSE, "%s:%d: a rule needs a name: @name.speech = …", p->file,
                       p->line);
    memcpy(name, s + 1, name_end - 1);
    name[name_end - 1] = '\0';
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= len || s[i] != '=')
        return vc_fail(VC_EPARSE, "%s:%d: expected '=' after @%s.speech", p->file, p->line, name);
    const pack_rule *found = find_rule(pack, name);
    if (!found)
        return vc_fail(VC_EPARSE,
                       "%s:%d: @%s.speech before rule @%s (define the rule first)", p->file,
                       p->line, name, name);
    size_t index = (size_t)(found - pack->rules);
    if (found->speech)
        return vc_fail(VC_EPARSE, "%s:%d: rule @%s.speech defined twice", p->file, p->line,
                       name);
    vc_tpl *tree;
    size_t size;
    int depth;
    vc_status rc = parse_measured(p, s + i + 1, len - i - 1, &tree, &size, &depth);
    if (rc != VC_OK)
        return rc;
    /* The grammar compiler swaps in speech versions at every reference; only
     * rules older than @name keep that expansion free of cycles
     * (@a.speech = @b with @b = @a would never end). */
    if (refers_to_rule_from(pack, tree, index))
        return vc_fail(VC_EPARSE,
                       "%s:%d: @%s.speech may use only rules defined before @%s", p->file,
                       p->line, name, name);
    pack->rules[index].speech = tree;
    return VC_OK;
}

static vc_status intents_line(parser *p, const char *s, size_t len, void *ctx)
{
    vc_pack *pack = p->pack;
    char name[64];
    (void)ctx;

    size_t speech_len = sizeof "[.speech]" - 1;
    if (len > speech_len && s[len - 1] == ']' && memcmp(s + len - 8, ".speech]", 8) == 0) {
        /* "[name.speech]": the recogniser's templates for intent name */
        char head[80];
        if (len - 7 >= sizeof head)
            return vc_fail(VC_EPARSE, "%s:%d: intent name too long", p->file, p->line);
        memcpy(head, s, len - 8);
        head[len - 8] = ']';
        if (!section_header(head, len - 7, name, sizeof name))
            return vc_fail(VC_EPARSE, "%s:%d: expected [intent.speech]", p->file, p->line);
        if (pack->n_intents == 0 || strcmp(pack->intents[pack->n_intents - 1].name, name) != 0)
            return vc_fail(VC_EPARSE,
                           "%s:%d: [%s.speech] must follow the templates of [%s]", p->file,
                           p->line, name, name);
        if (pack->intents[pack->n_intents - 1].n_speech > 0 || p->in_speech)
            return vc_fail(VC_EPARSE, "%s:%d: [%s.speech] defined twice", p->file, p->line,
                           name);
        p->in_speech = 1;
        return VC_OK;
    }
    if (section_header(s, len, name, sizeof name)) {
        p->in_speech = 0;
        for (size_t i = 0; i < pack->n_intents; i++)
            if (strcmp(pack->intents[i].name, name) == 0)
                return vc_fail(VC_EPARSE, "%s:%d: intent [%s] defined twice", p->file, p->line,
                               name);
        if (grow(&pack->intents, &pack->cap_intents, pack->n_intents, sizeof *pack->intents) != 0)
            return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
        pack_intent *in = &pack->intents[pack->n_intents];
        memset(in, 0, sizeof *in);
        in->name = vc_arena_strdup(&pack->arena, name);
        if (!in->name)
            return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
        pack->n_intents++;
        return VC_OK;
    }
    if (s[0] == '@') {
        size_t i = 1;
        while (i < len && is_name_char(s[i]))
            i++;
        size_t name_end = i;
        if (name_end > 1 && len - i >= 7 && memcmp(s + i, ".speech", 7) == 0 &&
            (len - i == 7 || !is_name_char(s[i + 7])))
            return speech_rule_line(p, s, len, name_end, i + 7);
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len && s[i] == '=') {
            if (name_end == 1 || name_end - 1 >= sizeof name)
                return vc_fail(VC_EPARSE, "%s:%d: a rule needs a name: @name = …", p->file,
                               p->line);
            memcpy(name, s + 1, name_end - 1);
            name[name_end - 1] = '\0';
            if (find_rule(pack, name))
                return vc_fail(VC_EPARSE, "%s:%d: rule @%s defined twice", p->file, p->line, name);
            vc_tpl *tree;
            size_t size;
            int depth;
            vc_status rc = parse_measured(p, s + i + 1, len - i - 1, &tree, &size, &depth);
            if (rc != VC_OK)
                return rc;
            if (grow(&pack->rules, &pack->cap_rules, pack->n_rules, sizeof *pack->rules) != 0)
                return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
            pack->rules[pack->n_rules].name = vc_arena_strdup(&pack->arena, name);
            pack->rules[pack->n_rules].tree = tree;
            pack->rules[pack->n_rules].size = size;
            pack->rules[pack->n_rules].depth = depth;
            pack->rules[pack->n_rules].speech = NULL;
            if (!pack->rules[pack->n_rules].name)
                return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
            pack->n_rules++;
            return VC_OK;
        }
    }
    if (pack->n_intents == 0)
        return vc_fail(VC_EPARSE, "%s:%d: template before any [intent] section", p->file, p->line);
    vc_tpl *tree;
    size_t size;
    int depth;
    vc_status rc = parse_measured(p, s, len, &tree, &size, &depth);
    if (rc != VC_OK)
        return rc;
    pack_intent *in = &pack->intents[pack->n_intents - 1];
    if (p->in_speech) {
        if (grow(&in->speech, &in->cap_speech, in->n_speech, sizeof *in->speech) != 0)
            return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
        in->speech[in->n_speech++] = tree;
        return VC_OK;
    }
    if (grow(&in->templates, &in->cap, in->n, sizeof *in->templates) != 0)
        return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
    in->templates[in->n++] = tree;
    return VC_OK;
}

/* ---- slot list files ------------------------------------------------------ */

/* How many phrases t expands to, saturating at limit + 1. */
static size_t phrase_count(const vc_tpl *t, size_t limit)
{
    size_t n;
    switch (t->kind) {
    case VC_TPL_WORD:
        return 1;
    case VC_TPL_OPT:
        n = phrase_count(t->kids[0], limit) + 1;
        return n > limit ? limit + 1 : n;
    case VC_TPL_ALT:
        n = 0;
        for (size_t i = 0; i < t->n_kids && n <= limit; i++)
            n += phrase_count(t->kids[i], limit);
        return n > limit ? limit + 1 : n;
    case VC_TPL_SEQ:
        n = 1;
        for (size_t i = 0; i < t->n_kids && n <= limit; i++) {
            size_t k = phrase_count(t->kids[i], limit);
            n = k != 0 && n > limit / k ? limit + 1 : n * k;
        }
        return n > limit ? limit + 1 : n;
    default:
        return 0; /* the parser admits no other node in a list entry */
    }
}

typedef struct {
    char **phrases; /* heap strings, words separated by one space */
    size_t n, cap;
} phrase_set;

static void phrase_set_free(phrase_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->phrases[i]);
    free(s->phrases);
    s->phrases = NULL;
    s->n = s->cap = 0;
}

static int phrase_add(phrase_set *s, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (grow(&s->phrases, &s->cap, s->n, sizeof *s->phrases) != 0)
        return -1;
    char *p = malloc(na + nb + 2);
    if (!p)
        return -1;
    memcpy(p, a, na);
    p[na] = '\0';
    if (na && nb)
        p[na++] = ' ';
    memcpy(p + na, b, nb + 1);
    s->phrases[s->n++] = p;
    return 0;
}

/* Every phrase of t, the empty phrase included when t is optional. The
 * count was bounded before, so this cannot run away. */
static int expand(const vc_tpl *t, phrase_set *out)
{
    switch (t->kind) {
    case VC_TPL_WORD:
        return phrase_add(out, t->word, "");
    case VC_TPL_OPT:
        if (phrase_add(out, "", "") != 0)
            return -1;
        return expand(t->kids[0], out);
    case VC_TPL_ALT:
        for (size_t i = 0; i < t->n_kids; i++)
            if (expand(t->kids[i], out) != 0)
                return -1;
        return 0;
    case VC_TPL_SEQ: {
        phrase_set acc = {0};
        if (phrase_add(&acc, "", "") != 0)
            return -1;
        for (size_t i = 0; i < t->n_kids; i++) {
            phrase_set kid = {0}, next = {0};
            if (expand(t->kids[i], &kid) != 0)
                goto out_fail;
            for (size_t a = 0; a < acc.n; a++)
                for (size_t b = 0; b < kid.n; b++)
                    if (phrase_add(&next, acc.phrases[a], kid.phrases[b]) != 0) {
                        phrase_set_free(&kid);
                        phrase_set_free(&next);
                        goto out_fail;
                    }
            phrase_set_free(&kid);
            phrase_set_free(&acc);
            acc = next;
            continue;
        out_fail:
            phrase_set_free(&acc);
            return -1;
        }
        for (size_t a = 0; a < acc.n; a++) {
            if (grow(&out->phrases, &out->cap, out->n, sizeof *out->phrases) != 0) {
                phrase_set_free(&acc);
                return -1;
            }
            out->phrases[out->n++] = acc.phrases[a];
            acc.phrases[a] = NULL;
        }
        acc.n = 0;
        phrase_set_free(&acc);
        return 0;
    }
    default:
        return 0;
    }
}

typedef struct {
    pack_list *list;
    phrase_set phrases;
    const char **values; /* parallel to phrases, arena strings or NULL */
    size_t cap_values;
} list_ctx;

static vc_status list_line(parser *p, const char *s, size_t len, void *user)
{
    list_ctx *ctx = user;
    p->rc = VC_OK;
    p->list_entry = 1;
    vc_tpl *t = parse_line(p, s, len);
    p->list_entry = 0;
    if (!t)
        return p->rc;
    const char *value = NULL;
    if (p->pos < p->len && p->s[p->pos] == '=') {
        size_t a = p->pos + 1;
        while (a < len && (s[a] == ' ' || s[a] == '\t'))
            a++;
        if (a == len)
            return vc_fail(VC_EPARSE, "%s:%d: '=' must be followed by a value", p->file, p->line);
        value = vc_arena_strndup(&p->pack->arena, s + a, len - a);
        if (!value)
            return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
    }
    size_t room = VC_LIST_MAX_PHRASES - ctx->phrases.n;
    if (phrase_count(t, room) > room)
        return vc_fail(VC_ETOOBIG, "%s:%d: the list expands to more than %d phrases", p->file,
                       p->line, VC_LIST_MAX_PHRASES);
    size_t before = ctx->phrases.n;
    if (expand(t, &ctx->phrases) != 0)
        return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
    for (size_t i = before; i < ctx->phrases.n; i++) {
        if (grow(&ctx->values, &ctx->cap_values, i, sizeof *ctx->values) != 0)
            return vc_fail(VC_ENOMEM, "%s:%d: out of memory", p->file, p->line);
        ctx->values[i] = value;
    }
    return VC_OK;
}

/* A path inside the pack: relative, no "..". */
static int safe_relative_path(const char *rel)
{
    if (!*rel || rel[0] == '/' || strchr(rel, '\\'))
        return 0;
    for (const char *s = rel; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        s += n;
        if (*s == '/')
            s++;
    }
    return 1;
}

static vc_status load_list_file(vc_pack *pack, const pack_source *src, pack_list *l)
{
    const char *rel = l->source + 5;
    char path[4096];
    char *text = NULL;
    list_ctx ctx = {l, {0}, NULL, 0};
    parser p = {pack, path, 0, NULL, 0, 0, 0, 0, VC_OK, 0};
    vc_status rc;

    source_path(src, rel, path, sizeof path);
    if (!safe_relative_path(rel))
        return vc_fail(VC_EPARSE, "pack.ini: list '%s': %s is not a path inside the pack", l->name,
                       rel);
    rc = source_read(src, rel, &text);
    if (rc != VC_OK)
        return rc;
    rc = for_each_line(&p, text, list_line, &ctx);
    if (rc != VC_OK)
        goto out_free;
    l->phrases = vc_arena_alloc(&pack->arena, (ctx.phrases.n + 1) * sizeof *l->phrases);
    l->values = vc_arena_alloc(&pack->arena, (ctx.phrases.n + 1) * sizeof *l->values);
    if (!l->phrases || !l->values) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
        goto out_free;
    }
    for (size_t i = 0; i < ctx.phrases.n; i++) {
        if (!ctx.phrases.phrases[i][0])
            continue; /* an entry that is all optional may be said as nothing */
        l->phrases[l->n_phrases] = vc_arena_strdup(&pack->arena, ctx.phrases.phrases[i]);
        if (!l->phrases[l->n_phrases]) {
            rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
            goto out_free;
        }
        l->values[l->n_phrases++] = ctx.values[i];
    }
out_free:
    phrase_set_free(&ctx.phrases);
    free(ctx.values);
    free(text);
    return rc;
}

/* ---- the pack ------------------------------------------------------------ */

/* pack.ini answer_intents: intents that only answer a question of the
 * assistant ("yes", a PIN); each must name an intent of intents.txt. */
static vc_status mark_answer_intents(vc_pack *pack, const pack_source *src)
{
    char path[4096];
    const char *all = setting(pack, "answer_intents");

    if (!all)
        return VC_OK;
    source_path(src, "pack.ini", path, sizeof path);
    for (const char *s = all; *s;) {
        size_t n = strcspn(s, ",");
        size_t a = 0, b = n;
        while (a < b && (s[a] == ' ' || s[a] == '\t'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        if (b > a) {
            size_t i = 0;
            while (i < pack->n_intents && (strlen(pack->intents[i].name) != b - a ||
                                           memcmp(pack->intents[i].name, s + a, b - a) != 0))
                i++;
            if (i == pack->n_intents)
                return vc_fail(VC_EPARSE, "%s: answer_intents: no intent [%.*s] in intents.txt",
                               path, (int)(b - a), s + a);
            pack->intents[i].is_answer = 1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return VC_OK;
}

static vc_status load(const pack_source *src, vc_pack **out)
{
    vc_pack *pack;
    char *text = NULL;
    char path[4096];
    vc_status rc;

    *out = NULL;
    pack = calloc(1, sizeof *pack);
    if (!pack)
        return vc_fail(VC_ENOMEM, "pack: out of memory");
    vc_arena_init(&pack->arena);
    rc = load_pack_ini(pack, src);
    if (rc != VC_OK)
        goto out_free_pack;
    for (size_t i = 0; i < pack->n_lists; i++) {
        if (pack->lists[i].dynamic)
            continue;
        rc = load_list_file(pack, src, &pack->lists[i]);
        if (rc != VC_OK)
            goto out_free_pack;
    }
    source_path(src, "intents.txt", path, sizeof path);
    rc = source_read(src, "intents.txt", &text);
    if (rc != VC_OK)
        goto out_free_pack;
    parser p = {pack, path, 0, NULL, 0, 0, 0, 0, VC_OK, 0};
    rc = for_each_line(&p, text, intents_line, NULL);
    free(text);
    if (rc != VC_OK)
        goto out_free_pack;
    if (pack->n_intents == 0) {
        rc = vc_fail(VC_EPARSE, "%s: no [intent] section", path);
        goto out_free_pack;
    }
    for (size_t i = 0; i < pack->n_intents; i++) {
        if (pack->intents[i].n == 0) {
            rc = vc_fail(VC_EPARSE, "%s: intent [%s] has no templates", path,
                         pack->intents[i].name);
            goto out_free_pack;
        }
    }
    if ((rc = mark_answer_intents(pack, src)) != VC_OK)
        goto out_free_pack;
    rc = load_replies(pack, src);
    if (rc != VC_OK)
        goto out_free_pack;
    *out = pack;
    return VC_OK;

out_free_pack:
    vc_pack_free(pack);
    return rc;
}

vc_status vc_pack_load(const char *dir, vc_pack **out)
{
    if (!out)
        return vc_fail(VC_EINVAL, "vc_pack_load: out is NULL");
    *out = NULL;
    if (!dir || !*dir)
        return vc_fail(VC_EINVAL, "vc_pack_load: no pack directory");
    pack_source src = {dir, NULL, 0};
    return load(&src, out);
}

vc_status vc_pack_load_memory(const vc_pack_file *files, size_t n, vc_pack **out)
{
    if (!out)
        return vc_fail(VC_EINVAL, "vc_pack_load_memory: out is NULL");
    *out = NULL;
    if (!files && n)
        return vc_fail(VC_EINVAL, "vc_pack_load_memory: files is NULL");
    pack_source src = {NULL, files, n};
    return load(&src, out);
}

void vc_pack_free(vc_pack *pack)
{
    if (!pack)
        return;
    for (size_t i = 0; i < pack->n_intents; i++) {
        free(pack->intents[i].templates);
        free(pack->intents[i].speech);
    }
    for (size_t i = 0; i < pack->n_replies; i++)
        free(pack->replies[i].entries);
    free(pack->intents);
    free(pack->replies);
    free(pack->settings);
    free(pack->lists);
    free(pack->rules);
    free(pack->fillers);
    free(pack->speech_fillers);
    vc_arena_free(&pack->arena);
    free(pack);
}

const char *vc_pack_name(const vc_pack *pack)
{
    return pack ? pack->name : NULL;
}

const char *vc_pack_setting(const vc_pack *pack, const char *key)
{
    return pack && key ? setting(pack, key) : NULL;
}

static const char *reply_in(const vc_pack *pack, const char *locale, const char *key)
{
    for (size_t i = 0; i < pack->n_replies; i++) {
        const pack_replies *r = &pack->replies[i];
        if (strcmp(r->locale, locale) != 0)
            continue;
        for (size_t j = 0; j < r->n; j++)
            if (strcmp(r->entries[j].key, key) == 0)
                return r->entries[j].value;
    }
    return NULL;
}

const char *vc_pack_language(const vc_pack *pack)
{
    return pack->language;
}

vc_language vc_pack_lang(const vc_pack *pack)
{
    return pack->lang;
}

const vc_pack_voice *vc_pack_brand_voice(const vc_pack *pack)
{
    return &pack->voice;
}

const char *vc_pack_default_locale(const vc_pack *pack)
{
    return pack->default_locale;
}

static const pack_replies *replies_of(const vc_pack *pack, const char *locale)
{
    for (size_t i = 0; locale && i < pack->n_replies; i++)
        if (strcmp(pack->replies[i].locale, locale) == 0)
            return &pack->replies[i];
    return NULL;
}

const char *vc_pack_locale(const vc_pack *pack, size_t i)
{
    return i < pack->n_replies ? pack->replies[i].locale : NULL;
}

int vc_pack_has_locale(const vc_pack *pack, const char *locale)
{
    return replies_of(pack, locale) != NULL;
}

const char *vc_pack_reply_in(const vc_pack *pack, const char *locale, const char *key)
{
    const pack_replies *r = replies_of(pack, locale);
    for (size_t i = 0; r && key && i < r->n; i++)
        if (strcmp(r->entries[i].key, key) == 0)
            return r->entries[i].value;
    return NULL;
}

const char *vc_pack_reply_key(const vc_pack *pack, const char *locale, size_t i)
{
    const pack_replies *r = replies_of(pack, locale);
    return r && i < r->n ? r->entries[i].key : NULL;
}

const char *vc_pack_reply(const vc_pack *pack, const char *locale, const char *key)
{
    if (!pack || !key)
        return NULL;
    const char *r = locale ? reply_in(pack, locale, key) : NULL;
    return r ? r : reply_in(pack, pack->default_locale, key);
}

int vc_pack_dynamic_list(const vc_pack *pack, size_t i, const char **list_name, const char **source)
{
    if (!pack)
        return 0;
    for (size_t l = 0; l < pack->n_lists; l++) {
        if (!pack->lists[l].dynamic)
            continue;
        if (i-- == 0) {
            if (list_name)
                *list_name = pack->lists[l].name;
            if (source)
                *source = pack->lists[l].source;
            return 1;
        }
    }
    return 0;
}

const vc_tpl *vc_pack_rule_speech(const vc_pack *pack, const char *rule)
{
    const pack_rule *r = pack && rule ? find_rule(pack, rule) : NULL;
    return r ? r->speech : NULL;
}

size_t vc_pack_intent_count(const vc_pack *pack)
{
    return pack->n_intents;
}

const char *vc_pack_intent_name(const vc_pack *pack, size_t intent)
{
    return intent < pack->n_intents ? pack->intents[intent].name : NULL;
}

size_t vc_pack_template_count(const vc_pack *pack, size_t intent)
{
    return intent < pack->n_intents ? pack->intents[intent].n : 0;
}

int vc_pack_intent_is_answer(const vc_pack *pack, size_t intent)
{
    return intent < pack->n_intents && pack->intents[intent].is_answer;
}

size_t vc_pack_speech_template_count(const vc_pack *pack, size_t intent)
{
    return intent < pack->n_intents ? pack->intents[intent].n_speech : 0;
}

const vc_tpl *vc_pack_speech_template(const vc_pack *pack, size_t intent, size_t i)
{
    if (intent >= pack->n_intents || i >= pack->intents[intent].n_speech)
        return NULL;
    return pack->intents[intent].speech[i];
}

const vc_tpl *vc_pack_template(const vc_pack *pack, size_t intent, size_t i)
{
    if (intent >= pack->n_intents || i >= pack->intents[intent].n)
        return NULL;
    return pack->intents[intent].templates[i];
}

size_t vc_pack_list_count(const vc_pack *pack)
{
    return pack->n_lists;
}

const char *vc_pack_list_name(const vc_pack *pack, size_t list)
{
    return list < pack->n_lists ? pack->lists[list].name : NULL;
}

const char *vc_pack_list_source(const vc_pack *pack, size_t list)
{
    return list < pack->n_lists ? pack->lists[list].source : NULL;
}

int vc_pack_list_is_dynamic(const vc_pack *pack, size_t list)
{
    return list < pack->n_lists && pack->lists[list].dynamic;
}

size_t vc_pack_list_phrase_count(const vc_pack *pack, size_t list)
{
    return list < pack->n_lists ? pack->lists[list].n_phrases : 0;
}

const char *vc_pack_list_phrase(const vc_pack *pack, size_t list, size_t i, const char **value)
{
    if (list >= pack->n_lists || i >= pack->lists[list].n_phrases)
        return NULL;
    if (value)
        *value = pack->lists[list].values[i];
    return pack->lists[list].phrases[i];
}

size_t vc_pack_filler_count(const vc_pack *pack)
{
    return pack->n_fillers;
}

const char *vc_pack_filler(const vc_pack *pack, size_t i)
{
    return i < pack->n_fillers ? pack->fillers[i] : NULL;
}

size_t vc_pack_speech_filler_count(const vc_pack *pack)
{
    return pack->has_speech_fillers ? pack->n_speech_fillers : pack->n_fillers;
}

const char *vc_pack_speech_filler(const vc_pack *pack, size_t i)
{
    return pack->has_speech_fillers ? (i < pack->n_speech_fillers ? pack->speech_fillers[i] : NULL)
                                    : vc_pack_filler(pack, i);
}

double vc_pack_reject_below(const vc_pack *pack)
{
    return pack->reject_below;
}
