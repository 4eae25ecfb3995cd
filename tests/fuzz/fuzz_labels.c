/* Fuzzes the labels file of `voxcart eval`: any bytes either parse or fail
 * with a detail, never crash; what parses is sorted, safe to join to a
 * directory, and scores as understood against an understanding that says
 * exactly what it labels, and as not understood when one phrase differs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The understanding a perfect recogniser would give for lb; changed names
 * one slot's value to something else. */
static int scores_as_understood(const vc_label *lb, size_t changed)
{
    vc_slot slots[VC_LABELS_MAX_SLOTS];
    char other[VC_LABEL_VALUE_MAX + 2];
    vc_understanding u = {0};
    int intent_wrong = -1, understood;
    unsigned char wrong[VC_LABELS_MAX_SLOTS];

    memset(slots, 0, sizeof slots);
    for (size_t i = 0; i < lb->n_slots; i++) {
        slots[i].name = (char *)lb->slots[i].name;
        slots[i].value = (char *)lb->slots[i].phrase;
        if (i == changed) {
            snprintf(other, sizeof other, "%sx", lb->slots[i].phrase);
            slots[i].value = other;
        }
        slots[i].text = slots[i].value;
    }
    u.intent = lb->intent;
    u.slots = slots;
    u.n_slots = lb->n_slots;
    understood = vc_label_score(lb, &u, &intent_wrong, wrong);
    if (intent_wrong != 0)
        abort();
    return understood;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_labels *l = NULL;
    const char *prev = NULL, *name;

    if (vc_labels_parse((const char *)data, size, "fuzz.json", &l) != VC_OK) {
        if (l || vc_error_detail()[0] == '\0')
            abort();
        return 0;
    }
    if (vc_labels_count(l) == 0)
        abort();
    for (size_t i = 0; i < vc_labels_count(l); i++) {
        const vc_label *lb = vc_labels_get(l, i);
        if (prev && strcmp(prev, lb->file) >= 0)
            abort(); /* sorted, no file twice */
        prev = lb->file;
        if (!lb->file[0] || strchr(lb->file, '/') || strcmp(lb->file, "..") == 0 ||
            strlen(lb->file) > VC_LABEL_FILE_NAME_MAX || lb->n_slots > VC_LABELS_MAX_SLOTS)
            abort();
        for (size_t k = 0; k < lb->n_slots; k++)
            if (!lb->slots[k].phrase[0] || lb->slots[k].phrase[0] == ' ' ||
                (k && strcmp(lb->slots[k - 1].name, lb->slots[k].name) >= 0))
                abort();
        if (!scores_as_understood(lb, SIZE_MAX))
            abort();
        if (lb->intent && lb->n_slots && scores_as_understood(lb, lb->n_slots - 1))
            abort();
    }
    prev = NULL;
    for (size_t i = 0; (name = vc_labels_slot_name(l, i)) != NULL; i++) {
        if (prev && strcmp(prev, name) >= 0)
            abort();
        prev = name;
    }
    if (vc_labels_get(l, vc_labels_count(l)) != NULL)
        abort();
    vc_labels_free(l);
    return 0;
}
