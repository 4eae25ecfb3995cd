/* Pronunciations of a grammar's words; see lexicon.h.
 *
 * espeak-ng keeps one engine in global state, which this file shares with
 * the synthesiser through espeak_engine.h: one lock, one initialisation,
 * and the voice set again whenever the other user set its own. Phonemising
 * happens only when a word is missing from the dictionaries, that is when
 * the grammar is compiled. */
#include "speech/lexicon.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "speech/espeak_engine.h"

/* ---- espeak-ng phonemes -> ARPAbet -------------------------------------- */

/* The en-us acoustic model's context-independent phones (its mdef). */
static const char *const MODEL_PHONES[] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D",  "DH", "EH", "ER", "EY", "F",
    "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M",  "N",  "NG", "OW", "OY", "P",  "R",
    "S",  "SH", "SIL", "T", "TH", "UH", "UW", "V",  "W",  "Y",  "Z",  "ZH"};

size_t vc_lexicon_phone_count(void)
{
    return sizeof MODEL_PHONES / sizeof *MODEL_PHONES;
}

const char *vc_lexicon_phone(size_t i)
{
    return i < vc_lexicon_phone_count() ? MODEL_PHONES[i] : NULL;
}

int vc_lexicon_phone_known(const char *phone)
{
    for (size_t i = 0; i < sizeof MODEL_PHONES / sizeof *MODEL_PHONES; i++)
        if (strcmp(MODEL_PHONES[i], phone) == 0)
            return 1;
    return 0;
}

/* espeak-ng's ASCII phoneme mnemonics of its en-us voice (espeak-ng-data
 * phsource/ph_english_us and ph_english) to the ARPAbet of cmudict. Stress
 * marks (' ,) are stripped before the lookup. Where English has no exact
 * match the nearest cmudict convention wins: the flap t# is T (cmudict
 * writes "butter" B AH T ER), the glottal stop ? is T ("button"), syllabic
 * consonants are schwa + consonant, r-coloured diphthongs are vowel + R
 * ("near" i@3 -> IH R, "hair" e@ -> EH R) or vowel + ER after a diphthong
 * ("fire" aI3 -> AY ER). */
static const struct {
    const char *espeak, *arpabet;
} PHONE_MAP[] = {
    /* consonants */
    {"p", "P"}, {"b", "B"}, {"t", "T"}, {"d", "D"}, {"k", "K"}, {"g", "G"},
    {"f", "F"}, {"v", "V"}, {"T", "TH"}, {"D", "DH"}, {"s", "S"}, {"z", "Z"},
    {"S", "SH"}, {"Z", "ZH"}, {"h", "HH"}, {"tS", "CH"}, {"dZ", "JH"}, {"m", "M"},
    {"n", "N"}, {"N", "NG"}, {"l", "L"}, {"r", "R"}, {"w", "W"}, {"j", "Y"},
    {"t#", "T"}, {"d#", "D"}, {"?", "T"}, {"x", "K"}, {"C", "HH"}, {"W", "W"},
    {"r-", "ER"}, {"n-", "AH N"}, {"m-", "AH M"}, {"l-", "AH L"}, {"@L", "AH L"},
    /* vowels */
    {"a", "AE"}, {"aa", "AE"}, {"a#", "AH"}, {"A", "AA"}, {"A:", "AA"}, {"0", "AA"},
    {"O", "AO"}, {"O:", "AO"}, {"o", "OW"}, {"oU", "OW"}, {"@", "AH"}, {"@-", "AH"},
    {"@2", "AH"}, {"@5", "AH"}, {"V", "AH"}, {"3", "ER"}, {"3:", "ER"}, {"@r", "ER"},
    {"E", "EH"}, {"E2", "EH"}, {"E#", "EH"}, {"eI", "EY"}, {"I", "IH"}, {"I2", "IH"},
    {"I#", "IH"}, {"i", "IY"}, {"i:", "IY"}, {"U", "UH"}, {"u", "UW"}, {"u:", "UW"},
    {"aI", "AY"}, {"aU", "AW"}, {"OI", "OY"}, {"ju:", "Y UW"},
    /* r-coloured */
    {"A@", "AA R"}, {"O@", "AO R"}, {"o@", "AO R"}, {"e@", "EH R"}, {"i@", "IH R"},
    {"i@3", "IH R"}, {"U@", "UH R"}, {"aI@", "AY ER"}, {"aI3", "AY ER"},
    {"aU@", "AW ER"}, {"I@", "IH R"},
};

static const char *map_phoneme(const char *p)
{
    for (size_t i = 0; i < sizeof PHONE_MAP / sizeof *PHONE_MAP; i++)
        if (strcmp(PHONE_MAP[i].espeak, p) == 0)
            return PHONE_MAP[i].arpabet;
    return NULL;
}

/* The lexicon's own voice, as the engine's owner (espeak_engine.h). */
static const char lexicon_voice[] = "en-us";

static int append(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 2 > cap)
        return -1;
    if (*len > 0)
        out[(*len)++] = ' ';
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

vc_status vc_lexicon_phonemise(const char *word, char *phones, size_t cap)
{
    vc_status rc;
    size_t len = 0;

    if (cap == 0)
        return vc_fail(VC_EINVAL, "lexicon: no room for phones");
    phones[0] = '\0';
    if ((rc = vc_espeak_acquire()) != VC_OK)
        return rc;
    if (vc_espeak_owner() != lexicon_voice) {
        if (espeak_ng_SetVoiceByName("en-us") != ENS_OK) {
            rc = vc_fail(VC_EIO, "espeak-ng: no en-us voice (for the pronunciation of \"%s\")",
                         word);
            goto out_unlock;
        }
        vc_espeak_set_owner(lexicon_voice);
    }
    /* Phonemes as ASCII mnemonics, separated by '_' (bits 8-23). */
    const void *text = word;
    while (text) {
        const char *ph = espeak_TextToPhonemes(&text, espeakCHARS_UTF8, '_' << 8);
        if (!ph)
            break;
        char buf[VC_LEXICON_PHONES_MAX_BYTES];
        snprintf(buf, sizeof buf, "%s", ph);
        char *save = NULL;
        for (char *tok = strtok_r(buf, "_ ", &save); tok; tok = strtok_r(NULL, "_ ", &save)) {
            while (*tok == '\'' || *tok == ',' || *tok == '%' || *tok == '=')
                tok++;
            if (!*tok)
                continue;
            const char *arpa = map_phoneme(tok);
            if (!arpa) {
                vc_log_debug("lexicon: espeak-ng phoneme '%s' of \"%s\" has no ARPAbet match",
                             tok, word);
                continue;
            }
            if (append(phones, cap, &len, arpa) != 0) {
                rc = vc_fail(VC_ETOOBIG, "lexicon: pronunciation of \"%.64s\" too long", word);
                goto out_unlock;
            }
        }
    }
    rc = len > 0 ? VC_OK
                 : vc_fail(VC_ENOTFOUND, "lexicon: espeak-ng gives no pronunciation for \"%s\"",
                           word);
out_unlock:
    vc_espeak_release();
    return rc;
}

/* ---- the lexicon --------------------------------------------------------- */

typedef struct {
    char *word;   /* dictionary form, "read(2)" */
    char *phones; /* "R IY D" */
} entry;

typedef struct {
    const char *word;
    size_t n_prons; /* entries found so far */
    int from_extra; /* the project lexicon has it: skip the base dict's */
} wanted;

struct vc_lexicon {
    entry *entries;
    size_t n, cap;
    size_t oov;
};

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct {
    wanted *w;
    size_t n;
    int32_t *slots;
    size_t n_slots;
} wanted_set;

static wanted *wanted_find(const wanted_set *ws, const char *s, size_t n)
{
    for (size_t i = hash_str(s, n) & (ws->n_slots - 1); ws->slots[i] >= 0;
         i = (i + 1) & (ws->n_slots - 1)) {
        wanted *w = &ws->w[ws->slots[i]];
        if (strlen(w->word) == n && memcmp(w->word, s, n) == 0)
            return w;
    }
    return NULL;
}

static vc_status add_entry(vc_lexicon *lex, wanted *w, const char *phones)
{
    char name[VC_LEXICON_LINE_MAX_BYTES];
    if (lex->n == lex->cap) {
        size_t cap = lex->cap ? lex->cap * 2 : 256;
        entry *e = realloc(lex->entries, cap * sizeof *e);
        if (!e)
            return vc_fail(VC_ENOMEM, "lexicon: out of memory");
        lex->entries = e;
        lex->cap = cap;
    }
    if (w->n_prons == 0)
        snprintf(name, sizeof name, "%s", w->word);
    else
        snprintf(name, sizeof name, "%s(%zu)", w->word, w->n_prons + 1);
    char *word = strdup(name), *ph = strdup(phones);
    if (!word || !ph) {
        free(word);
        free(ph);
        return vc_fail(VC_ENOMEM, "lexicon: out of memory");
    }
    lex->entries[lex->n++] = (entry){word, ph};
    w->n_prons++;
    return VC_OK;
}

/* Reads a dictionary ("word PH ON ES" or "word(2) PH ON ES" a line) and
 * keeps the entries of wanted words. With is_extra, the words found are
 * marked so that the base dictionary's entries are skipped. */
static vc_status read_dict(vc_lexicon *lex, wanted_set *ws, const char *path, int is_extra)
{
    vc_status rc = VC_OK;
    struct stat st;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;

    FILE *f = fopen(path, "r");
    if (!f)
        return vc_fail(VC_EIO, "dictionary %s: cannot open", path);
    if (fstat(fileno(f), &st) == 0 && (uintmax_t)st.st_size > VC_LEXICON_FILE_MAX_BYTES) {
        rc = vc_fail(VC_ETOOBIG, "dictionary %s: larger than %u bytes", path,
                     VC_LEXICON_FILE_MAX_BYTES);
        goto out_close;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len > VC_LEXICON_LINE_MAX_BYTES) {
            rc = vc_fail(VC_ETOOBIG, "dictionary %s line %zu: longer than %u bytes", path,
                         lineno, VC_LEXICON_LINE_MAX_BYTES);
            goto out_close;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n' || *p == '#' || (p[0] == ';' && p[1] == ';'))
            continue;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        size_t wn = (size_t)(p - word);
        /* "read(2)" is an alternative of "read" */
        size_t base = wn;
        if (wn > 2 && word[wn - 1] == ')') {
            char *open = memchr(word, '(', wn);
            if (open)
                base = (size_t)(open - word);
        }
        wanted *w = wanted_find(ws, word, base);
        if (!w || (!is_extra && w->from_extra))
            continue;
        /* Phones: the rest of the line, whitespace collapsed; a "#" starts
         * a comment (some dictionaries annotate entries). */
        char phones[VC_LEXICON_PHONES_MAX_BYTES];
        size_t pn = 0;
        int bad = 0;
        char *save = NULL;
        for (char *ph = strtok_r(p, " \t\r\n", &save); ph; ph = strtok_r(NULL, " \t\r\n", &save)) {
            if (ph[0] == '#')
                break;
            if (!vc_lexicon_phone_known(ph)) {
                bad = 1;
                break;
            }
            if (append(phones, sizeof phones, &pn, ph) != 0) {
                bad = 1;
                break;
            }
        }
        if (bad || pn == 0) {
            if (is_extra) {
                rc = vc_fail(VC_EPARSE, "dictionary %s line %zu: \"%.*s\" has a phone the "
                                        "model lacks or no phones",
                             path, lineno, (int)wn, word);
                goto out_close;
            }
            continue;
        }
        if (is_extra)
            w->from_extra = 1;
        if ((rc = add_entry(lex, w, phones)) != VC_OK)
            goto out_close;
    }
    if (ferror(f))
        rc = vc_fail(VC_EIO, "dictionary %s: read error", path);
out_close:
    free(line);
    fclose(f);
    return rc;
}

vc_status vc_lexicon_new(const char *base_dict, const char *extra_dict, const char *const *words,
                         size_t n, vc_lexicon **out)
{
    vc_status rc;
    wanted_set ws = {0};
    vc_lexicon *lex;

    *out = NULL;
    if (!base_dict)
        return vc_fail(VC_EINVAL, "lexicon: no base dictionary");
    lex = calloc(1, sizeof *lex);
    ws.w = calloc(n + 1, sizeof *ws.w);
    ws.n_slots = 16;
    while (ws.n_slots < n * 2 + 2)
        ws.n_slots *= 2;
    ws.slots = malloc(ws.n_slots * sizeof *ws.slots);
    if (!lex || !ws.w || !ws.slots) {
        rc = vc_fail(VC_ENOMEM, "lexicon: out of memory");
        goto out_free;
    }
    memset(ws.slots, 0xff, ws.n_slots * sizeof *ws.slots);
    for (size_t i = 0; i < n; i++) {
        if (wanted_find(&ws, words[i], strlen(words[i])))
            continue;
        ws.w[ws.n] = (wanted){words[i], 0, 0};
        size_t k = hash_str(words[i], strlen(words[i])) & (ws.n_slots - 1);
        while (ws.slots[k] >= 0)
            k = (k + 1) & (ws.n_slots - 1);
        ws.slots[k] = (int32_t)ws.n++;
    }
    if (extra_dict && (rc = read_dict(lex, &ws, extra_dict, 1)) != VC_OK)
        goto out_free;
    if ((rc = read_dict(lex, &ws, base_dict, 0)) != VC_OK)
        goto out_free;
    for (size_t i = 0; i < ws.n; i++) {
        if (ws.w[i].n_prons > 0)
            continue;
        char phones[VC_LEXICON_PHONES_MAX_BYTES];
        if ((rc = vc_lexicon_phonemise(ws.w[i].word, phones, sizeof phones)) != VC_OK)
            goto out_free;
        vc_log_info("lexicon: \"%s\" not in the dictionaries; espeak-ng says %s", ws.w[i].word,
                    phones);
        if ((rc = add_entry(lex, &ws.w[i], phones)) != VC_OK)
            goto out_free;
        lex->oov++;
    }
    *out = lex;
    lex = NULL;
    rc = VC_OK;
out_free:
    vc_lexicon_free(lex);
    free(ws.w);
    free(ws.slots);
    return rc;
}

void vc_lexicon_free(vc_lexicon *lex)
{
    if (!lex)
        return;
    for (size_t i = 0; i < lex->n; i++) {
        free(lex->entries[i].word);
        free(lex->entries[i].phones);
    }
    free(lex->entries);
    free(lex);
}

size_t vc_lexicon_count(const vc_lexicon *lex)
{
    return lex->n;
}

void vc_lexicon_entry(const vc_lexicon *lex, size_t i, const char **word, const char **phones)
{
    *word = i < lex->n ? lex->entries[i].word : NULL;
    *phones = i < lex->n ? lex->entries[i].phones : NULL;
}

size_t vc_lexicon_oov_count(const vc_lexicon *lex)
{
    return lex->oov;
}
