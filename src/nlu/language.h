/* Internal to src/nlu: the languages a pack can be written in (pack.ini
 * [pack] language, models/README.md). The words numbers are said with and
 * the match form of words (vc_singularise_in) depend on it. */
#ifndef VC_NLU_LANGUAGE_H
#define VC_NLU_LANGUAGE_H

typedef enum {
    VC_LANG_EN, /* English (the default) */
    VC_LANG_NB, /* Norwegian Bokmål */
} vc_language;

#endif
