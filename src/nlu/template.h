/* Internal to voxcart (src/nlu and the speech grammar compiler): a loaded
 * pack's templates as expression trees, its lists as expanded phrases, and a
 * loader that reads a pack from memory (tests, fuzzing).
 *
 * Walking a pack: for intent i in 0..vc_pack_intent_count(), each of its
 * templates vc_pack_template(pack, i, j) is a tree of vc_tpl nodes:
 *   WORD    one word, lower case as written (hyphenated words are already
 *           split into a SEQ of WORDs);
 *   SEQ     kids in order;  ALT  one of kids;  OPT  kids[0] or nothing;
 *   LIST    slot `name` filled from pack list `list` (vc_pack_list_*);
 *   NUMBER  a cardinal in [min, max];  DIGITS  min..max digits said one by
 *           one;  TEXT  min..max free words;
 *   TAG     kids[0], whose words become slot `name` (value `value`, or the
 *           words when value is NULL);
 *   RULE    a reference to rule `name`, whose tree is kids[0] (shared by
 *           every reference, so walk it per reference).
 *           The recogniser's grammar instead walks the rule's speech
 *           version when the pack defines one (vc_pack_rule_speech).
 * A grammar for the recogniser expands LIST from the list's phrases (file
 * lists) or from the entries last given to the understander (catalog lists),
 * NUMBER/DIGITS from number words, and TEXT from its vocabulary. */
#ifndef VC_NLU_TEMPLATE_H
#define VC_NLU_TEMPLATE_H

#include <stddef.h>

#include "core/status.h"
#include "nlu/language.h"
#include "nlu/understander.h"

/* Deepest nesting of groups and rule references in one template. */
#define VC_TPL_MAX_DEPTH 32
/* Most phrases one slot list file may expand to. */
#define VC_LIST_MAX_PHRASES 10000

typedef enum {
    VC_TPL_WORD,
    VC_TPL_SEQ,
    VC_TPL_ALT,
    VC_TPL_OPT,
    VC_TPL_LIST,
    VC_TPL_NUMBER,
    VC_TPL_DIGITS,
    VC_TPL_TEXT,
    VC_TPL_TAG,
    VC_TPL_RULE,
} vc_tpl_kind;

typedef struct vc_tpl vc_tpl;
struct vc_tpl {
    vc_tpl_kind kind;
    const char *word;  /* WORD */
    const char *name;  /* LIST, NUMBER, DIGITS, TEXT, TAG: the slot; RULE: the rule */
    const char *value; /* TAG: fixed value or NULL */
    size_t list;       /* LIST: index of the pack list */
    double min, max;   /* NUMBER, DIGITS, TEXT */
    vc_tpl **kids;
    size_t n_kids;
};

size_t vc_pack_intent_count(const vc_pack *pack);
const char *vc_pack_intent_name(const vc_pack *pack, size_t intent);
size_t vc_pack_template_count(const vc_pack *pack, size_t intent);
const vc_tpl *vc_pack_template(const vc_pack *pack, size_t intent, size_t i);
/* The templates of an [intent.speech] section: what the recogniser's
 * grammar compiles for the intent instead of its templates (a stricter
 * form: the decoder inserts words where typed text may be loose). 0 when
 * the pack has none; the understander never uses them. */
size_t vc_pack_speech_template_count(const vc_pack *pack, size_t intent);
/* 1 for an intent named by pack.ini answer_intents: it only answers a
 * question of the assistant ("yes", "no", a PIN), so the recogniser listens
 * for it only when one was asked (a digit loop or a lone "yes" is what noise
 * is heard as when the customer is ordering). */
int vc_pack_intent_is_answer(const vc_pack *pack, size_t intent);
const vc_tpl *vc_pack_speech_template(const vc_pack *pack, size_t intent, size_t i);

/* The tree of `@rule.speech = …`, the version of rule `rule` the speech
 * grammar compiler expands at every reference to @rule (in place of kids[0]
 * of the RULE node); NULL when the pack has none. The understander ignores
 * it. A speech version uses only rules defined before its base rule, so
 * expanding speech versions recursively always ends. */
const vc_tpl *vc_pack_rule_speech(const vc_pack *pack, const char *rule);

size_t vc_pack_list_count(const vc_pack *pack);
const char *vc_pack_list_name(const vc_pack *pack, size_t list);
/* "file:slots/ordinal.txt", "catalog:products" */
const char *vc_pack_list_source(const vc_pack *pack, size_t list);
/* 1 for lists given at run time (catalog:*). */
int vc_pack_list_is_dynamic(const vc_pack *pack, size_t list);
/* Phrases of a file list, every alternative expanded: "first" -> "1".
 * *value is NULL when the entry has none (the slot takes the words said). */
size_t vc_pack_list_phrase_count(const vc_pack *pack, size_t list);
const char *vc_pack_list_phrase(const vc_pack *pack, size_t list, size_t i, const char **value);

/* Filler phrases of pack.ini, lower case ("um", "can you"). */
size_t vc_pack_filler_count(const vc_pack *pack);
const char *vc_pack_filler(const vc_pack *pack, size_t i);
/* What the recogniser may hear before a sentence: pack.ini speech_fillers
 * when the key is there (hesitations: "um", "uh"), else the fillers. */
size_t vc_pack_speech_filler_count(const vc_pack *pack);
const char *vc_pack_speech_filler(const vc_pack *pack, size_t i);
/* pack.ini reject_below (default 0.6). */
double vc_pack_reject_below(const vc_pack *pack);
/* pack.ini language as an enum (vc_pack_language). */
vc_language vc_pack_lang(const vc_pack *pack);

/* The pack u was compiled from (for the recogniser's grammar compiler). */
const vc_pack *vc_understander_pack(const vc_understander *u);

/* Phrases of list `list` as last given to the understander (a catalog
 * list) or compiled from the pack (a file list); for the recogniser's
 * grammar. */
size_t vc_understander_list_phrase_count(const vc_understander *u, size_t list);
const char *vc_understander_list_phrase(const vc_understander *u, size_t list, size_t i,
                                        const char **value);

/* One file of a pack held in memory: path relative to the pack directory
 * ("pack.ini", "intents.txt", "slots/ordinal.txt", "replies/en-US.ini"). */
typedef struct {
    const char *path;
    const char *text;
} vc_pack_file;

/* Loads a pack from files held in memory, with the same checks and errors
 * as vc_pack_load (the detail names the relative path). */
VC_MUST_CHECK vc_status vc_pack_load_memory(const vc_pack_file *files, size_t n, vc_pack **out);

#endif
