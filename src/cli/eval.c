/* `voxcart eval` (eval.h). */
#include "eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "labels.h"

#define EVAL_PATH_MAX 4096
/* Missing recordings named in the error before "and N more". */
#define EVAL_MISSING_NAMED 8
#define PROGRESS_BAR_WIDTH 30

vc_status vc_eval_parse_conditions(const char *list, vc_eval_options *o)
{
    const char *p = list;

    o->n_conditions = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[32], *end;
        vc_eval_condition c = {0};

        if (len == 0 || len >= sizeof item)
            return vc_fail(VC_EINVAL, "--snr %s: each item is 'clean' or a number of dB", list);
        memcpy(item, p, len);
        item[len] = '\0';
        if (strcmp(item, "clean") == 0) {
            c.clean = 1;
        } else {
            errno = 0;
            c.snr_db = strtod(item, &end);
            if (errno || *end || !isfinite(c.snr_db) || c.snr_db < VC_EVAL_SNR_MIN_DB ||
                c.snr_db > VC_EVAL_SNR_MAX_DB)
                return vc_fail(VC_EINVAL, "--snr: '%s' is neither 'clean' nor an SNR from %g to "
                               "%g dB", item, VC_EVAL_SNR_MIN_DB, VC_EVAL_SNR_MAX_DB);
        }
        if (o->n_conditions == VC_EVAL_MAX_CONDITIONS)
            return vc_fail(VC_EINVAL, "--snr: more than %d conditions", VC_EVAL_MAX_CONDITIONS);
        o->conditions[o->n_conditions++] = c;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return VC_OK;
}

/* FNV-1a of the name, then a splitmix64 finaliser over it and the seed:
 * cheap, portable, and well spread even for names that differ in a byte. */
uint64_t vc_eval_file_seed(uint64_t seed, const char *file_name)
{
    uint64_t h = 1469598103934665603ull, z;

    for (const unsigned char *s = (const unsigned char *)file_name; *s; s++)
        h = (h ^ *s) * 1099511628211ull;
    z = h ^ (seed + 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- scores ---------------------------------------------------------------- */

typedef struct {
    vc_eval_condition condition;
    size_t total, understood, rejected, intent_wrong, unreadable;
    size_t slot_errors[VC_LABELS_MAX_SLOT_NAMES];
    double audio_seconds, decode_seconds;
    cJSON *failures; /* array of failure objects, in file order */
} condition_score;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void condition_name(const vc_eval_condition *c, char *out, size_t cap)
{
    if (c->clean)
        snprintf(out, cap, "clean");
    else
        snprintf(out, cap, "%g dB", c->snr_db);
}

static size_t slot_name_index(const vc_labels *labels, const char *name)
{
    const char *s;

    for (size_t i = 0; (s = vc_labels_slot_name(labels, i)) != NULL; i++)
        if (strcmp(s, name) == 0)
            return i;
    return 0; /* every labelled name is in the list */
}

/* {"intent":…,"slots":{name:phrase}}, the labels file's own shape. */
static cJSON *expected_json(const vc_label *lb)
{
    cJSON *o = cJSON_CreateObject(), *slots;

    if (!o)
        return NULL;
    if (!(lb->intent ? cJSON_AddStringToObject(o, "intent", lb->intent)
                     : cJSON_AddNullToObject(o, "intent")) ||
        !(slots = cJSON_AddObjectToObject(o, "slots")))
        goto out_free;
    for (size_t i = 0; i < lb->n_slots; i++)
        if (!cJSON_AddStringToObject(slots, lb->slots[i].name, lb->slots[i].phrase))
            goto out_free;
    return o;
out_free:
    cJSON_Delete(o);
    return NULL;
}

/* Slots as the contract's array: an understanding may hold a name twice. */
static cJSON *got_json(const vc_understanding *u)
{
    cJSON *o = cJSON_CreateObject(), *slots;

    if (!o)
        return NULL;
    if (!(u->intent ? cJSON_AddStringToObject(o, "intent", u->intent)
                    : cJSON_AddNullToObject(o, "intent")) ||
        !(slots = cJSON_AddArrayToObject(o, "slots")))
        goto out_free;
    for (size_t i = 0; i < u->n_slots; i++) {
        cJSON *slot = cJSON_CreateObject();
        if (!slot)
            goto out_free;
        cJSON_AddItemToArray(slots, slot);
        if (!cJSON_AddStringToObject(slot, "name", u->slots[i].name) ||
            !cJSON_AddStringToObject(slot, "value", u->slots[i].value ? u->slots[i].value : ""))
            goto out_free;
    }
    return o;
out_free:
    cJSON_Delete(o);
    return NULL;
}

/* Adds one failure to s->failures. u is NULL when the recording could not
 * be heard at all (error says why). */
static vc_status record_failure(condition_score *s, const vc_label *lb, const char *error,
                                const vc_understanding *u)
{
    cJSON *f = cJSON_CreateObject(), *expected = NULL, *got = NULL;

    if (!f || !cJSON_AddStringToObject(f, "file", lb->file))
        goto out_nomem;
    if (error && !cJSON_AddStringToObject(f, "error", error))
        goto out_nomem;
    if (u && !cJSON_AddStringToObject(f, "heard", u->text ? u->text : ""))
        goto out_nomem;
    if (!(expected = expected_json(lb)))
        goto out_nomem;
    cJSON_AddItemToObject(f, "expected", expected);
    if (u) {
        if (!(got = got_json(u)))
            goto out_nomem;
        cJSON_AddItemToObject(f, "got", got);
    }
    cJSON_AddItemToArray(s->failures, f);
    return VC_OK;
out_nomem:
    cJSON_Delete(f);
    return vc_fail(VC_ENOMEM, "eval: out of memory recording a failure of %s", lb->file);
}

/* ---- progress -------------------------------------------------------------- */

typedef struct {
    int tty;
    size_t done, total; /* decodes */
    size_t files_done, files_total;
    double started;
} progress;

static void progress_step(progress *p, const char *condition)
{
    double elapsed, left;
    int filled;

    p->done++;
    if (!p->tty)
        return;
    elapsed = now_seconds() - p->started;
    left = p->done ? elapsed * (double)(p->total - p->done) / (double)p->done : 0;
    filled = (int)((double)PROGRESS_BAR_WIDTH * (double)p->done / (double)p->total);
    fprintf(stderr, "\r\033[K[%.*s%*s] %3d%%  %zu/%zu recordings  %-8s %d:%02d left",
            filled, "##############################", PROGRESS_BAR_WIDTH - filled, "",
            (int)(100.0 * (double)p->done / (double)p->total), p->files_done + 1,
            p->files_total, condition, (int)left / 60, (int)left % 60);
    fflush(stderr);
}

static void progress_file_done(progress *p)
{
    p->files_done++;
    if (!p->tty && (p->files_done % 10 == 0 || p->files_done == p->files_total))
        fprintf(stderr, "eval: %zu/%zu recordings (%.0f s)\n", p->files_done, p->files_total,
                now_seconds() - p->started);
}

static void progress_end(progress *p)
{
    if (p->tty)
        fputs("\r\033[K", stderr);
}

/* ---- the run ----------------------------------------------------------------- */

/* Every recording to evaluate must be there before hours of decoding start. */
static vc_status check_recordings(const vc_eval_options *o, const vc_labels *labels, size_t n)
{
    char named[EVAL_MISSING_NAMED * (VC_LABEL_FILE_NAME_MAX + 2)] = "", path[EVAL_PATH_MAX];
    size_t missing = 0, used = 0;
    struct stat st;

    if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vc_fail(VC_ENOTFOUND, "%s: not a directory of recordings", o->dir);
    for (size_t i = 0; i < n; i++) {
        const char *file = vc_labels_get(labels, i)->file;
        int len = snprintf(path, sizeof path, "%s/%s", o->dir, file);
        if (len < 0 || (size_t)len >= sizeof path)
            return vc_fail(VC_EINVAL, "%s/%s: path too long", o->dir, file);
        if (stat(path, &st) == 0)
            continue;
        if (missing++ < EVAL_MISSING_NAMED) {
            len = snprintf(named + used, sizeof named - used, "%s%s", used ? ", " : "", file);
            used += (size_t)len;
        }
    }
    if (missing == 0)
        return VC_OK;
    if (missing > EVAL_MISSING_NAMED)
        return vc_fail(VC_ENOTFOUND, "%zu recordings named in %s are missing from %s: %s and "
                       "%zu more", missing, o->labels_path, o->dir, named,
                       missing - EVAL_MISSING_NAMED);
    return vc_fail(VC_ENOTFOUND, "%zu recording%s named in %s %s missing from %s: %s", missing,
                   missing == 1 ? "" : "s", o->labels_path, missing == 1 ? "is" : "are", o->dir,
                   named);
}

/* Decodes one version of a recording (clean or mixed) and scores it. */
static vc_status hear_and_score(vc_recogniser *r, vc_understander *u, const vc_labels *labels,
                                const vc_label *lb, const vc_audio *audio, condition_score *s,
                                int *had_bad_input)
{
    vc_transcript t = {0};
    vc_understanding und = {0};
    unsigned char slot_wrong[VC_LABELS_MAX_SLOTS];
    int intent_wrong = 0;
    vc_status rc;

    s->total++;
    if (vc_recogniser_decode(r, audio->samples, audio->n, &t) != VC_OK) {
        /* one recording the decoder refuses must not end an hour's run */
        *had_bad_input = 1;
        s->unreadable++;
        rc = record_failure(s, lb, vc_error_detail(), NULL);
        goto out_clear_transcript;
    }
    s->audio_seconds += t.audio_seconds;
    s->decode_seconds += t.decode_seconds;
    if ((rc = vc_transcript_understand(u, &t, &und)) != VC_OK)
        goto out_clear_understanding;
    if (vc_label_score(lb, &und, &intent_wrong, slot_wrong)) {
        s->understood++;
        goto out_clear_understanding;
    }
    if (!und.intent)
        s->rejected++;
    else if (intent_wrong)
        s->intent_wrong++;
    else
        for (size_t i = 0; i < lb->n_slots; i++)
            s->slot_errors[slot_name_index(labels, lb->slots[i].name)] += slot_wrong[i];
    rc = record_failure(s, lb, NULL, &und);
out_clear_understanding:
    vc_understanding_clear(&und);
out_clear_transcript:
    vc_transcript_clear(&t);
    return rc;
}

/* One recording under every condition: read once, mixed per condition. */
static vc_status evaluate_file(vc_recogniser *r, vc_understander *u, const vc_eval_options *o,
                               const vc_labels *labels, const vc_label *lb, const vc_audio *noise,
                               condition_score *scores, size_t n_scores, progress *p,
                               int *had_bad_input)
{
    char path[EVAL_PATH_MAX], name[32];
    vc_audio speech = {0};
    vc_status rc = VC_OK;

    snprintf(path, sizeof path, "%s/%s", o->dir, lb->file); /* length checked before */
    if (vc_audio_read_file(path, o->read_options, &speech) != VC_OK) {
        *had_bad_input = 1;
        for (size_t c = 0; c < n_scores && rc == VC_OK; c++) {
            scores[c].total++;
            scores[c].unreadable++;
            rc = record_failure(&scores[c], lb, vc_error_detail(), NULL);
            condition_name(&scores[c].condition, name, sizeof name);
            progress_step(p, name);
        }
        return rc;
    }
    for (size_t c = 0; c < n_scores && rc == VC_OK; c++) {
        vc_audio mixed = {0};
        condition_name(&scores[c].condition, name, sizeof name);
        if (scores[c].condition.clean) {
            rc = hear_and_score(r, u, labels, lb, &speech, &scores[c], had_bad_input);
        } else if (vc_audio_mix_noise(&speech, noise, scores[c].condition.snr_db,
                                      vc_eval_file_seed(o->seed, lb->file), &mixed) != VC_OK) {
            *had_bad_input = 1;
            scores[c].total++;
            scores[c].unreadable++;
            rc = record_failure(&scores[c], lb, vc_error_detail(), NULL);
        } else {
            rc = hear_and_score(r, u, labels, lb, &mixed, &scores[c], had_bad_input);
        }
        vc_audio_clear(&mixed);
        progress_step(p, name);
    }
    vc_audio_clear(&speech);
    return rc;
}

static double rate(size_t part, size_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static double real_time_factor(const condition_score *s)
{
    return s->audio_seconds > 0 ? s->decode_seconds / s->audio_seconds : 0.0;
}

/* "expected orderDrink size="large"" and the like, for the text report. */
static void print_meaning(const cJSON *m)
{
    const cJSON *intent = cJSON_GetObjectItemCaseSensitive(m, "intent"), *slot;

    fputs(cJSON_IsString(intent) ? intent->valuestring : "(rejected)", stdout);
    cJSON_ArrayForEach(slot, cJSON_GetObjectItemCaseSensitive(m, "slots")) {
        if (cJSON_IsString(slot)) /* expected: name -> phrase */
            printf(" %s=\"%s\"", slot->string, slot->valuestring);
        else /* got: {"name", "value"} */
            printf(" %s=\"%s\"", cJSON_GetObjectItemCaseSensitive(slot, "name")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(slot, "value")->valuestring);
    }
}

static void print_table(const vc_eval_options *o, const vc_labels *labels,
                        const condition_score *scores, size_t n_scores, size_t n_files,
                        double wall)
{
    const char *slot;
    char name[32];
    double audio = 0, decode = 0;

    printf("voxcart eval: %zu recordings of %s in %s", n_files, o->labels_path, o->dir);
    if (o->noise_path)
        printf(", noise %s, seed %llu", o->noise_path, (unsigned long long)o->seed);
    printf("\n\n| condition | understood | acceptance | rejected | wrong intent |");
    for (size_t i = 0; (slot = vc_labels_slot_name(labels, i)) != NULL; i++)
        printf(" %s |", slot);
    printf(" unreadable | RTF |\n|---|---:|---:|---:|---:|");
    for (size_t i = 0; vc_labels_slot_name(labels, i) != NULL; i++)
        printf("---:|");
    printf("---:|---:|\n");
    for (size_t c = 0; c < n_scores; c++) {
        const condition_score *s = &scores[c];
        condition_name(&s->condition, name, sizeof name);
        printf("| %s | %zu / %zu | %.1f %% | %zu | %zu |", name, s->understood, s->total,
               100.0 * rate(s->understood, s->total), s->rejected, s->intent_wrong);
        for (size_t i = 0; vc_labels_slot_name(labels, i) != NULL; i++)
            printf(" %zu |", s->slot_errors[i]);
        printf(" %zu | %.3f |\n", s->unreadable, real_time_factor(s));
        audio += s->audio_seconds;
        decode += s->decode_seconds;
    }
    printf("\n(slot columns: recordings whose intent was right but that slot missing or "
           "wrong)\n\n");
    for (size_t c = 0; c < n_scores; c++) {
        condition_name(&scores[c].condition, name, sizeof name);
        printf("command acceptance rate, %s: %.1f %% (%zu of %zu understood)\n", name,
               100.0 * rate(scores[c].understood, scores[c].total), scores[c].understood,
               scores[c].total);
    }
    printf("mean real-time factor: %.3f (decoding CPU time / audio time, %.1f s of audio)\n",
           audio > 0 ? decode / audio : 0.0, audio);
    printf("wall time: %.1f s\n", wall);
    for (size_t c = 0; c < n_scores; c++) {
        const cJSON *f;
        if (cJSON_GetArraySize(scores[c].failures) == 0)
            continue;
        condition_name(&scores[c].condition, name, sizeof name);
        printf("\nfailures, %s (%d):\n", name, cJSON_GetArraySize(scores[c].failures));
        cJSON_ArrayForEach(f, scores[c].failures) {
            const cJSON *error = cJSON_GetObjectItemCaseSensitive(f, "error");
            printf("  %s: expected ", cJSON_GetObjectItemCaseSensitive(f, "file")->valuestring);
            print_meaning(cJSON_GetObjectItemCaseSensitive(f, "expected"));
            if (cJSON_IsString(error)) {
                printf("; not heard: %s\n", error->valuestring);
                continue;
            }
            printf("; got ");
            print_meaning(cJSON_GetObjectItemCaseSensitive(f, "got"));
            printf(" (heard \"%s\")\n",
                   cJSON_GetObjectItemCaseSensitive(f, "heard")->valuestring);
        }
    }
}

/* The JSON summary; the failures move into it from scores. */
static vc_status print_json(const vc_eval_options *o, const vc_labels *labels,
                            condition_score *scores, size_t n_scores, size_t n_files, double wall)
{
    cJSON *root = cJSON_CreateObject(), *conds, *c, *errs;
    char name[32], *text = NULL;
    const char *slot;
    vc_status rc = vc_fail(VC_ENOMEM, "eval: out of memory writing the summary");

    if (!root || !cJSON_AddStringToObject(root, "labels", o->labels_path) ||
        !cJSON_AddStringToObject(root, "dir", o->dir) ||
        !(o->noise_path ? cJSON_AddStringToObject(root, "noise", o->noise_path)
                        : cJSON_AddNullToObject(root, "noise")) ||
        !cJSON_AddNumberToObject(root, "seed", (double)o->seed) ||
        !cJSON_AddNumberToObject(root, "recordings", (double)n_files) ||
        !cJSON_AddNumberToObject(root, "wall_seconds", wall) ||
        !(conds = cJSON_AddArrayToObject(root, "conditions")))
        goto out_free_json;
    for (size_t k = 0; k < n_scores; k++) {
        condition_score *s = &scores[k];
        if (!(c = cJSON_CreateObject()))
            goto out_free_json;
        cJSON_AddItemToArray(conds, c);
        condition_name(&s->condition, name, sizeof name);
        if (!cJSON_AddStringToObject(c, "condition", name) ||
            !(s->condition.clean ? cJSON_AddNullToObject(c, "snr_db")
                                 : cJSON_AddNumberToObject(c, "snr_db", s->condition.snr_db)) ||
            !cJSON_AddNumberToObject(c, "total", (double)s->total) ||
            !cJSON_AddNumberToObject(c, "understood", (double)s->understood) ||
            !cJSON_AddNumberToObject(c, "acceptance_rate", rate(s->understood, s->total)) ||
            !cJSON_AddNumberToObject(c, "rejected", (double)s->rejected) ||
            !cJSON_AddNumberToObject(c, "intent_errors", (double)s->intent_wrong) ||
            !cJSON_AddNumberToObject(c, "unreadable", (double)s->unreadable) ||
            !(errs = cJSON_AddObjectToObject(c, "slot_errors")))
            goto out_free_json;
        for (size_t i = 0; (slot = vc_labels_slot_name(labels, i)) != NULL; i++)
            if (!cJSON_AddNumberToObject(errs, slot, (double)s->slot_errors[i]))
                goto out_free_json;
        if (!cJSON_AddNumberToObject(c, "audio_seconds", s->audio_seconds) ||
            !cJSON_AddNumberToObject(c, "decode_seconds", s->decode_seconds) ||
            !cJSON_AddNumberToObject(c, "real_time_factor", real_time_factor(s)))
            goto out_free_json;
        cJSON_AddItemToObject(c, "failures", s->failures);
        s->failures = NULL;
    }
    if (!(text = cJSON_PrintUnformatted(root)))
        goto out_free_json;
    puts(text);
    rc = VC_OK;
out_free_json:
    free(text);
    cJSON_Delete(root);
    return rc;
}

struct vc_eval {
    vc_eval_options opt;
    vc_audio_read_options read_options;
    vc_labels *labels;
    size_t n_files; /* the first n_files recordings of labels */
    vc_audio noise;
    condition_score scores[VC_EVAL_MAX_CONDITIONS];
    size_t n_scores;
};

void vc_eval_free(vc_eval *e)
{
    if (!e)
        return;
    for (size_t c = 0; c < e->n_scores; c++)
        cJSON_Delete(e->scores[c].failures);
    vc_audio_clear(&e->noise);
    vc_labels_free(e->labels);
    free(e);
}

vc_status vc_eval_new(const vc_eval_options *o, vc_eval **out)
{
    vc_eval *e;
    int noisy = 0;
    vc_status rc;

    *out = NULL;
    if (!(e = calloc(1, sizeof *e)))
        return vc_fail(VC_ENOMEM, "eval: out of memory");
    e->opt = *o;
    if (o->read_options) {
        e->read_options = *o->read_options;
        e->opt.read_options = &e->read_options;
    }
    e->n_scores = o->n_conditions ? o->n_conditions : 1;
    for (size_t c = 0; c < e->n_scores; c++) {
        e->scores[c].condition = o->n_conditions ? o->conditions[c]
                                                 : (vc_eval_condition){.clean = 1};
        noisy |= !e->scores[c].condition.clean;
        if (!(e->scores[c].failures = cJSON_CreateArray())) {
            rc = vc_fail(VC_ENOMEM, "eval: out of memory");
            goto out_free_eval;
        }
    }
    if (noisy && !o->noise_path) {
        rc = vc_fail(VC_EINVAL, "eval: --snr with a noise level needs --noise FILE");
        goto out_free_eval;
    }
    if ((rc = vc_labels_load(o->labels_path, &e->labels)) != VC_OK)
        goto out_free_eval;
    e->n_files = vc_labels_count(e->labels);
    if (o->limit && o->limit < e->n_files)
        e->n_files = o->limit;
    if ((rc = check_recordings(o, e->labels, e->n_files)) != VC_OK)
        goto out_free_eval;
    if (noisy && (rc = vc_audio_read_file(o->noise_path, NULL, &e->noise)) != VC_OK)
        goto out_free_eval;
    if (noisy && e->noise.n == 0) {
        rc = vc_fail(VC_EPARSE, "%s: the noise file holds no samples", o->noise_path);
        goto out_free_eval;
    }
    *out = e;
    return VC_OK;
out_free_eval:
    vc_eval_free(e);
    return rc;
}

vc_status vc_eval_run(vc_eval *e, vc_recogniser *r, vc_understander *u, int *had_bad_input)
{
    progress p = {0};
    vc_status rc = VC_OK;

    *had_bad_input = 0;
    p.tty = isatty(STDERR_FILENO);
    p.total = e->n_files * e->n_scores;
    p.files_total = e->n_files;
    p.started = now_seconds();
    for (size_t i = 0; i < e->n_files && rc == VC_OK; i++) {
        rc = evaluate_file(r, u, &e->opt, e->labels, vc_labels_get(e->labels, i), &e->noise,
                           e->scores, e->n_scores, &p, had_bad_input);
        progress_file_done(&p);
    }
    progress_end(&p);
    if (rc != VC_OK)
        return rc;
    if (e->opt.json)
        rc = print_json(&e->opt, e->labels, e->scores, e->n_scores, e->n_files,
                        now_seconds() - p.started);
    else
        print_table(&e->opt, e->labels, e->scores, e->n_scores, e->n_files,
                    now_seconds() - p.started);
    fflush(stdout);
    return rc;
}
