/* Domain packs and the understander: text -> intent, slots, confidence.
 *
 * A pack (models/domains/<name>/, documented in models/README.md) holds the
 * sentence templates of every intent, its slot lists, its reply templates per
 * locale and its settings. vc_understander compiles a pack into one matcher;
 * dynamic slot lists (the catalog's product names, its attributes) are given
 * to it with vc_understander_set_list() and can be replaced at any time (after
 * a catalog sync) without recompiling the templates.
 *
 * The same compiled templates are what the speech recogniser's grammar is
 * built from (issue 3), so a pack is the single source of truth of what can
 * be said. */
#ifndef VC_UNDERSTANDER_H
#define VC_UNDERSTANDER_H

#include <stddef.h>

#include "core/status.h"

/* Ceilings on outside data. */
#define VC_UTTERANCE_MAX_BYTES 1024 /* longer text is rejected, not truncated */
#define VC_UTTERANCE_MAX_TOKENS 64
#define VC_PACK_FILE_MAX_BYTES (1u << 20)

typedef struct vc_pack vc_pack;
typedef struct vc_understander vc_understander;

/* ---- packs --------------------------------------------------------------- */

/* Loads the pack in dir (pack.ini, intents.txt, slots/, replies/). A syntax
 * error fails with VC_EPARSE and a detail naming file, line and problem. */
VC_MUST_CHECK vc_status vc_pack_load(const char *dir, vc_pack **out);
void vc_pack_free(vc_pack *pack);

/* The pack's name ("retail"). */
const char *vc_pack_name(const vc_pack *pack);
/* A value of pack.ini's [pack] section, or NULL. The pointer lives as long
 * as the pack. */
const char *vc_pack_setting(const vc_pack *pack, const char *key);
/* The reply template `key` for locale ("en-US"), falling back to the pack's
 * default locale; NULL when the pack has none. Placeholders are {name}. */
const char *vc_pack_reply(const vc_pack *pack, const char *locale, const char *key);
/* The reply template `key` of replies/<locale>.ini only, with no fallback;
 * NULL when that file lacks it or does not exist. */
const char *vc_pack_reply_in(const vc_pack *pack, const char *locale, const char *key);
/* The i-th key (from 0, in file order) of replies/<locale>.ini; NULL past
 * the last one or when the pack has no such file. */
const char *vc_pack_reply_key(const vc_pack *pack, const char *locale, size_t i);
/* The i-th locale the pack has replies for (from 0, "en-US" for
 * replies/en-US.ini); NULL past the last one. */
const char *vc_pack_locale(const vc_pack *pack, size_t i);
/* 1 when the pack has replies/<locale>.ini, else 0. */
int vc_pack_has_locale(const vc_pack *pack, const char *locale);
/* pack.ini default_locale ("en-US" when unset). */
const char *vc_pack_default_locale(const vc_pack *pack);

/* The language the pack's templates and slot lists are written in: pack.ini
 * [pack] language, "en" (the default) or "nb" (Norwegian Bokmål); any other
 * value fails the load. Numbers ("to hundre og femti") and word forms are
 * understood the way of that language. The speech recogniser's acoustic
 * model is English: only "en" packs can be listened for. */
const char *vc_pack_language(const vc_pack *pack);

/* The pack's brand voice, pack.ini [voice] (every key optional). The device
 * config's [voice] merges over it; the bits have the values of
 * VC_CONFIG_SET_* (core/config.h). */
enum {
    VC_PACK_VOICE_SET_VOICE = 1u << 0,
    VC_PACK_VOICE_SET_RATE = 1u << 1,
    VC_PACK_VOICE_SET_PITCH = 1u << 2,
    VC_PACK_VOICE_SET_VOLUME = 1u << 3,
};

typedef struct {
    const char *voice; /* espeak-ng voice ("nb", "en-us+f3"); "" when unset */
    int rate;          /* words per minute, 80..450; 0 when unset */
    int pitch;         /* 0..100; 0 when unset */
    int volume;        /* 0..200; 0 when unset */
    unsigned set;      /* VC_PACK_VOICE_SET_* of the keys pack.ini gives (pitch
                          and volume may be set to 0) */
} vc_pack_voice;

/* Never NULL; lives as long as the pack. A bad value (rate = 20, an unknown
 * key, a key given twice) fails vc_pack_load with VC_EPARSE naming it. */
const vc_pack_voice *vc_pack_brand_voice(const vc_pack *pack);
/* Dynamic lists the pack declares ("product" -> "catalog:products"). i from 0;
 * returns 0 past the last one. */
int vc_pack_dynamic_list(const vc_pack *pack, size_t i, const char **list_name,
                         const char **source);

/* ---- understander -------------------------------------------------------- */

/* Compiles pack (which must outlive the understander). Dynamic lists start
 * empty: a template that needs one matches nothing until it is set. */
VC_MUST_CHECK vc_status vc_understander_new(const vc_pack *pack, vc_understander **out);
void vc_understander_free(vc_understander *u);

/* One phrase of a list: the words a customer may say and the value a slot
 * takes when they are said (NULL value: the phrase itself). A derived phrase
 * (a shortened product name, say) loses against a full name or an alias and
 * may be ambiguous between several values. */
typedef struct {
    const char *phrase;
    const char *value;
    int derived;
} vc_list_entry;

/* Replaces the dynamic list list_name with entries (copied). Fails with
 * VC_ENOTFOUND when the pack declares no such list; on any failure the list
 * stays as it was. (A list builder, below, fed from an array.) */
VC_MUST_CHECK vc_status vc_understander_set_list(vc_understander *u, const char *list_name,
                                                 const vc_list_entry *entries, size_t n);

/* Builds a dynamic list one phrase at a time, for lists that come from a
 * stream (the store's catalog, read product by product) and should never be
 * held whole as an array. The list in effect does not change until commit,
 * and stays as it was when the building fails or is aborted.
 *
 *   vc_list_builder *b;
 *   rc = vc_understander_list_begin(u, "product", &b);
 *   ... rc = vc_list_builder_add(b, "coffee filters", "HH-0001", 1); ...
 *   rc = rc == VC_OK ? vc_understander_list_commit(b)
 *                    : (vc_understander_list_abort(b), rc);
 *
 * The rules of vc_list_entry hold across the whole list, whatever the order
 * of the phrases: a phrase that is a name or alias of one value beats the
 * same words derived for others, and a derived phrase of several values is
 * ambiguous between them. Several builders (of different lists) may be open
 * at once; each must be committed or aborted before u is freed. Not
 * thread-safe, like the understander. */
typedef struct vc_list_builder vc_list_builder;

/* Starts a new version of list_name. VC_ENOTFOUND when the pack declares no
 * such list; *out is NULL on failure. */
VC_MUST_CHECK vc_status vc_understander_list_begin(vc_understander *u, const char *list_name,
                                                   vc_list_builder **out);
/* Adds one phrase (phrase and value are copied; value NULL: the phrase
 * itself). A phrase without words, or longer than a sentence may be
 * (VC_UTTERANCE_MAX_BYTES, VC_UTTERANCE_MAX_TOKENS), is skipped and counted
 * in a warning at commit. Fails with
 * VC_ETOOBIG past 1,000,000 phrases and with VC_ENOMEM; after a failure the
 * builder takes no more phrases and its commit returns that failure. */
VC_MUST_CHECK vc_status vc_list_builder_add(vc_list_builder *b, const char *phrase,
                                            const char *value, int derived);
/* Makes the built list the one in effect and frees the old one and b (b is
 * freed whatever the result). */
VC_MUST_CHECK vc_status vc_understander_list_commit(vc_list_builder *b);
/* Frees b; the list in effect stays. NULL is ignored. */
void vc_understander_list_abort(vc_list_builder *b);

typedef enum { VC_SLOT_STRING, VC_SLOT_NUMBER } vc_slot_type;

typedef struct {
    char *name;          /* "product", "size" */
    vc_slot_type type;
    char *value;         /* normalised: a SKU, "456", "twelve ounce"; a number as text */
    double number;       /* the value when type is VC_SLOT_NUMBER */
    char *text;          /* the words that were said */
    char **alternatives; /* other values equally likely (an ambiguous product) */
    size_t n_alternatives;
} vc_slot;

typedef struct {
    char *text;         /* the input as understood: lower case, fillers kept */
    const char *intent; /* NULL: rejected. Points into the pack. */
    double confidence;  /* 0..1 */
    vc_slot *slots;
    size_t n_slots;
} vc_understanding;

/* Understands one sentence. Rejection is not an error: it returns VC_OK with
 * intent NULL. Errors are for bad arguments and memory. The understander
 * keeps scratch state, so one object serves one thread at a time.
 * out must be cleared with vc_understanding_clear(). */
VC_MUST_CHECK vc_status vc_understand(vc_understander *u, const char *text,
                                      vc_understanding *out);
void vc_understanding_clear(vc_understanding *r);
/* The first slot called name, or NULL. */
const vc_slot *vc_understanding_slot(const vc_understanding *r, const char *name);

/* The output contract of DESIGN.md, one line, no trailing newline:
 * {"text":…,"intent":…|null,"confidence":…,"slots":[{"name","value","text"}]}
 * Number slots have JSON number values. Caller frees. */
char *vc_understanding_to_json(const vc_understanding *r);

#endif
