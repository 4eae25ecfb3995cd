/* Labels files and the benchmark's scoring rule (labels.h). */
#include "labels.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/utf8.h"

#define VC_LABELS_STR_(x) #x
#define VC_LABELS_STR(x) VC_LABELS_STR_(x)

struct vc_labels {
    vc_label *items;
    size_t n;
    char **slot_names; /* sorted, distinct */
    size_t n_slot_names;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A trimmed copy of s, or NULL with *why set. */
static char *trimmed_copy(const char *s, const char **why)
{
    size_t len;
    char *out;

    while (is_space(*s))
        s++;
    len = strlen(s);
    while (len && is_space(s[len - 1]))
        len--;
    if (len == 0) {
        *why = "is empty";
        return NULL;
    }
    if (len > VC_LABEL_VALUE_MAX) {
        *why = "is longer than " VC_LABELS_STR(VC_LABEL_VALUE_MAX) " bytes";
        return NULL;
    }
    if (!vc_utf8_valid(s, len)) {
        *why = "is not UTF-8 text";
        return NULL;
    }
    out = malloc(len + 1);
    if (!out) {
        *why = "could not be copied (out of memory)";
        return NULL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

static int compare_labels(const void *a, const void *b)
{
    return strcmp(((const vc_label *)a)->file, ((const vc_label *)b)->file);
}

static int compare_slots(const void *a, const void *b)
{
    return strcmp(((const vc_label_slot *)a)->name, ((const vc_label_slot *)b)->name);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_label(vc_label *lb)
{
    for (size_t i = 0; i < lb->n_slots; i++) {
        free((char *)lb->slots[i].name);
        free((char *)lb->slots[i].phrase);
    }
    free((vc_label_slot *)lb->slots);
    free((char *)lb->file);
    free((char *)lb->intent);
}

void vc_labels_free(vc_labels *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free_label(&l->items[i]);
    free(l->items);
    /* the names are owned by the labels' slots */
    free(l->slot_names);
    free(l);
}

/* The file name is joined to a directory by the caller: it must not climb
 * out of it or name a subdirectory. */
static vc_status check_file_name(const char *origin, const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > VC_LABEL_FILE_NAME_MAX)
        return vc_fail(VC_EPARSE, "%s: a recording's file name must be 1 to %d bytes long",
                       origin, VC_LABEL_FILE_NAME_MAX);
    if (!vc_utf8_valid(name, len))
        return vc_fail(VC_EPARSE, "%s: a recording's file name is not UTF-8 text", origin);
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return vc_fail(VC_EPARSE, "%s: \"%s\": a file name, not a path, is expected", origin,
                       name);
    return VC_OK;
}

/* Fills lb from one member of the top-level object (lb zeroed). */
static vc_status parse_label(const char *origin, const cJSON *entry, vc_label *lb)
{
    const char *file = entry->string, *why = NULL;
    const cJSON *intent, *slots, *slot;
    vc_label_slot *out_slots;
    size_t n = 0;
    vc_status rc;

    if ((rc = check_file_name(origin, file)) != VC_OK)
        return rc;
    if (!cJSON_IsObject(entry))
        return vc_fail(VC_EPARSE, "%s: \"%s\": its label must be an object", origin, file);
    if (!(lb->file = strdup(file)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    intent = cJSON_GetObjectItemCaseSensitive(entry, "intent");
    slots = cJSON_GetObjectItemCaseSensitive(entry, "slots");
    if (intent && !cJSON_IsNull(intent)) {
        if (!cJSON_IsString(intent))
            return vc_fail(VC_EPARSE, "%s: \"%s\": intent must be a string or null", origin,
                           file);
        if (!(lb->intent = trimmed_copy(intent->valuestring, &why)))
            return vc_fail(VC_EPARSE, "%s: \"%s\": intent %s", origin, file, why);
    }
    if (!slots || cJSON_IsNull(slots))
        return VC_OK;
    if (!cJSON_IsObject(slots))
        return vc_fail(VC_EPARSE, "%s: \"%s\": slots must be an object of phrases", origin, file);
    n = (size_t)cJSON_GetArraySize(slots);
    if (n > VC_LABELS_MAX_SLOTS)
        return vc_fail(VC_ETOOBIG, "%s: \"%s\": %zu slots, more than the limit of %d", origin,
                       file, n, VC_LABELS_MAX_SLOTS);
    if (n == 0)
        return VC_OK;
    if (!(out_slots = calloc(n, sizeof *out_slots)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    lb->slots = out_slots;
    cJSON_ArrayForEach(slot, slots) {
        vc_label_slot *s = &out_slots[lb->n_slots];
        if (!cJSON_IsString(slot))
            return vc_fail(VC_EPARSE, "%s: \"%s\": slot %s must be a string", origin, file,
                           slot->string);
        if (!(s->name = trimmed_copy(slot->string, &why)))
            return vc_fail(VC_EPARSE, "%s: \"%s\": a slot name %s", origin, file, why);
        lb->n_slots++;
        if (!(s->phrase = trimmed_copy(slot->valuestring, &why)))
            return vc_fail(VC_EPARSE, "%s: \"%s\": slot %s %s", origin, file, s->name, why);
    }
    qsort(out_slots, lb->n_slots, sizeof *out_slots, compare_slots);
    for (size_t i = 1; i < lb->n_slots; i++)
        if (strcmp(out_slots[i - 1].name, out_slots[i].name) == 0)
            return vc_fail(VC_EPARSE, "%s: \"%s\": slot %s is labelled twice", origin, file,
                           out_slots[i].name);
    return VC_OK;
}

/* The distinct slot names of all labels, sorted (pointers into the labels). */
static vc_status collect_slot_names(const char *origin, vc_labels *l)
{
    size_t total = 0, n = 0;

    for (size_t i = 0; i < l->n; i++)
        total += l->items[i].n_slots;
    if (total == 0)
        return VC_OK;
    if (!(l->slot_names = calloc(total, sizeof *l->slot_names)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < l->items[i].n_slots; k++)
            l->slot_names[n++] = (char *)l->items[i].slots[k].name;
    qsort(l->slot_names, n, sizeof *l->slot_names, compare_strings);
    l->n_slot_names = 0;
    for (size_t i = 0; i < n; i++)
        if (l->n_slot_names == 0 ||
            strcmp(l->slot_names[l->n_slot_names - 1], l->slot_names[i]) != 0)
            l->slot_names[l->n_slot_names++] = l->slot_names[i];
    if (l->n_slot_names > VC_LABELS_MAX_SLOT_NAMES)
        return vc_fail(VC_ETOOBIG, "%s: %zu different slot names, more than the limit of %d",
                       origin, l->n_slot_names, VC_LABELS_MAX_SLOT_NAMES);
    return VC_OK;
}

vc_status vc_labels_parse(const char *json, size_t len, const char *origin, vc_labels **out)
{
    const char *end = NULL;
    vc_labels *l = NULL;
    cJSON *root, *entry;
    vc_status rc;
    size_t n;

    *out = NULL;
    if (len > VC_LABELS_MAX_BYTES)
        return vc_fail(VC_ETOOBIG, "%s: %zu bytes, more than the limit of %u", origin, len,
                       VC_LABELS_MAX_BYTES);
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        /* cJSON points at where it gave up; say where that is */
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        size_t line = 1;
        for (size_t i = 0; i < at; i++)
            line += json[i] == '\n';
        return vc_fail(VC_EPARSE, "%s line %zu: not valid JSON", origin, line);
    }
    while (end && end < json + len && is_space(*end))
        end++;
    if (end != json + len) {
        rc = vc_fail(VC_EPARSE, "%s: data after the JSON object", origin);
        goto out_free_json;
    }
    if (!cJSON_IsObject(root)) {
        rc = vc_fail(VC_EPARSE, "%s: must be an object mapping file names to labels", origin);
        goto out_free_json;
    }
    n = (size_t)cJSON_GetArraySize(root);
    if (n == 0) {
        rc = vc_fail(VC_EPARSE, "%s: labels no recording", origin);
        goto out_free_json;
    }
    if (n > VC_LABELS_MAX_FILES) {
        rc = vc_fail(VC_ETOOBIG, "%s: %zu recordings, more than the limit of %d", origin, n,
                     VC_LABELS_MAX_FILES);
        goto out_free_json;
    }
    if (!(l = calloc(1, sizeof *l)) || !(l->items = calloc(n, sizeof *l->items))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", origin);
        goto out_free_labels;
    }
    cJSON_ArrayForEach(entry, root) {
        /* counted before parsing so that a half-filled label is freed too */
        rc = parse_label(origin, entry, &l->items[l->n++]);
        if (rc != VC_OK)
            goto out_free_labels;
    }
    qsort(l->items, l->n, sizeof *l->items, compare_labels);
    for (size_t i = 1; i < l->n; i++)
        if (strcmp(l->items[i - 1].file, l->items[i].file) == 0) {
            rc = vc_fail(VC_EPARSE, "%s: \"%s\" is labelled twice", origin, l->items[i].file);
            goto out_free_labels;
        }
    if ((rc = collect_slot_names(origin, l)) != VC_OK)
        goto out_free_labels;
    *out = l;
    l = NULL;
    rc = VC_OK;
out_free_labels:
    vc_labels_free(l);
out_free_json:
    cJSON_Delete(root);
    return rc;
}

vc_status vc_labels_load(const char *path, vc_labels **out)
{
    char *buf = NULL;
    size_t len = 0;
    vc_status rc;

    *out = NULL;
    if ((rc = vc_read_file(path, VC_LABELS_MAX_BYTES, &buf, &len)) != VC_OK)
        return rc;
    rc = vc_labels_parse(buf, len, path, out);
    free(buf);
    return rc;
}

size_t vc_labels_count(const vc_labels *l)
{
    return l->n;
}

const vc_label *vc_labels_get(const vc_labels *l, size_t i)
{
    return i < l->n ? &l->items[i] : NULL;
}

const char *vc_labels_slot_name(const vc_labels *l, size_t i)
{
    return i < l->n_slot_names ? l->slot_names[i] : NULL;
}

/* a equals b once b is trimmed of surrounding spaces (a is trimmed) */
static int equal_trimmed(const char *a, const char *b)
{
    size_t len;

    while (is_space(*b))
        b++;
    len = strlen(b);
    while (len && is_space(b[len - 1]))
        len--;
    return strlen(a) == len && memcmp(a, b, len) == 0;
}

int vc_label_score(const vc_label *label, const vc_understanding *u, int *intent_wrong,
                   unsigned char *slot_wrong)
{
    int understood;

    if (!label->intent || !u->intent)
        *intent_wrong = label->intent != u->intent;
    else
        *intent_wrong = strcmp(label->intent, u->intent) != 0;
    understood = !*intent_wrong;
    if (slot_wrong && label->n_slots)
        memset(slot_wrong, 0, label->n_slots);
    /* a recording labelled as one to reject has nothing more to get right */
    for (size_t i = 0; label->intent && i < label->n_slots; i++) {
        int found = 0, wrong = 0;
        for (size_t k = 0; k < u->n_slots; k++) {
            if (strcmp(u->slots[k].name, label->slots[i].name) != 0)
                continue;
            found = 1;
            wrong |= !u->slots[k].value || !equal_trimmed(label->slots[i].phrase, u->slots[k].value);
        }
        if (slot_wrong)
            slot_wrong[i] = !found || wrong;
        if (!found || wrong)
            understood = 0;
    }
    return understood;
}
