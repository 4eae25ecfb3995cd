/* Labelled recordings for `voxcart eval`, and the scoring rule of the
 * published speech-to-intent benchmark (../shared/data/README.md).
 *
 * A labels file is one JSON object mapping a recording's file name to what
 * it means:
 *   {"a.wav": {"intent": "orderDrink", "slots": {"size": "twelve ounce"}}, ...}
 * "intent": null (or absent) labels a recording that should be rejected; its
 * slots are then ignored. Slot values are the phrases as the customer said
 * them and are compared trimmed of surrounding spaces. */
#ifndef VC_LABELS_H
#define VC_LABELS_H

#include <stddef.h>

#include "core/status.h"
#include "nlu/understander.h"

/* Ceilings on a labels file: outside data. */
#define VC_LABELS_MAX_BYTES (16u << 20)
#define VC_LABELS_MAX_FILES 100000
#define VC_LABELS_MAX_SLOTS 32      /* labelled slots of one recording */
#define VC_LABELS_MAX_SLOT_NAMES 64 /* distinct slot names in the file */
#define VC_LABEL_FILE_NAME_MAX 255  /* a file name, no directory part */
#define VC_LABEL_VALUE_MAX 256      /* an intent, a slot name or a phrase, trimmed */

typedef struct {
    const char *name;
    const char *phrase; /* trimmed */
} vc_label_slot;

typedef struct {
    const char *file;   /* a plain file name: no '/', not "." or ".." */
    const char *intent; /* NULL: the recording should be rejected */
    const vc_label_slot *slots; /* sorted by name */
    size_t n_slots;
} vc_label;

typedef struct vc_labels vc_labels;

/* Parses a labels file image (json need not be NUL-terminated; origin names
 * it in errors). Malformed JSON, a value of the wrong type, a file labelled
 * twice, an unsafe file name or anything past a ceiling fails with
 * VC_EPARSE (VC_ETOOBIG for ceilings) and a detail naming origin and the
 * recording. An object without recordings is an error too: an evaluation of
 * nothing is a mistake, not a result. */
VC_MUST_CHECK vc_status vc_labels_parse(const char *json, size_t len, const char *origin,
                                        vc_labels **out);
/* Reads and parses path (at most VC_LABELS_MAX_BYTES). */
VC_MUST_CHECK vc_status vc_labels_load(const char *path, vc_labels **out);
void vc_labels_free(vc_labels *l);

/* The recordings, sorted by file name (byte order). */
size_t vc_labels_count(const vc_labels *l);
const vc_label *vc_labels_get(const vc_labels *l, size_t i);
/* Every slot name labelled anywhere in the file, sorted; i from 0, NULL past
 * the last. */
const char *vc_labels_slot_name(const vc_labels *l, size_t i);

/* The scoring rule: a recording is understood when the intent is the
 * labelled one (or both are null) AND every labelled slot is present in u
 * with exactly the labelled phrase as its value, both trimmed of
 * surrounding spaces; a slot name u holds twice must carry the phrase each
 * time, so a conflicting second value cannot hide behind a right one. Extra
 * unlabelled slots do not count. Returns 1 when understood. *intent_wrong
 * says whether the intent differed; slot_wrong (label->n_slots entries, may
 * be NULL) gets 1 for each labelled slot missing or wrong. */
int vc_label_score(const vc_label *label, const vc_understanding *u, int *intent_wrong,
                   unsigned char *slot_wrong);

#endif
