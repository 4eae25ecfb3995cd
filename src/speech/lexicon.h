/* Internal to src/speech: the pronunciations of a grammar's words.
 *
 * Entries come from the project lexicon (models/lexicon.dict; a word listed
 * there takes only those pronunciations), then the base dictionary
 * (pocketsphinx's cmudict-en-us.dict, alternatives "word(2)" included), and
 * for words in neither from espeak-ng's phonemes mapped to the en-us model's
 * ARPAbet phone set (the table in lexicon.c). Only the words asked for are
 * kept, so the decoder loads a dictionary the size of the grammar. */
#ifndef VC_SPEECH_LEXICON_H
#define VC_SPEECH_LEXICON_H

#include <stddef.h>

#include "core/status.h"

/* Ceilings on dictionary files (outside data). */
#define VC_LEXICON_FILE_MAX_BYTES (64u << 20)
#define VC_LEXICON_LINE_MAX_BYTES 1024
#define VC_LEXICON_PHONES_MAX_BYTES 512

typedef struct vc_lexicon vc_lexicon;

/* Looks words[0..n) up. base_dict is required; extra_dict may be NULL. A
 * word no source can pronounce fails with VC_ENOTFOUND naming it. */
VC_MUST_CHECK vc_status vc_lexicon_new(const char *base_dict, const char *extra_dict,
                                       const char *const *words, size_t n, vc_lexicon **out);
void vc_lexicon_free(vc_lexicon *lex);

/* Entries in dictionary form: word ("read(2)" for an alternative) and its
 * phones separated by single spaces ("R IY D"). */
size_t vc_lexicon_count(const vc_lexicon *lex);
void vc_lexicon_entry(const vc_lexicon *lex, size_t i, const char **word, const char **phones);
/* Words pronounced through espeak-ng. */
size_t vc_lexicon_oov_count(const vc_lexicon *lex);

/* espeak-ng's pronunciation of word (en-us) as ARPAbet phones of the en-us
 * model into phones (cap bytes). VC_ENOTFOUND when nothing maps. Serialised
 * by a lock of its own; see lexicon.c about sharing espeak-ng. */
VC_MUST_CHECK vc_status vc_lexicon_phonemise(const char *word, char *phones, size_t cap);

/* 1 when phone is one of the en-us model's phones ("AA" .. "ZH", "SIL"). */
int vc_lexicon_phone_known(const char *phone);
/* The model's context-independent phones, SIL included: 0..count-1. */
size_t vc_lexicon_phone_count(void);
const char *vc_lexicon_phone(size_t i);

#endif
