#include "assistant/assistant.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "assistant/link.h"

struct vc_assistant {
    vc_pack *pack;
    vc_understander *understander;
    vc_store *store;
    char store_path[640];
    vc_link *link;         /* NULL: orders go to the local store */
    vc_order_sink orders;
    vc_dialog *dialog;
    vc_dialog_config dialog_cfg;
    char locale[16];
    char customer_id[64];
    char pin[8];
};

/* Formats a path into out; a path that does not fit is an error naming
 * what it was for and how it starts, never a silently shorter path. */
static vc_status VC_PRINTF(4, 5) format_path(char *out, size_t cap, const char *what,
                                             const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return vc_fail(VC_EINVAL, "%s path too long (%d bytes, limit %zu): %.60s...", what, n,
                       cap - 1, out);
    return VC_OK;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *vc_models_dir(void)
{
    const char *env = getenv("VOXCART_MODELS");

    static char beside[PATH_MAX + 32];
    char exe[PATH_MAX];
    ssize_t n;

    if (env && *env)
        return env;
    /* An installation that brings its own models beside its binary
     * (<prefix>/bin/voxcart, <prefix>/share/voxcart/models): an update slot
     * (/opt/voxcart/slots/a) runs with the models it was shipped with. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        char *slash;
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL) {
            *slash = '\0';
            snprintf(beside, sizeof beside, "%s/../share/voxcart/models", exe);
            if (strlen(beside) < PATH_MAX) {
                char domains[PATH_MAX + 48];
                snprintf(domains, sizeof domains, "%s/domains", beside);
                if (is_dir(domains))
                    return beside;
            }
        }
    }
    /* A build that runs from its build tree reads the models of the source
     * tree it was built from; an installed one, its data directory. */
    if (is_dir(VC_SOURCE_DIR "/models/domains"))
        return VC_SOURCE_DIR "/models";
    return VC_DATADIR "/models";
}

vc_status vc_board_dir(const char *board, char *out, size_t cap)
{
    const char *models = vc_models_dir();
    int n;

    if (!board || !*board || strchr(board, '/') || strstr(board, ".."))
        return vc_fail(VC_EINVAL, "bad board name '%s'", board ? board : "");
    /* boards/ sits beside models/ in both layouts. */
    n = snprintf(out, cap, "%s/../boards/%s", models, board);
    if (n < 0 || (size_t)n >= cap)
        return vc_fail(VC_EINVAL, "board path too long");
    if (!is_dir(out))
        return vc_fail(VC_ENOTFOUND, "unknown board '%s' (no %s)", board, out);
    return VC_OK;
}

vc_status vc_state_dir(const vc_config *cfg, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    const char *xdg = getenv("XDG_STATE_HOME");
    vc_status rc;

    if (cfg->state_dir[0])
        rc = format_path(out, cap, "state directory", "%s", cfg->state_dir);
    else if (xdg && *xdg)
        rc = format_path(out, cap, "state directory", "%s/voxcart", xdg);
    else if (home && *home)
        rc = format_path(out, cap, "state directory", "%s/.local/state/voxcart", home);
    else
        return vc_fail(VC_EINVAL, "no state directory: set [device] state_dir in the config");
    if (rc != VC_OK)
        return rc;
    return vc_mkdirs(out);
}

static vc_status default_store_path(const vc_config *cfg, const char *domain, char *out,
                                    size_t cap)
{
    char dir[512];
    vc_status rc;

    if ((rc = vc_state_dir(cfg, dir, sizeof dir)) != VC_OK)
        return rc;
    /* One store per shop type: a cafe's menu is not a home-goods catalog. */
    return format_path(out, cap, "store", "%s/%s.db", dir, domain);
}

/* Opens the store the options name and makes sure it has a catalog: the
 * given catalog file (into a private in-memory store), or, for a new store,
 * the seed the pack names (pack.ini store_seed, under models/). */
static vc_status open_store(const vc_assistant_options *opt, const vc_pack *pack,
                            const char *domain, vc_store **out, char path[640])
{
    char seed[640];
    vc_store *store = NULL;
    size_t count = 0;
    vc_status rc;

    if (opt->catalog_path) {
        /* streamed into the store: the file is never held whole */
        snprintf(path, 640, ":memory:");
        rc = vc_store_open(path, &store);
        if (rc == VC_OK)
            rc = vc_store_import_catalog_file(store, opt->catalog_path);
        goto out;
    }
    if (opt->store_path)
        rc = format_path(path, 640, "store", "%s", opt->store_path);
    else
        rc = default_store_path(opt->config, domain, path, 640);
    if (rc != VC_OK)
        return rc;
    rc = vc_store_open(path, &store);
    if (rc != VC_OK)
        return rc;
    rc = vc_store_product_count(store, &count);
    if (rc == VC_OK && count == 0) {
        const char *name = vc_pack_setting(pack, "store_seed");
        if (!name || !*name || name[0] == '/' || strstr(name, "..")) {
            rc = vc_fail(VC_EPARSE, "pack %s: store_seed must name a file under models/",
                         vc_pack_name(pack));
            goto out;
        }
        if ((rc = format_path(seed, sizeof seed, "store seed", "%s/%s", vc_models_dir(),
                              name)) != VC_OK)
            goto out;
        vc_log_info("new store %s: loading the demo store from %s", path, seed);
        rc = vc_store_seed(store, seed);
    }
out:
    if (rc != VC_OK) {
        vc_store_close(store);
        return rc;
    }
    *out = store;
    return VC_OK;
}

/* The lists being rebuilt from the catalog: for each dynamic list the pack
 * declares, its builder and which phrases it takes. */
#define MAX_CATALOG_LISTS 16

typedef struct {
    vc_list_builder *builder[MAX_CATALOG_LISTS];
    vc_phrase_kind kind[MAX_CATALOG_LISTS];
    size_t n;
} catalog_lists;

static vc_status add_phrase_to_lists(void *ctx, vc_phrase_kind kind, const vc_catalog_phrase *ph)
{
    catalog_lists *l = ctx;
    vc_status rc;

    for (size_t i = 0; i < l->n; i++)
        if (l->kind[i] == kind &&
            (rc = vc_list_builder_add(l->builder[i], ph->phrase, ph->value, ph->derived)) != VC_OK)
            return rc;
    return VC_OK;
}

static vc_status add_product_to_lists(void *ctx, const vc_product *p)
{
    return vc_catalog_product_phrases(p, add_phrase_to_lists, ctx);
}

/* The catalog flows from the store into the lists one product at a time:
 * neither the catalog nor its phrases are ever held whole, so the peak
 * memory of a large catalog is about the lists themselves. */
vc_status vc_assistant_reload_catalog(vc_assistant *a)
{
    catalog_lists lists = {0};
    const char *list, *source;
    vc_status rc = VC_OK;

    for (size_t i = 0; vc_pack_dynamic_list(a->pack, i, &list, &source); i++) {
        if (lists.n == MAX_CATALOG_LISTS) {
            rc = vc_fail(VC_ETOOBIG, "pack %s: more than %d dynamic lists",
                         vc_pack_name(a->pack), MAX_CATALOG_LISTS);
            goto out_abort_lists;
        }
        if (strcmp(source, "catalog:products") == 0) {
            lists.kind[lists.n] = VC_PHRASE_PRODUCT;
        } else if (strcmp(source, "catalog:attributes") == 0) {
            lists.kind[lists.n] = VC_PHRASE_ATTRIBUTE;
        } else {
            rc = vc_fail(VC_EPARSE, "pack %s: list %s: unknown source '%s'",
                         vc_pack_name(a->pack), list, source);
            goto out_abort_lists;
        }
        rc = vc_understander_list_begin(a->understander, list, &lists.builder[lists.n]);
        if (rc != VC_OK)
            goto out_abort_lists;
        lists.n++;
    }
    rc = vc_store_each_product(a->store, add_product_to_lists, &lists);
    if (rc != VC_OK)
        goto out_abort_lists;
    /* A commit only fails for a builder that already failed, which would
     * have stopped the walk: the lists change all together or not at all. */
    for (size_t i = 0; i < lists.n; i++) {
        vc_list_builder *b = lists.builder[i];
        lists.builder[i] = NULL;
        if ((rc = vc_understander_list_commit(b)) != VC_OK)
            goto out_abort_lists;
    }
    return VC_OK;
out_abort_lists:
    for (size_t i = 0; i < lists.n; i++)
        vc_understander_list_abort(lists.builder[i]);
    return rc;
}

vc_status vc_assistant_new(const vc_assistant_options *opt, vc_assistant **out)
{
    const vc_config *cfg = opt->config;
    const char *domain = opt->domain ? opt->domain : cfg->domain;
    vc_assistant *a;
    char dir[640];
    vc_status rc;

    *out = NULL;
    if (!domain[0] || strchr(domain, '/') || strstr(domain, ".."))
        return vc_fail(VC_EINVAL, "bad domain name '%s'", domain);
    a = calloc(1, sizeof *a);
    if (!a)
        return vc_fail(VC_ENOMEM, "out of memory");
    if ((rc = format_path(dir, sizeof dir, "domain pack", "%s/domains/%s", vc_models_dir(),
                          domain)) != VC_OK)
        goto out_free;
    if (!is_dir(dir)) {
        rc = vc_fail(VC_ENOTFOUND, "unknown domain '%s' (no pack at %s)", domain, dir);
        goto out_free;
    }
    if ((rc = vc_pack_load(dir, &a->pack)) != VC_OK)
        goto out_free;
    if ((rc = vc_understander_new(a->pack, &a->understander)) != VC_OK)
        goto out_free;
    if ((rc = open_store(opt, a->pack, domain, &a->store, a->store_path)) != VC_OK)
        goto out_free;
    if ((rc = vc_assistant_reload_catalog(a)) != VC_OK)
        goto out_free;

    snprintf(a->locale, sizeof a->locale, "%s", cfg->locale);
    snprintf(a->customer_id, sizeof a->customer_id, "%s", cfg->customer_id);
    snprintf(a->pin, sizeof a->pin, "%s", cfg->pin);
    a->dialog_cfg.locale = a->locale;
    a->dialog_cfg.customer_id = a->customer_id;
    a->dialog_cfg.max_quantity = cfg->max_quantity;
    a->dialog_cfg.daily_spend_limit = cfg->daily_spend_limit;
    a->dialog_cfg.pin = a->pin[0] ? a->pin : NULL;
    if (cfg->backend_url[0] && !opt->no_backend && !opt->catalog_path) {
        if ((rc = vc_link_open(cfg, a->store, 1, &a->link)) != VC_OK)
            goto out_free;
        snprintf(a->customer_id, sizeof a->customer_id, "%s", vc_link_customer(a->link));
        vc_sync_order_sink(vc_link_sync(a->link), &a->orders);
        a->dialog_cfg.orders = &a->orders;
        /* the protocol's cap on a line: the dialog refuses more with its
         * own reply instead of the backend failing the order */
        if (a->dialog_cfg.max_quantity <= 0 || a->dialog_cfg.max_quantity > VC_BACKEND_MAX_QUANTITY)
            a->dialog_cfg.max_quantity = VC_BACKEND_MAX_QUANTITY;
    }
    if ((rc = vc_dialog_new(&a->dialog_cfg, a->pack, a->store, &a->dialog)) != VC_OK)
        goto out_free;
    *out = a;
    return VC_OK;
out_free:
    vc_assistant_free(a);
    return rc;
}

void vc_assistant_free(vc_assistant *a)
{
    if (!a)
        return;
    vc_dialog_free(a->dialog);
    vc_link_free(a->link);
    vc_store_close(a->store);
    vc_understander_free(a->understander);
    vc_pack_free(a->pack);
    free(a);
}

vc_understander *vc_assistant_understander(vc_assistant *a) { return a->understander; }
const vc_pack *vc_assistant_pack(vc_assistant *a) { return a->pack; }
vc_store *vc_assistant_store(vc_assistant *a) { return a->store; }
vc_dialog *vc_assistant_dialog(vc_assistant *a) { return a->dialog; }
const char *vc_assistant_store_path(const vc_assistant *a) { return a->store_path; }
const char *vc_assistant_customer(const vc_assistant *a) { return a->customer_id; }

void vc_assistant_voice(vc_assistant *a, const vc_config *cfg, vc_synthesiser_config *sc)
{
    const vc_pack_voice *brand = vc_pack_brand_voice(vc_assistant_pack(a));

    sc->voice = cfg->voice;
    sc->rate = cfg->speech_rate;
    sc->pitch = cfg->pitch;
    sc->volume = cfg->volume;
    if (!(cfg->voice_set & VC_CONFIG_SET_VOICE)) {
        if (brand->set & VC_PACK_VOICE_SET_VOICE)
            sc->voice = brand->voice;
        else if (strncmp(cfg->locale, "nb", 2) == 0 || strncmp(cfg->locale, "no", 2) == 0)
            sc->voice = "nb";
    }
    if (!(cfg->voice_set & VC_CONFIG_SET_RATE) && (brand->set & VC_PACK_VOICE_SET_RATE))
        sc->rate = brand->rate;
    if (!(cfg->voice_set & VC_CONFIG_SET_PITCH) && (brand->set & VC_PACK_VOICE_SET_PITCH))
        sc->pitch = brand->pitch;
    if (!(cfg->voice_set & VC_CONFIG_SET_VOLUME) && (brand->set & VC_PACK_VOICE_SET_VOLUME))
        sc->volume = brand->volume;
}
