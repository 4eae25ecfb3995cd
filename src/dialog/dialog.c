/* The conversation state machine and the purchase policy (docs/dialog.md).
 *
 * Every reply is rendered from the pack's reply templates; the only words
 * the code adds are the readings of values in the dialog's locale (prices,
 * plurals, the article of a drink: readings.h), which docs/dialog.md lists.
 * Each reply is rendered twice, for display and for speech: the templates
 * are the same, the values are read in their display or spoken form. Orders
 * are placed in
 * exactly one place, place_pending(), which only two paths reach: a "yes"
 * in the confirm step, and the right PIN in the pin step (itself entered
 * only from a "yes"). */
#include "dialog/dialog.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/text.h"
#include "dialog/dialog_keys.h"
#include "dialog/readings.h"

/* Ceilings on what the dialog holds. */
#define REPLY_MAX 4096                /* one rendered reply */
#define TEXT_MAX 4096                 /* one transcript entry, the last reply */
#define TRANSCRIPT_MAX_ENTRIES 100    /* the last 50 turns, customer + assistant */
#define STATE_MAX_BYTES (1u << 20)    /* a saved state */
#define SKU_MAX VC_CATALOG_MAX_FIELD  /* bytes of a SKU */
#define DRINK_VALUE_MAX 128           /* bytes of one drink slot value */
#define QUERY_MAX VC_UTTERANCE_MAX_BYTES
#define CANDIDATES_MAX 3              /* products read out to choose from */
#define SEARCH_ATTRS_MAX 8
#define PIN_TRIES 3
#define QUANTITY_MAX 9999             /* the cap when none is configured */
#define MISUNDERSTOOD_MAX 1000
#define ORDER_NUMBER_MAX 32
#define CENTS_MAX 1000000000000LL     /* $10bn: anything above is corrupt */
#define STATE_VERSION 1

static const char *const reply_key_names[VC_DIALOG_N_REPLY_KEYS] = {
#define VC_DIALOG_KEY_NAME(id, key, group) key,
    VC_DIALOG_REPLY_KEYS(VC_DIALOG_KEY_NAME)
#undef VC_DIALOG_KEY_NAME
};

typedef enum {
    STEP_START,              /* nothing asked */
    STEP_CONFIRM,            /* a purchase was read back: waits for yes */
    STEP_PIN,                /* said yes: waits for the PIN */
    STEP_CHOOSE,             /* candidates were read out: waits for select */
    STEP_ASK_QUANTITY,       /* a quantity was refused: waits for another */
    STEP_ASK_DRINK,          /* cafe: the drink is missing */
    STEP_OFFER_ALTERNATIVES, /* out of stock: offered to look for others */
    STEP_OFFER_WIDEN,        /* no results: offered to search more widely */
    STEP_COUNT
} conversation_step;

static const char *const step_names[STEP_COUNT] = {
    "start", "confirm", "pin", "choose", "ask_quantity", "ask_drink",
    "offer_alternatives", "offer_widen",
};

typedef enum { PENDING_NONE, PENDING_PRODUCT, PENDING_DRINK, PENDING_COUNT } pending_kind;

static const char *const pending_names[PENDING_COUNT] = {"none", "product", "drink"};

enum { DRINK_NAME, DRINK_SIZE, DRINK_ROAST, DRINK_SHOTS, DRINK_MILK, DRINK_SUGAR, N_DRINK };

/* The cafe pack's slot names, in the order above. */
static const char *const drink_slots[N_DRINK] = {
    "coffeeDrink", "size", "roast", "numberOfShots", "milkAmount", "sugarAmount",
};

typedef struct {
    int assistant;
    char *text;
} transcript_entry;

/* Everything vc_dialog_save() writes. */
typedef struct {
    conversation_step step;
    pending_kind kind;
    char *sku;             /* PENDING_PRODUCT, or the sold-out product */
    int quantity;          /* 0: not decided */
    int quantity_said;     /* the customer said it (overrides history) */
    long long confirmed_cents; /* unit price read back; -1: none */
    char *drink[N_DRINK];
    char *candidates[CANDIDATES_MAX];
    size_t n_candidates;
    int choice_reorder;    /* candidates for a reorder (history quantity) */
    int has_search;        /* the last search, kept to widen it */
    char *search_sku;
    char *search_query;
    char *search_attrs[SEARCH_ATTRS_MAX];
    size_t n_search_attrs;
    double search_max_price; /* < 0: none */
    int pin_attempts;
    int misunderstood;     /* not understood in a row */
    char *last_reply;
    char *last_speech;     /* its spoken form; NULL: the same */
    transcript_entry transcript[TRANSCRIPT_MAX_ENTRIES];
    size_t n_transcript;
} conversation;

struct vc_dialog {
    vc_dialog_config cfg;   /* cfg.locale points to locale */
    char locale[32];        /* the pack's reply locale in use */
    vc_reading reading;     /* how values are read in it */
    const vc_pack *pack;
    vc_store *store;
    vc_order_sink orders;   /* cfg.orders, or the local store's */
    conversation c;
};

/* ---- small helpers ------------------------------------------------------- */

static char *dup_bounded(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p;

    /* Cut on a UTF-8 character boundary. */
    if (n == max)
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void free_ptr(char **p)
{
    free(*p);
    *p = NULL;
}

static vc_status set_str(char **dst, const char *src, size_t max)
{
    char *copy = NULL;

    if (src) {
        copy = dup_bounded(src, max);
        if (!copy)
            return vc_fail(VC_ENOMEM, "dialog: copying a %zu-byte string", strlen(src));
    }
    free(*dst);
    *dst = copy;
    return VC_OK;
}

static long long to_cents(double amount)
{
    if (!isfinite(amount) || amount < 0)
        return 0;
    if (amount > (double)CENTS_MAX / 100)
        return CENTS_MAX;
    return llround(amount * 100.0);
}

/* A value in its two forms (readings.h): display and spoken. */
typedef struct {
    char text[1024];
    char spoken[1280];
} reading;

/* A price or total: "$3.49", "kr 49,90" / "førtini kroner og nitti øre". */
static void read_money(const vc_dialog *d, reading *r, long long cents, const char *currency)
{
    vc_money_display(d->reading, cents, currency, 0, r->text, sizeof r->text);
    vc_money_spoken(d->reading, cents, currency, r->spoken, sizeof r->spoken);
}

/* A menu price always shows its cents, as a cafe board does: "$9.00",
 * "$4.50", "kr 45,00"; another currency: "9.00 EUR". */
static void read_menu_price(const vc_dialog *d, reading *r, long long cents,
                            const char *currency)
{
    vc_money_display(d->reading, cents, currency, 1, r->text, sizeof r->text);
    vc_money_spoken(d->reading, cents, currency, r->spoken, sizeof r->spoken);
}

/* A count of drinks as a word, "two" .. "twenty"; digits above ("24"). */
static void read_count(const vc_dialog *d, reading *r, int n)
{
    vc_count_display(d->reading, n, r->text, sizeof r->text);
    if (d->reading == VC_READ_NB)
        vc_number_words(d->reading, n, r->spoken, sizeof r->spoken);
    else
        snprintf(r->spoken, sizeof r->spoken, "%s", r->text);
}

/* A number the customer reads as digits ("3", nb spoken "tre"). */
static void read_number(const vc_dialog *d, reading *r, long long n)
{
    snprintf(r->text, sizeof r->text, "%lld", n);
    vc_count_spoken(d->reading, n, r->spoken, sizeof r->spoken);
}

/* Order numbers are read digit by digit: "802" -> "8 0 2" (nb spoken
 * "åtte null to"). */
static void read_spelled(const vc_dialog *d, reading *r, const char *number)
{
    vc_digits_display(number, r->text, sizeof r->text);
    vc_digits_spoken(d->reading, number, r->spoken, sizeof r->spoken);
}

/* The first letter of s in upper or lower case: ASCII, and the Latin-1
 * letters in UTF-8 (C3 80..9E capitals, C3 A0..BE small, bar × and ÷), so
 * that a reply starting "øre" starts "Øre". */
static void set_first_case(char *s, int upper)
{
    unsigned char *u = (unsigned char *)s;

    if (u[0] == 0xC3) {
        if (upper && u[1] >= 0xA0 && u[1] <= 0xBE && u[1] != 0xB7)
            u[1] = (unsigned char)(u[1] - 0x20);
        else if (!upper && u[1] >= 0x80 && u[1] <= 0x9E && u[1] != 0x97)
            u[1] = (unsigned char)(u[1] + 0x20);
        return;
    }
    u[0] = (unsigned char)(upper ? toupper(u[0]) : tolower(u[0]));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int starts_with_vowel_sound(const char *s)
{
    return s && strchr("aeiouAEIOU", s[0]) && s[0];
}

/* ---- replies ------------------------------------------------------------- */

/* A placeholder's value; spoken NULL: the value is spoken as displayed. */
typedef struct {
    const char *name;
    const char *value;
    const char *spoken;
} reply_var;

/* {"price", r} for a reading r */
#define READ_VAR(name, r) {(name), (r).text, (r).spoken}

/* A reply in its two forms. */
typedef struct {
    char *text;
    char *spoken;
} rendered;

static void rendered_free(rendered *r)
{
    free(r->text);
    free(r->spoken);
    r->text = r->spoken = NULL;
}

typedef struct {
    char *p;
    size_t len, cap, max;
    vc_status st;
} text_buf;

static void tb_append(text_buf *b, const char *s, size_t n)
{
    if (b->st != VC_OK)
        return;
    if (b->len + n + 1 > b->max) {
        b->st = VC_ETOOBIG;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max)
            cap = b->max;
        p = realloc(b->p, cap);
        if (!p) {
            b->st = VC_ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Collapses runs of spaces (an empty placeholder leaves two), drops a space
 * before punctuation, trims, and starts the sentence with a capital. */
static void tidy_reply(char *s)
{
    size_t o = 0;
    int space = 0;

    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isspace(ch)) {
            space = 1;
            continue;
        }
        if (space && o > 0 && !strchr(".,;:?!", ch))
            s[o++] = ' ';
        space = 0;
        s[o++] = (char)ch;
    }
    s[o] = '\0';
    set_first_case(s, 1);
}

/* Renders key in one form (spoken: the spoken values) into *out. Templates
 * come from the dialog's locale only: a key its file lacks is an error, not
 * a sentence of another language. */
static vc_status render_form(const vc_dialog *d, vc_dialog_reply_key key, const reply_var *vars,
                             size_t n_vars, int spoken, char **out)
{
    const char *name = reply_key_names[key];
    const char *tpl = vc_pack_reply_in(d->pack, d->locale, name);
    text_buf b = {.max = REPLY_MAX, .st = VC_OK};
    const char *p;

    *out = NULL;
    if (!tpl)
        return vc_fail(VC_ENOTFOUND, "pack %s, locale %s: no reply template \"%s\" "
                       "(replies/%s.ini)", vc_pack_name(d->pack), d->locale, name, d->locale);
    for (p = tpl; *p;) {
        const char *close = p[0] == '{' ? strchr(p + 1, '}') : NULL;
        size_t n;
        if (!close) {
            n = strcspn(p + 1, "{") + 1;
            tb_append(&b, p, n);
            p += n;
            continue;
        }
        n = (size_t)(close - p - 1);
        {
            const char *value = NULL;
            for (size_t i = 0; i < n_vars; i++)
                if (strlen(vars[i].name) == n && strncmp(vars[i].name, p + 1, n) == 0) {
                    value = spoken && vars[i].spoken ? vars[i].spoken : vars[i].value;
                    if (!value)
                        value = "";
                    break;
                }
            if (!value) {
                free(b.p);
                return vc_fail(VC_EPARSE,
                               "pack %s, reply \"%s\": unknown placeholder {%.*s}",
                               vc_pack_name(d->pack), name, (int)(n > 64 ? 64 : n), p + 1);
            }
            tb_append(&b, value, strlen(value));
        }
        p = close + 1;
    }
    if (b.st == VC_OK && !b.p)
        tb_append(&b, "", 0);
    if (b.st != VC_OK) {
        free(b.p);
        return vc_fail(b.st, "pack %s, reply \"%s\": rendered reply exceeds %d bytes",
                       vc_pack_name(d->pack), name, REPLY_MAX);
    }
    tidy_reply(b.p);
    *out = b.p;
    return VC_OK;
}

/* Renders key for display and for speech. */
static vc_status render(const vc_dialog *d, vc_dialog_reply_key key, const reply_var *vars,
                        size_t n_vars, rendered *out)
{
    vc_status st;

    out->text = out->spoken = NULL;
    st = render_form(d, key, vars, n_vars, 0, &out->text);
    if (st == VC_OK)
        st = render_form(d, key, vars, n_vars, 1, &out->spoken);
    if (st != VC_OK)
        rendered_free(out);
    return st;
}

/* Appends piece (taken) to *said, a space between. */
static vc_status append_piece(char **said, char *piece)
{
    char *joined;
    size_t a, b;

    if (!*said) {
        *said = piece;
        return VC_OK;
    }
    a = strlen(*said);
    b = strlen(piece);
    joined = malloc(a + b + 2);
    if (!joined) {
        free(piece);
        return vc_fail(VC_ENOMEM, "dialog: joining replies");
    }
    memcpy(joined, *said, a);
    joined[a] = ' ';
    memcpy(joined + a + 1, piece, b + 1);
    free(piece);
    free(*said);
    *said = joined;
    return VC_OK;
}

/* Appends the rendered reply key to what this turn says and speaks. */
static vc_status say(const vc_dialog *d, vc_turn *t, vc_dialog_reply_key key,
                     const reply_var *vars, size_t n_vars)
{
    rendered piece;
    vc_status st = render(d, key, vars, n_vars, &piece);

    if (st != VC_OK)
        return st;
    st = append_piece(&t->reply, piece.text);
    piece.text = NULL;
    if (st == VC_OK) {
        st = append_piece(&t->speech, piece.spoken);
        piece.spoken = NULL;
    }
    rendered_free(&piece);
    return st;
}

/* SAY(d, t, key, {"name", value}, ...). The leading empty entry keeps the
 * compound literal valid C11 (a bare "{}" in a template renders as nothing). */
#define SAY(d, t, key, ...)                                                          \
    say((d), (t), (key), (const reply_var[]){{"", "", NULL}, __VA_ARGS__},           \
        sizeof((const reply_var[]){{"", "", NULL}, __VA_ARGS__}) / sizeof(reply_var))
#define SAY0(d, t, key) say((d), (t), (key), NULL, 0)

/* "a, b and c" with the pack's word for "and". */
static vc_status join_and(const vc_dialog *d, const char *const *items, size_t n, char *out,
                          size_t cap)
{
    char *and_word;
    size_t o = 0;
    vc_status st = render_form(d, R_WORD_AND, NULL, 0, 0, &and_word);

    if (st != VC_OK)
        return st;
    /* The rendered word starts with a capital; it joins mid-sentence. */
    set_first_case(and_word, 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " " : ", ";
        int w = snprintf(out + o, cap - o, "%s%s%s%s", sep, i > 0 && i + 1 == n ? and_word : "",
                         i > 0 && i + 1 == n ? " " : "", items[i]);
        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
    }
    free(and_word);
    return VC_OK;
}

/* ---- products ------------------------------------------------------------ */

typedef struct {
    vc_product p;
    const char *spoken; /* first alias, else the name */
    const char *unit;   /* the "unit" attribute, or NULL */
} product_view;

static vc_status product_load(vc_dialog *d, const char *sku, product_view *v)
{
    vc_status st;

    memset(v, 0, sizeof *v);
    st = vc_store_product(d->store, sku, &v->p);
    if (st != VC_OK)
        return st;
    v->spoken = v->p.n_aliases > 0 && v->p.aliases[0] && v->p.aliases[0][0] ? v->p.aliases[0]
                                                                            : v->p.name;
    if (!v->spoken)
        v->spoken = sku;
    for (size_t i = 0; i < v->p.n_attributes; i++)
        if (v->p.attributes[i].key && strcmp(v->p.attributes[i].key, "unit") == 0 &&
            v->p.attributes[i].value && v->p.attributes[i].value[0] &&
            strcmp(v->p.attributes[i].value, "each") != 0) /* "each" is no unit */
            v->unit = v->p.attributes[i].value;
    return VC_OK;
}

static void product_view_clear(product_view *v)
{
    vc_product_clear(&v->p);
    memset(v, 0, sizeof *v);
}

/* "2 packs", "1 pair", or "3" when the product has no unit (nb "2
 * pakker" / "to pakker"). */
static void read_quantity(const vc_dialog *d, reading *r, int quantity, const char *unit)
{
    vc_quantity_display(d->reading, quantity, unit, r->text, sizeof r->text);
    vc_quantity_spoken(d->reading, quantity, unit, r->spoken, sizeof r->spoken);
}

/* "2 packs of coffee filters", "1 pair of gloves", "1 rain jacket"; nb "2
 * pakker kaffefilter", "1 regnjakke". */
static void read_items(const vc_dialog *d, reading *r, int quantity, const char *unit,
                       const char *name)
{
    char q_text[192], q_spoken[320];
    const char *of = unit && d->reading != VC_READ_NB ? " of " : " ";

    vc_quantity_display(d->reading, quantity, unit, q_text, sizeof q_text);
    vc_quantity_spoken(d->reading, quantity, unit, q_spoken, sizeof q_spoken);
    snprintf(r->text, sizeof r->text, "%s%s%s", q_text, of, name);
    snprintf(r->spoken, sizeof r->spoken, "%s%s%s", q_spoken, of, name);
}

/* "a pack", "an ounce", or "each" when the product has no unit; nb "per
 * pakke", "stykket". */
static void format_per_unit(const vc_dialog *d, char *out, size_t cap, const char *unit)
{
    if (d->reading == VC_READ_NB && unit)
        snprintf(out, cap, "per %s", unit);
    else if (d->reading == VC_READ_NB)
        snprintf(out, cap, "stykket");
    else if (!unit)
        snprintf(out, cap, "each");
    else
        snprintf(out, cap, "%s %s", starts_with_vowel_sound(unit) ? "an" : "a", unit);
}

/* The variables every product reply may use. */
typedef struct {
    char product[VC_CATALOG_MAX_FIELD + 1];
    char name[VC_CATALOG_MAX_FIELD + 1];
    reading items;
    reading quantity;
    reading price;
    reading total;
    char per_unit[80];
    char unit[80];
    const char *is;
} product_words;

static void product_words_fill(const vc_dialog *d, product_words *w, const product_view *v,
                               int quantity)
{
    long long cents = to_cents(v->p.price);

    snprintf(w->product, sizeof w->product, "%s", v->spoken);
    snprintf(w->name, sizeof w->name, "%s", v->p.name ? v->p.name : v->spoken);
    read_items(d, &w->items, quantity, v->unit, v->spoken);
    read_quantity(d, &w->quantity, quantity, v->unit);
    read_money(d, &w->price, cents, v->p.currency);
    read_money(d, &w->total, cents * quantity, v->p.currency);
    format_per_unit(d, w->per_unit, sizeof w->per_unit, vc_unit_word(d->reading, v->unit));
    snprintf(w->unit, sizeof w->unit, "%s", v->unit ? vc_unit_word(d->reading, v->unit) : "");
    /* "Coffee filters are", "The rain jacket is"; nb: "er" */
    if (d->reading == VC_READ_NB)
        w->is = "er";
    else
        w->is = ends_with(v->spoken, "s") && !ends_with(v->spoken, "ss") ? "are" : "is";
}

#define PRODUCT_VARS(w)                                                                      \
    {"product", (w).product, NULL}, {"name", (w).name, NULL}, READ_VAR("items", (w).items),  \
        READ_VAR("quantity", (w).quantity), READ_VAR("price", (w).price),                    \
        READ_VAR("total", (w).total), {"per_unit", (w).per_unit, NULL},                      \
        {"unit", (w).unit, NULL}, {"is", (w).is, NULL}

/* ---- conversation state -------------------------------------------------- */

static void clear_candidates(conversation *c)
{
    for (size_t i = 0; i < c->n_candidates; i++)
        free_ptr(&c->candidates[i]);
    c->n_candidates = 0;
    c->choice_reorder = 0;
}

static void clear_search(conversation *c)
{
    free_ptr(&c->search_sku);
    free_ptr(&c->search_query);
    for (size_t i = 0; i < c->n_search_attrs; i++)
        free_ptr(&c->search_attrs[i]);
    c->n_search_attrs = 0;
    c->search_max_price = -1;
    c->has_search = 0;
}

/* Forgets what was being bought; keeps the transcript and last reply. */
static void clear_pending(conversation *c)
{
    c->step = STEP_START;
    c->kind = PENDING_NONE;
    free_ptr(&c->sku);
    c->quantity = 0;
    c->quantity_said = 0;
    c->confirmed_cents = -1;
    for (int i = 0; i < N_DRINK; i++)
        free_ptr(&c->drink[i]);
    clear_candidates(c);
    clear_search(c);
    c->pin_attempts = 0;
}

static void conversation_clear(conversation *c)
{
    clear_pending(c);
    free_ptr(&c->last_reply);
    free_ptr(&c->last_speech);
    for (size_t i = 0; i < c->n_transcript; i++)
        free_ptr(&c->transcript[i].text);
    c->n_transcript = 0;
    c->misunderstood = 0;
}

static void conversation_init(conversation *c)
{
    memset(c, 0, sizeof *c);
    c->confirmed_cents = -1;
    c->search_max_price = -1;
}

static vc_status transcript_add(conversation *c, int assistant, const char *text)
{
    char *copy = dup_bounded(text ? text : "", TEXT_MAX);

    if (!copy)
        return vc_fail(VC_ENOMEM, "dialog: transcript entry");
    if (c->n_transcript == TRANSCRIPT_MAX_ENTRIES) {
        free(c->transcript[0].text);
        memmove(&c->transcript[0], &c->transcript[1],
                (TRANSCRIPT_MAX_ENTRIES - 1) * sizeof c->transcript[0]);
        c->n_transcript--;
    }
    c->transcript[c->n_transcript].assistant = assistant;
    c->transcript[c->n_transcript].text = copy;
    c->n_transcript++;
    return VC_OK;
}

/* ---- dialog lifecycle ---------------------------------------------------- */

static int is_pin(const char *pin)
{
    if (strlen(pin) != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)pin[i]))
            return 0;
    return 1;
}

/* The length of a locale's language part: 2 for "nb-NO", "nb_NO", "nb". */
static size_t language_length(const char *locale)
{
    return strcspn(locale, "-_");
}

/* The pack locale the dialog answers in, for the one asked (see
 * vc_dialog_new), into out. */
static vc_status choose_locale(const vc_pack *pack, const char *asked, char *out, size_t cap)
{
    const char *chosen = NULL, *fallback = vc_pack_default_locale(pack), *key;
    size_t missing = 0;
    char first[256] = "";

    if (vc_pack_has_locale(pack, asked)) {
        chosen = asked;
    } else {
        /* the same language: "nb-NO" -> "nb", "en" -> "en-US" */
        size_t n = language_length(asked);
        const char *l, *lang = asked;
        if (n == 2 && strncmp(asked, "no", 2) == 0)
            lang = "nb"; /* Norwegian, written: Bokmål */
        for (size_t i = 0; !chosen && (l = vc_pack_locale(pack, i)) != NULL; i++)
            if (language_length(l) == n && strncmp(l, lang, n) == 0)
                chosen = l;
    }
    if (!chosen) {
        chosen = fallback;
        vc_log_info("dialog: pack %s has no replies for %s; answering in %s",
                    vc_pack_name(pack), asked, chosen);
    }
    if (strlen(chosen) >= cap)
        return vc_fail(VC_EINVAL, "vc_dialog_new: locale '%.40s' is too long", chosen);
    snprintf(out, cap, "%s", chosen);
    /* No sentence falls back to another language: a locale file must have
     * every key of the pack's default one. */
    if (strcmp(chosen, fallback) == 0)
        return VC_OK;
    for (size_t i = 0; (key = vc_pack_reply_key(pack, fallback, i)) != NULL; i++) {
        if (vc_pack_reply_in(pack, chosen, key))
            continue;
        if (missing++ < 4)
            snprintf(first + strlen(first), sizeof first - strlen(first), "%s%s",
                     missing > 1 ? ", " : "", key);
    }
    if (missing > 0)
        return vc_fail(VC_EPARSE, "pack %s: replies/%s.ini lacks %zu key%s of replies/%s.ini: "
                       "%s%s", vc_pack_name(pack), chosen, missing, missing > 1 ? "s" : "",
                       fallback, first, missing > 4 ? ", ..." : "");
    return VC_OK;
}

vc_status vc_dialog_new(const vc_dialog_config *cfg, const vc_pack *pack, vc_store *store,
                        vc_dialog **out)
{
    vc_dialog *d;
    vc_status st;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_dialog_new: out is NULL");
    *out = NULL;
    if (!cfg || !pack || !store)
        return vc_fail(VC_EINVAL, "vc_dialog_new: config, pack and store are required");
    if (!cfg->customer_id || !cfg->customer_id[0])
        return vc_fail(VC_EINVAL, "vc_dialog_new: customer_id is required");
    if (cfg->orders && !cfg->orders->place)
        return vc_fail(VC_EINVAL, "vc_dialog_new: the order sink has no place function");
    if (cfg->max_quantity < 0)
        return vc_fail(VC_EINVAL, "vc_dialog_new: max_quantity %d is negative", cfg->max_quantity);
    if (!isfinite(cfg->daily_spend_limit) || cfg->daily_spend_limit < 0)
        return vc_fail(VC_EINVAL, "vc_dialog_new: daily_spend_limit must be a number >= 0");
    if (cfg->pin && cfg->pin[0] && !is_pin(cfg->pin))
        return vc_fail(VC_EINVAL, "vc_dialog_new: pin must be exactly 4 digits");
    d = calloc(1, sizeof *d);
    if (!d)
        return vc_fail(VC_ENOMEM, "vc_dialog_new: dialog");
    d->cfg = *cfg;
    if (d->cfg.pin && !d->cfg.pin[0])
        d->cfg.pin = NULL;
    d->pack = pack;
    d->store = store;
    if (cfg->orders)
        d->orders = *cfg->orders;
    else
        vc_orders_local(store, &d->orders);
    d->cfg.orders = &d->orders;
    st = choose_locale(pack, cfg->locale && cfg->locale[0] ? cfg->locale : "en-US", d->locale,
                       sizeof d->locale);
    if (st != VC_OK) {
        free(d);
        return st;
    }
    d->cfg.locale = d->locale;
    d->reading = vc_reading_of(d->locale);
    conversation_init(&d->c);
    *out = d;
    return VC_OK;
}

int vc_dialog_awaiting_purchase(const vc_dialog *d)
{
    return d && (d->c.step == STEP_CONFIRM || d->c.step == STEP_PIN);
}

void vc_dialog_free(vc_dialog *d)
{
    if (!d)
        return;
    conversation_clear(&d->c);
    free(d);
}

void vc_turn_clear(vc_turn *t)
{
    if (!t)
        return;
    free(t->reply);
    free(t->speech);
    free(t->order_number);
    memset(t, 0, sizeof *t);
}

/* ---- slots --------------------------------------------------------------- */

static const char *slot_value(const vc_understanding *u, const char *name)
{
    const vc_slot *s = vc_understanding_slot(u, name);
    return s && s->value && s->value[0] ? s->value : NULL;
}

/* 1: *out set; 0: no such slot; -1: the slot is not a whole number. */
static int slot_int(const vc_understanding *u, const char *name, long *out)
{
    const vc_slot *s = vc_understanding_slot(u, name);
    double v;

    if (!s)
        return 0;
    if (s->type == VC_SLOT_NUMBER) {
        v = s->number;
    } else {
        char *end;
        if (!s->value || !s->value[0])
            return -1;
        v = strtod(s->value, &end);
        if (*end)
            return -1;
    }
    if (!isfinite(v) || v != floor(v) || v < -1e9 || v > 1e9)
        return -1;
    *out = (long)v;
    return 1;
}

/* ---- policy and confirmation --------------------------------------------- */

static int quantity_cap(const vc_dialog *d)
{
    return d->cfg.max_quantity > 0 && d->cfg.max_quantity < QUANTITY_MAX ? d->cfg.max_quantity
                                                                       : QUANTITY_MAX;
}

/* Checks the spend limit for an order of `cents`; *refused set when it says
 * no (the reply said). */
static vc_status check_spend(vc_dialog *d, vc_turn *t, long long cents, const char *currency,
                             int *refused)
{
    double spent;
    long long spent_cents, limit_cents;
    reading total, limit, spent_r;
    vc_status st;

    *refused = 0;
    if (d->cfg.daily_spend_limit <= 0)
        return VC_OK;
    st = vc_store_spent_today(d->store, d->cfg.customer_id, &spent);
    if (st != VC_OK)
        return st;
    spent_cents = to_cents(spent);
    limit_cents = to_cents(d->cfg.daily_spend_limit);
    if (spent_cents + cents <= limit_cents)
        return VC_OK;
    *refused = 1;
    read_money(d, &total, cents, currency);
    read_money(d, &limit, limit_cents, currency);
    read_money(d, &spent_r, spent_cents, currency);
    return SAY(d, t, R_SPEND_LIMIT, READ_VAR("total", total), READ_VAR("limit", limit),
               READ_VAR("spent", spent_r));
}

/* The policy checks for buying `quantity` of v, done before reading a
 * purchase back and again before placing it. On refusal the reply is said
 * and the step set; *refused tells. */
static vc_status check_product_policy(vc_dialog *d, vc_turn *t, const product_view *v,
                                      int quantity, int *refused)
{
    conversation *c = &d->c;
    product_words w;
    vc_status st;

    *refused = 1;
    if (v->p.stock <= 0) {
        product_words_fill(d, &w, v, quantity);
        c->step = STEP_OFFER_ALTERNATIVES;
        return SAY(d, t, R_OUT_OF_STOCK, PRODUCT_VARS(w));
    }
    if (quantity > quantity_cap(d)) {
        reading max;
        read_number(d, &max, quantity_cap(d));
        c->step = STEP_ASK_QUANTITY;
        c->quantity_said = 0;
        st = SAY(d, t, R_QUANTITY_CAP, READ_VAR("max", max));
        return st != VC_OK ? st : SAY0(d, t, R_ASK_QUANTITY);
    }
    if (quantity > v->p.stock) {
        reading available;
        read_items(d, &available, v->p.stock, v->unit, v->spoken);
        product_words_fill(d, &w, v, quantity);
        c->step = STEP_ASK_QUANTITY;
        c->quantity_said = 0;
        st = SAY(d, t, R_ONLY_IN_STOCK, READ_VAR("available", available), PRODUCT_VARS(w));
        return st != VC_OK ? st : SAY0(d, t, R_ASK_QUANTITY);
    }
    st = check_spend(d, t, to_cents(v->p.price) * quantity, v->p.currency, refused);
    if (st != VC_OK || !*refused)
        return st;
    if (quantity > 1) {
        c->step = STEP_ASK_QUANTITY;
        c->quantity_said = 0;
        return SAY0(d, t, R_ASK_QUANTITY);
    }
    clear_pending(c);
    return SAY0(d, t, R_NO_NOTHING_PENDING);
}

/* Reads back the pending product purchase (key: which sentence) after the
 * policy allowed it. */
static vc_status confirm_product(vc_dialog *d, vc_turn *t, const product_view *v,
                                 vc_dialog_reply_key key)
{
    conversation *c = &d->c;
    product_words w;
    int refused;
    vc_status st = check_product_policy(d, t, v, c->quantity, &refused);

    if (st != VC_OK || refused)
        return st;
    product_words_fill(d, &w, v, c->quantity);
    c->step = STEP_CONFIRM;
    c->confirmed_cents = to_cents(v->p.price);
    c->pin_attempts = 0;
    return SAY(d, t, key, PRODUCT_VARS(w));
}

/* Starts buying sku: the quantity is the one said, else (use_history) the
 * customer's last one, else 1. */
static vc_status start_purchase(vc_dialog *d, vc_turn *t, const char *sku, int use_history)
{
    conversation *c = &d->c;
    product_view v;
    vc_dialog_reply_key key = R_CONFIRM_ORDER;
    vc_status st;

    st = product_load(d, sku, &v);
    if (st == VC_ENOTFOUND) {
        clear_pending(c);
        return SAY0(d, t, R_PRODUCT_UNKNOWN);
    }
    if (st != VC_OK)
        return st;
    if (sku != c->sku) {
        st = set_str(&c->sku, sku, SKU_MAX);
        if (st != VC_OK)
            goto out_free_product;
    }
    c->kind = PENDING_PRODUCT;
    clear_candidates(c);
    if (!c->quantity_said) {
        c->quantity = 1;
        if (use_history) {
            vc_order o = {0};
            size_t line = 0;
            st = vc_store_last_order_with(d->store, d->cfg.customer_id, sku, &o, &line);
            if (st == VC_OK && line < o.n_lines && o.lines[line].quantity > 0) {
                c->quantity = o.lines[line].quantity;
                key = R_REORDER_HISTORY;
            } else if (st == VC_OK || st == VC_ENOTFOUND) {
                key = R_REORDER_NEW;
            }
            vc_order_clear(&o);
            if (st != VC_OK && st != VC_ENOTFOUND)
                goto out_free_product;
        }
    }
    st = confirm_product(d, t, &v, key);
out_free_product:
    product_view_clear(&v);
    return st;
}

/* ---- drinks (cafe) ------------------------------------------------------- */

static int has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
        if ((p == s || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == 's'))
            return 1;
    return 0;
}


/* The drink's SKU in the store's catalog: "cafe:" and the drink's words
 * joined by '-' ("flat white" -> "cafe:flat-white"). */
static void drink_sku(const char *drink, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "cafe:");
    int dash = 0;

    for (const char *p = drink; *p && o + 2 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch)) {
            if (dash && o > 5)
                out[o++] = '-';
            dash = 0;
            out[o++] = (char)tolower(ch);
        } else {
            dash = 1;
        }
    }
    out[o] = '\0';
}

/* Whether sku is the drink's: its SKU, or the SKU of its singular ("two
 * lattes": the menu lists the drink in the singular). */
static int sku_names_drink(const char *sku, const char *drink)
{
    char want[SKU_MAX + 8];
    size_t n;

    drink_sku(drink, want, sizeof want);
    if (strcmp(sku, want) == 0)
        return 1;
    n = strlen(want);
    return n > 0 && want[n - 1] == 's' && strlen(sku) == n - 1 && strncmp(sku, want, n - 1) == 0;
}

/* The pending drink's name agreeing with quantity: the menu's singular
 * ("lattes" said, SKU cafe:latte -> "latte"), made plural for more than one
 * ("iced coffee" -> "iced coffees"); nb keeps the singular ("to latte"),
 * as Norwegian does with the English names of drinks. */
static void drink_name_for(const vc_dialog *d, int quantity, char *out, size_t cap)
{
    const conversation *c = &d->c;
    char singular[DRINK_VALUE_MAX + 1], sku[SKU_MAX + 8];
    size_t n;

    snprintf(singular, sizeof singular, "%s", c->drink[DRINK_NAME] ? c->drink[DRINK_NAME] : "");
    n = strlen(singular);
    drink_sku(singular, sku, sizeof sku);
    /* Said in the plural: the SKU found was that of the name without its s. */
    if (c->sku && n > 1 && singular[n - 1] == 's' && strcmp(sku, c->sku) != 0 &&
        sku_names_drink(c->sku, singular))
        singular[n - 1] = '\0';
    if (quantity == 1 || !singular[0] || d->reading == VC_READ_NB)
        snprintf(out, cap, "%s", singular);
    else
        vc_plural_en(out, cap, singular);
}

/* The reading of quantity of the pending drink, in one form (spoken: the
 * spoken form): "a large dark roast latte with a double shot and a little
 * bit of sugar", "two large lattes with oat milk". The slot values are the
 * pack's words as said; nb reads them with Norwegian glue: "to large latte
 * med oat milk", "en latte med en double shot". */
static vc_status describe_drink_form(const vc_dialog *d, int quantity, int spoken, char *out,
                                     size_t cap)
{
    const conversation *c = &d->c;
    int nb = d->reading == VC_READ_NB;
    char head[512], extras[3][160], name[DRINK_VALUE_MAX + 8], count[64];
    const char *extra_ptrs[3];
    char roast[160] = "", joined[512];
    size_t n_extras = 0;
    const char *v;
    vc_status st;

    if ((v = c->drink[DRINK_ROAST]) != NULL)
        snprintf(roast, sizeof roast, has_word(v, "roast") ? "%s" : "%s roast", v);
    drink_name_for(d, quantity, name, sizeof name);
    snprintf(head, sizeof head, "%s %s %s", c->drink[DRINK_SIZE] ? c->drink[DRINK_SIZE] : "",
             roast, name);
    tidy_reply(head);
    set_first_case(head, 0);
    if ((v = c->drink[DRINK_SHOTS]) != NULL) {
        if (vc_all_digits(v) && nb && spoken && strlen(v) < 10) {
            char words[128];
            long k = atol(v);
            vc_number_words(d->reading, k, words, sizeof words);
            snprintf(extras[n_extras++], sizeof extras[0], "%s %s", words,
                     k == 1 ? "shot" : "shots");
        } else if (vc_all_digits(v))
            snprintf(extras[n_extras++], sizeof extras[0], "%s %s", v,
                     strcmp(v, "1") == 0 ? "shot" : "shots");
        else if (has_word(v, "shot") && (has_word(v, "single") || has_word(v, "double") ||
                                         has_word(v, "triple")))
            snprintf(extras[n_extras++], sizeof extras[0], "%s %s", nb ? "en" : "a", v);
        else if (has_word(v, "shot"))
            snprintf(extras[n_extras++], sizeof extras[0], "%s", v);
        else
            snprintf(extras[n_extras++], sizeof extras[0], "%s %s shot",
                     nb ? "en" : starts_with_vowel_sound(v) ? "an" : "a", v);
    }
    /* A milk named before the drink ("oat") is read as one: "oat milk". */
    if ((v = c->drink[DRINK_MILK]) != NULL)
        snprintf(extras[n_extras++], sizeof extras[0],
                 has_word(v, "milk") || has_word(v, "cream") ? "%s" : "%s milk", v);
    if ((v = c->drink[DRINK_SUGAR]) != NULL)
        snprintf(extras[n_extras++], sizeof extras[0],
                 has_word(v, "sugar") || has_word(v, "sweetener") ? "%s" : "%s sugar", v);
    for (size_t i = 0; i < n_extras; i++)
        extra_ptrs[i] = extras[i];
    joined[0] = '\0';
    if (n_extras > 0) {
        st = join_and(d, extra_ptrs, n_extras, joined, sizeof joined);
        if (st != VC_OK)
            return st;
    }
    if (quantity == 1 && nb)
        snprintf(count, sizeof count, "en");
    else if (quantity == 1)
        snprintf(count, sizeof count, "%s", starts_with_vowel_sound(head) ? "an" : "a");
    else if (spoken && nb)
        vc_number_words(d->reading, quantity, count, sizeof count);
    else
        vc_count_display(d->reading, quantity, count, sizeof count);
    snprintf(out, cap, "%s %s%s%s", count, head, !n_extras ? "" : nb ? " med " : " with ",
             joined);
    return VC_OK;
}

/* Both forms of describe_drink_form. */
static vc_status describe_drink(const vc_dialog *d, int quantity, reading *out)
{
    vc_status st = describe_drink_form(d, quantity, 0, out->text, sizeof out->text);
    return st != VC_OK ? st
                       : describe_drink_form(d, quantity, 1, out->spoken, sizeof out->spoken);
}

/* The policy for quantity of drink p, checked before the read-back and
 * again before placing: sold out, more than the cap or the stock (one
 * sentence: how many can be made), the daily spend limit. A refusal drops
 * the drink (the cafe has no quantity question: the customer orders
 * again); *refused tells. */
static vc_status check_drink_policy(vc_dialog *d, vc_turn *t, const vc_product *p,
                                    int quantity, int *refused)
{
    conversation *c = &d->c;
    int most = quantity_cap(d);
    vc_status st;

    *refused = 1;
    if (p->stock <= 0) {
        char drink[DRINK_VALUE_MAX + 1];
        snprintf(drink, sizeof drink, "%s", c->drink[DRINK_NAME] ? c->drink[DRINK_NAME] : "");
        clear_pending(c);
        return SAY(d, t, R_DRINK_SOLD_OUT, {"drink", drink, NULL});
    }
    if (p->stock < most)
        most = p->stock;
    if (quantity > most) {
        reading max;
        read_number(d, &max, most);
        clear_pending(c);
        return SAY(d, t, R_DRINK_QUANTITY_CAP, READ_VAR("max", max));
    }
    st = check_spend(d, t, to_cents(p->price) * quantity, p->currency, refused);
    if (st != VC_OK || !*refused)
        return st;
    clear_pending(c);
    return SAY0(d, t, R_NO_NOTHING_PENDING);
}

static vc_status confirm_drink(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;
    char sku[SKU_MAX + 8];
    reading description, price, total, count;
    vc_product p = {0};
    long long cents;
    int refused;
    vc_status st;

    drink_sku(c->drink[DRINK_NAME], sku, sizeof sku);
    st = vc_store_product(d->store, sku, &p);
    if (st == VC_ENOTFOUND && sku[strlen(sku) - 1] == 's') {
        sku[strlen(sku) - 1] = '\0';
        st = vc_store_product(d->store, sku, &p);
    }
    if (st == VC_ENOTFOUND) {
        char drink[DRINK_VALUE_MAX + 1];
        snprintf(drink, sizeof drink, "%s", c->drink[DRINK_NAME]);
        clear_pending(c);
        return SAY(d, t, R_DRINK_UNAVAILABLE, {"drink", drink, NULL});
    }
    if (st != VC_OK)
        return st;
    st = set_str(&c->sku, sku, SKU_MAX);
    if (st != VC_OK)
        goto out_free_product;
    /* No number said: one. */
    if (c->quantity < 1)
        c->quantity = 1;
    st = check_drink_policy(d, t, &p, c->quantity, &refused);
    if (st != VC_OK || refused)
        goto out_free_product;
    st = describe_drink(d, c->quantity, &description);
    if (st != VC_OK)
        goto out_free_product;
    cents = to_cents(p.price);
    read_menu_price(d, &price, cents, p.currency);
    read_menu_price(d, &total, cents * c->quantity, p.currency);
    read_count(d, &count, c->quantity);
    c->step = STEP_CONFIRM;
    c->confirmed_cents = cents;
    c->pin_attempts = 0;
    st = SAY(d, t, c->quantity == 1 ? R_CAFE_CONFIRM : R_CAFE_CONFIRM_MANY,
             READ_VAR("drink", description), READ_VAR("price", price), READ_VAR("total", total),
             READ_VAR("quantity", count));
out_free_product:
    vc_product_clear(&p);
    return st;
}

/* ---- placing ------------------------------------------------------------- */

/* The price read back is not the price any more: says the new one and
 * reads the purchase back again for a new "yes". */
static vc_status reconfirm_new_price(vc_dialog *d, vc_turn *t, const product_view *v)
{
    conversation *c = &d->c;
    product_words w;
    vc_status st;

    product_words_fill(d, &w, v, c->quantity);
    st = SAY(d, t, R_PRICE_CHANGED, PRODUCT_VARS(w));
    if (st == VC_OK)
        st = c->kind == PENDING_DRINK ? confirm_drink(d, t)
                                      : confirm_product(d, t, v, R_CONFIRM_ORDER);
    return st;
}

/* The only place an order is placed. Reached from a "yes" to a read-back
 * purchase (directly, or through the right PIN). The policy is checked
 * again: time (and other sessions) may have passed since the read-back.
 * The order goes to the dialog's sink (orders.h): the local store, or the
 * backend through the outbox, which may answer that it is queued, sold
 * out, or priced differently now. */
static vc_status place_pending(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;
    product_view v;
    vc_order_line line = {0};
    vc_order order = {0};
    char description[1024];
    reading drinks, number, total, one_drink;
    vc_order_result result = VC_ORDER_PLACED;
    int refused = 0;
    vc_status st;

    if (c->kind == PENDING_NONE || !c->sku) {
        clear_pending(c);
        return SAY0(d, t, R_YES_NOTHING_PENDING);
    }
    st = product_load(d, c->sku, &v);
    if (st == VC_ENOTFOUND) {
        clear_pending(c);
        return SAY0(d, t, c->kind == PENDING_DRINK ? R_NO_NOTHING_PENDING : R_PRODUCT_UNKNOWN);
    }
    if (st != VC_OK)
        return st;
    if (to_cents(v.p.price) != c->confirmed_cents) {
        st = reconfirm_new_price(d, t, &v);
        goto out_free_product;
    }
    if (c->kind == PENDING_PRODUCT) {
        st = check_product_policy(d, t, &v, c->quantity, &refused);
        snprintf(description, sizeof description, "%s", v.p.name ? v.p.name : v.spoken);
    } else {
        /* The line is one drink times the quantity: "a large latte" x 2. */
        st = check_drink_policy(d, t, &v.p, c->quantity, &refused);
        if (st == VC_OK && !refused)
            st = describe_drink(d, 1, &one_drink);
        if (st == VC_OK && !refused) {
            snprintf(description, sizeof description, "%s", one_drink.text);
            st = describe_drink(d, c->quantity, &drinks);
        }
    }
    if (st != VC_OK || refused)
        goto out_free_product;

    line.sku = c->sku;
    line.description = description;
    line.quantity = c->quantity;
    line.unit_price = v.p.price;
    st = d->orders.place(d->orders.ctx, d->cfg.customer_id, &line, 1,
                         v.p.currency ? v.p.currency : "USD", &order, &result);
    if (st != VC_OK)
        goto out_free_order;
    if (result == VC_ORDER_PRICE_CHANGED) {
        /* The backend has another price: the sink brought it into the
         * store. Nothing was placed; read the purchase back anew. */
        product_view_clear(&v);
        st = product_load(d, c->sku, &v);
        if (st == VC_ENOTFOUND) {
            vc_error_clear();
            clear_pending(c);
            st = SAY0(d, t, c->kind == PENDING_DRINK ? R_NO_NOTHING_PENDING : R_PRODUCT_UNKNOWN);
            goto out_free_order;
        }
        if (st == VC_OK)
            st = reconfirm_new_price(d, t, &v);
        goto out_free_order;
    }
    if (result == VC_ORDER_SOLD_OUT) {
        /* Stock ran out between the read-back and now: nothing was placed. */
        product_words w;
        product_words_fill(d, &w, &v, c->quantity);
        if (c->kind == PENDING_DRINK) {
            char drink[DRINK_VALUE_MAX + 1];
            snprintf(drink, sizeof drink, "%s", c->drink[DRINK_NAME] ? c->drink[DRINK_NAME] : "");
            clear_pending(c);
            st = SAY(d, t, R_DRINK_SOLD_OUT, {"drink", drink, NULL});
        } else {
            c->step = STEP_OFFER_ALTERNATIVES;
            st = SAY(d, t, R_STOCK_RAN_OUT, PRODUCT_VARS(w));
        }
        goto out_free_order;
    }

    if (result == VC_ORDER_QUEUED) {
        /* committed to the outbox: it goes out by itself, with no number yet */
        t->order_queued = 1;
        number.text[0] = number.spoken[0] = '\0';
    } else {
        t->order_number = dup_bounded(order.number ? order.number : "", ORDER_NUMBER_MAX);
        if (!t->order_number) {
            st = vc_fail(VC_ENOMEM, "dialog: order number");
            goto out_free_order;
        }
        t->order_placed = 1;
        read_spelled(d, &number, t->order_number);
    }
    t->finished = 1;
    {
        const char *currency = order.currency ? order.currency : v.p.currency;
        if (c->kind == PENDING_DRINK)
            read_menu_price(d, &total, to_cents(order.total), currency);
        else
            read_money(d, &total, to_cents(order.total), currency);
    }
    {
        product_words w;
        if (c->kind != PENDING_DRINK) {
            snprintf(drinks.text, sizeof drinks.text, "%s", description);
            snprintf(drinks.spoken, sizeof drinks.spoken, "%s", description);
        }
        product_words_fill(d, &w, &v, c->quantity);
        clear_pending(c);
        st = SAY(d, t, t->order_queued ? R_ORDER_QUEUED : R_ORDER_PLACED,
                 READ_VAR("number", number), READ_VAR("drink", drinks),
                 READ_VAR("items", w.items), {"product", w.product, NULL},
                 READ_VAR("total", total));
    }
out_free_order:
    vc_order_clear(&order);
out_free_product:
    product_view_clear(&v);
    return st;
}

/* ---- search -------------------------------------------------------------- */

/* Reads out found products (n >= 1) or goes straight to confirming one. */
static vc_status offer_products(vc_dialog *d, vc_turn *t, const vc_product_list *found)
{
    conversation *c = &d->c;
    static const vc_dialog_reply_key ordinals[CANDIDATES_MAX] = {R_ORDINAL_1, R_ORDINAL_2,
                                                                 R_ORDINAL_3};
    rendered items[CANDIDATES_MAX] = {{0}};
    reading count;
    size_t n = found->n < CANDIDATES_MAX ? found->n : CANDIDATES_MAX;
    vc_status st = VC_OK;

    clear_candidates(c);
    if (n == 1) {
        reading price;
        const vc_product *p = &found->items[0];
        read_money(d, &price, to_cents(p->price), p->currency);
        st = SAY(d, t, R_SEARCH_ONE, {"name", p->name, NULL}, READ_VAR("price", price));
        if (st != VC_OK)
            return st;
        c->quantity_said = c->quantity_said && c->quantity > 0;
        return start_purchase(d, t, p->sku, 0);
    }
    for (size_t i = 0; i < n && st == VC_OK; i++) {
        const vc_product *p = &found->items[i];
        reading price;
        char *ordinal = NULL;
        read_money(d, &price, to_cents(p->price), p->currency);
        st = render_form(d, ordinals[i], NULL, 0, 0, &ordinal);
        if (st == VC_OK) {
            set_first_case(ordinal, 0);
            st = render(d, R_SEARCH_ITEM,
                        (const reply_var[]){{"ordinal", ordinal, NULL},
                                            {"name", p->name, NULL},
                                            READ_VAR("price", price)},
                        3, &items[i]);
            if (st == VC_OK) {
                set_first_case(items[i].text, 0);
                set_first_case(items[i].spoken, 0);
            }
        }
        free(ordinal);
        if (st == VC_OK)
            st = set_str(&c->candidates[i], p->sku, SKU_MAX);
        if (st == VC_OK)
            c->n_candidates = i + 1;
    }
    if (st == VC_OK) {
        read_number(d, &count, (long long)n);
        c->step = STEP_CHOOSE;
        c->choice_reorder = 0;
        st = SAY(d, t, n == 2 ? R_SEARCH_RESULTS_2 : R_SEARCH_RESULTS_3, READ_VAR("count", count),
                 {"item1", items[0].text, items[0].spoken},
                 {"item2", items[1].text, items[1].spoken},
                 {"item3", items[2].text ? items[2].text : "", items[2].spoken});
    }
    for (size_t i = 0; i < CANDIDATES_MAX; i++)
        rendered_free(&items[i]);
    return st;
}

static vc_status run_search(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;
    char query_words[4 * QUERY_MAX];
    vc_search_query q = {0};
    vc_product_list found = {0};
    vc_status st;

    /* The words said first ("rain jackets" is many products, though the
     * understander may have resolved it to one); the named SKU only when the
     * words find nothing. */
    q.sku = c->search_query ? NULL : c->search_sku;
    if (c->search_query) {
        vc_search_words(d->reading, c->search_query, query_words, sizeof query_words);
        q.query = query_words;
    }
    q.attributes = (const char *const *)c->search_attrs;
    q.n_attributes = c->n_search_attrs;
    q.max_price = c->search_max_price;
    q.limit = CANDIDATES_MAX;
    st = vc_store_search(d->store, &q, &found);
    if (st == VC_OK && found.n == 0 && c->search_query && c->search_sku) {
        q.sku = c->search_sku;
        q.query = NULL;
        st = vc_store_search(d->store, &q, &found);
    }
    if (st != VC_OK)
        return st;
    if (found.n > 0) {
        st = offer_products(d, t, &found);
    } else if (c->search_max_price >= 0) {
        reading max_price;
        /* in the catalog's currency, which the limit was said in */
        read_money(d, &max_price, to_cents(c->search_max_price), NULL);
        c->step = STEP_OFFER_WIDEN;
        st = SAY(d, t, R_NO_RESULTS_WIDEN_PRICE, READ_VAR("max_price", max_price));
    } else if (c->n_search_attrs > 0) {
        const char *words[SEARCH_ATTRS_MAX];
        char attributes[1024];
        for (size_t i = 0; i < c->n_search_attrs; i++) {
            /* "color=red" is said "red". */
            const char *eq = strchr(c->search_attrs[i], '=');
            words[i] = eq ? eq + 1 : c->search_attrs[i];
        }
        st = join_and(d, words, c->n_search_attrs, attributes, sizeof attributes);
        if (st == VC_OK) {
            c->step = STEP_OFFER_WIDEN;
            st = SAY(d, t, R_NO_RESULTS_WIDEN_ATTRIBUTES, {"attributes", attributes, NULL});
        }
    } else {
        clear_pending(c);
        st = SAY0(d, t, R_NO_RESULTS);
    }
    vc_product_list_clear(&found);
    return st;
}

/* Drops the narrowest criterion of the last search and runs it again. */
static vc_status widen_search(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;

    if (c->search_max_price >= 0) {
        c->search_max_price = -1;
    } else {
        for (size_t i = 0; i < c->n_search_attrs; i++)
            free_ptr(&c->search_attrs[i]);
        c->n_search_attrs = 0;
    }
    return run_search(d, t);
}

/* Out of stock: other in-stock products of the same category. */
static vc_status search_alternatives(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;
    product_view v;
    vc_search_query q = {0};
    vc_product_list found = {0};
    vc_status st;

    if (!c->sku) {
        clear_pending(c);
        return SAY0(d, t, R_NO_ALTERNATIVES);
    }
    st = product_load(d, c->sku, &v);
    if (st == VC_ENOTFOUND) {
        clear_pending(c);
        return SAY0(d, t, R_NO_ALTERNATIVES);
    }
    if (st != VC_OK)
        return st;
    /* Products sharing words of its name rank first ("paper towels"); the
     * category alone when none does. */
    q.query = v.p.name;
    q.category = v.p.category;
    q.max_price = -1;
    q.limit = CANDIDATES_MAX + 1;
    st = vc_store_search(d->store, &q, &found);
    if (st == VC_OK && found.n <= 1) {
        vc_product_list_clear(&found);
        q.query = NULL;
        st = vc_store_search(d->store, &q, &found);
    }
    if (st != VC_OK)
        goto out_free_product;
    {
        /* Keep only other products that can be bought. */
        size_t kept = 0;
        for (size_t i = 0; i < found.n; i++) {
            if (strcmp(found.items[i].sku, v.p.sku) != 0 && found.items[i].stock > 0) {
                vc_product tmp = found.items[kept];
                found.items[kept] = found.items[i];
                found.items[i] = tmp;
                kept++;
            }
        }
        if (kept == 0) {
            clear_pending(c);
            st = SAY0(d, t, R_NO_ALTERNATIVES);
            goto out_free_list;
        }
        {
            vc_product_list shown = {found.items, kept};
            clear_search(c);
            c->quantity_said = 0;
            st = offer_products(d, t, &shown);
        }
    }
out_free_list:
    vc_product_list_clear(&found);
out_free_product:
    product_view_clear(&v);
    return st;
}

/* ---- intents ------------------------------------------------------------- */

/* Reads out ambiguous products to choose from. */
static vc_status ask_which_product(vc_dialog *d, vc_turn *t, const vc_slot *s, int for_reorder)
{
    conversation *c = &d->c;
    static const vc_dialog_reply_key ordinals[CANDIDATES_MAX] = {R_ORDINAL_1, R_ORDINAL_2,
                                                                 R_ORDINAL_3};
    char *items[CANDIDATES_MAX] = {0};
    vc_status st = VC_OK;

    clear_candidates(c);
    for (size_t i = 0; i <= s->n_alternatives && c->n_candidates < CANDIDATES_MAX; i++) {
        const char *sku = i == 0 ? s->value : s->alternatives[i - 1];
        product_view v;
        char *ordinal = NULL;
        int dup = 0;
        if (!sku || !sku[0] || strlen(sku) > SKU_MAX)
            continue;
        for (size_t j = 0; j < c->n_candidates; j++)
            dup |= strcmp(c->candidates[j], sku) == 0;
        if (dup)
            continue;
        st = product_load(d, sku, &v);
        if (st == VC_ENOTFOUND)
            continue;
        if (st != VC_OK)
            break;
        /* no values with a spoken form: the display form is the spoken one */
        st = render_form(d, ordinals[c->n_candidates], NULL, 0, 0, &ordinal);
        if (st == VC_OK) {
            set_first_case(ordinal, 0);
            st = render_form(d, R_CHOICE_ITEM,
                             (const reply_var[]){{"ordinal", ordinal, NULL},
                                                 {"name", v.p.name, NULL}},
                             2, 0, &items[c->n_candidates]);
        }
        free(ordinal);
        if (st == VC_OK) {
            set_first_case(items[c->n_candidates], 0);
            st = set_str(&c->candidates[c->n_candidates], sku, SKU_MAX);
        }
        product_view_clear(&v);
        if (st != VC_OK)
            break;
        c->n_candidates++;
    }
    if (st == VC_OK) {
        if (c->n_candidates == 0) {
            clear_pending(c);
            st = SAY0(d, t, R_PRODUCT_UNKNOWN);
        } else if (c->n_candidates == 1) {
            char *only = c->candidates[0];
            c->candidates[0] = NULL;
            c->n_candidates = 0;
            st = start_purchase(d, t, only, for_reorder);
            free(only);
        } else {
            c->step = STEP_CHOOSE;
            c->choice_reorder = for_reorder;
            st = SAY(d, t, c->n_candidates == 2 ? R_WHICH_PRODUCT_2 : R_WHICH_PRODUCT_3,
                     {"item1", items[0], NULL}, {"item2", items[1], NULL},
                     {"item3", items[2] ? items[2] : "", NULL});
        }
    }
    for (size_t i = 0; i < CANDIDATES_MAX; i++)
        free(items[i]);
    return st;
}

/* Takes a quantity slot value; 0 when there is none, -1 when it is not a
 * quantity that can be ordered (the reply said). */
static vc_status take_quantity(vc_dialog *d, vc_turn *t, const vc_understanding *u,
                               const char *slot, int *quantity)
{
    long q;
    int found = slot_int(u, slot, &q);

    *quantity = 0;
    if (found == 0)
        return VC_OK;
    if (found < 0 || q < 1 || q > QUANTITY_MAX) {
        reading max;
        read_number(d, &max, quantity_cap(d));
        *quantity = -1;
        return SAY(d, t, R_QUANTITY_INVALID, READ_VAR("max", max));
    }
    *quantity = (int)q;
    return VC_OK;
}

static vc_status on_reorder(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    const vc_slot *product = vc_understanding_slot(u, "product");
    int quantity;
    vc_status st;

    clear_pending(c);
    st = take_quantity(d, t, u, "quantity", &quantity);
    if (st != VC_OK || quantity < 0)
        return st;
    c->quantity = quantity;
    c->quantity_said = quantity > 0;
    if ((!product || !product->value || !product->value[0]) && slot_value(u, "query"))
        return SAY0(d, t, R_PRODUCT_UNKNOWN); /* a product the catalog does not know */
    if (!product || !product->value || !product->value[0]) {
        /* "Order the same again": the first line of the latest order. */
        vc_order o = {0};
        st = vc_store_latest_order(d->store, d->cfg.customer_id, &o);
        if (st == VC_ENOTFOUND || (st == VC_OK && (o.n_lines == 0 || !o.lines[0].sku))) {
            vc_order_clear(&o);
            vc_error_clear();
            return SAY0(d, t, R_REORDER_WHICH_PRODUCT);
        }
        if (st != VC_OK)
            return st;
        st = start_purchase(d, t, o.lines[0].sku, 1);
        vc_order_clear(&o);
        return st;
    }
    if (product->n_alternatives > 0)
        return ask_which_product(d, t, product, 1);
    if (strlen(product->value) > SKU_MAX)
        return SAY0(d, t, R_PRODUCT_UNKNOWN);
    return start_purchase(d, t, product->value, 1);
}

/* "1 pack of coffee filters and 1 box of tea" for an order's lines, in
 * both forms. */
static vc_status describe_order_lines(vc_dialog *d, const vc_order *o, reading *out)
{
    reading phrases[3];
    const char *texts[3], *spoken[3];
    size_t n = o->n_lines < 3 ? o->n_lines : 3;
    vc_status st;

    for (size_t i = 0; i < n; i++) {
        const vc_order_line *l = &o->lines[i];
        product_view v;
        st = l->sku ? product_load(d, l->sku, &v) : VC_ENOTFOUND;
        if (st == VC_OK) {
            read_items(d, &phrases[i], l->quantity, v.unit, v.spoken);
            product_view_clear(&v);
        } else if (st == VC_ENOTFOUND) {
            /* A product since dropped from the catalog: its recorded name. */
            read_items(d, &phrases[i], l->quantity, NULL,
                       l->description ? l->description : (l->sku ? l->sku : ""));
        } else {
            return st;
        }
        texts[i] = phrases[i].text;
        spoken[i] = phrases[i].spoken;
    }
    vc_error_clear();
    out->text[0] = out->spoken[0] = '\0';
    if (n == 0)
        return VC_OK;
    st = join_and(d, texts, n, out->text, sizeof out->text);
    return st != VC_OK ? st : join_and(d, spoken, n, out->spoken, sizeof out->spoken);
}

/* The store's order status in the pack's words (status_placed ...); a
 * status the table does not know is read as the store gives it. */
static vc_status order_status_words(const vc_dialog *d, const char *status, char **out)
{
    static const struct {
        const char *status;
        vc_dialog_reply_key key;
    } keys[] = {
        {"placed", R_STATUS_PLACED},       {"packed", R_STATUS_PACKED},
        {"shipped", R_STATUS_SHIPPED},     {"delivered", R_STATUS_DELIVERED},
        {"cancelled", R_STATUS_CANCELLED}, {"queued", R_STATUS_QUEUED},
    };
    vc_status st;

    for (size_t i = 0; status && i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(status, keys[i].status) != 0)
            continue;
        st = render_form(d, keys[i].key, NULL, 0, 0, out);
        if (st == VC_OK)
            set_first_case(*out, 0);
        return st;
    }
    *out = strdup(status ? status : "");
    return *out ? VC_OK : vc_fail(VC_ENOMEM, "dialog: order status");
}

/* Asks the sink to bring the store's copy of the order up to date. A
 * backend that does not answer leaves the copy as it is: the dialog reads
 * out what the store last heard, and says nothing of the failure. */
static void refresh_order(vc_dialog *d, const char *number)
{
    vc_status st;

    if (!d->orders.refresh || !number)
        return;
    st = d->orders.refresh(d->orders.ctx, d->cfg.customer_id, number);
    if (st != VC_OK) {
        vc_log_warn("dialog: refreshing order %.*s: %s", ORDER_NUMBER_MAX, number,
                    vc_error_detail());
        vc_error_clear();
    }
}

/* The latest order *o, refreshed and read again; a queued order the
 * refresh got placed has a new number, so the latest is read again then. */
static vc_status reread_latest(vc_dialog *d, vc_order *o)
{
    char number[ORDER_NUMBER_MAX + 64];
    vc_order again = {0};
    vc_status st;

    snprintf(number, sizeof number, "%s", o->number);
    refresh_order(d, number);
    st = vc_store_order_by_number(d->store, d->cfg.customer_id, number, &again);
    if (st == VC_ENOTFOUND) {
        vc_error_clear();
        st = vc_store_latest_order(d->store, d->cfg.customer_id, &again);
    }
    if (st == VC_ENOTFOUND) {
        /* gone from under us: what was read before stands */
        vc_error_clear();
        return VC_OK;
    }
    if (st != VC_OK)
        return st;
    vc_order_clear(o);
    *o = again;
    return VC_OK;
}

static vc_status on_order_status(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    const char *number = slot_value(u, "order_number");
    reading spelled, items, total;
    char *status = NULL;
    vc_order o = {0};
    vc_status st;

    clear_pending(c);
    if (number) {
        read_spelled(d, &spelled, number);
        if (strlen(number) > ORDER_NUMBER_MAX || !vc_all_digits(number))
            return SAY(d, t, R_ORDER_UNKNOWN, READ_VAR("number", spelled));
        /* the backend may know an order the store has not heard of yet */
        refresh_order(d, number);
        st = vc_store_order_by_number(d->store, d->cfg.customer_id, number, &o);
        if (st == VC_ENOTFOUND) {
            vc_error_clear();
            return SAY(d, t, R_ORDER_UNKNOWN, READ_VAR("number", spelled));
        }
    } else {
        st = vc_store_latest_order(d->store, d->cfg.customer_id, &o);
        if (st == VC_ENOTFOUND) {
            vc_error_clear();
            return SAY0(d, t, R_NO_ORDERS);
        }
        if (st == VC_OK && d->orders.refresh && o.number)
            st = reread_latest(d, &o);
    }
    if (st != VC_OK)
        return st;
    if (o.status && strcmp(o.status, "queued") == 0)
        /* its number is the outbox's own: the customer never heard one */
        spelled.text[0] = spelled.spoken[0] = '\0';
    else
        read_spelled(d, &spelled, o.number ? o.number : "");
    read_money(d, &total, to_cents(o.total), o.currency);
    st = describe_order_lines(d, &o, &items);
    if (st == VC_OK)
        st = order_status_words(d, o.status, &status);
    if (st == VC_OK)
        st = SAY(d, t, R_ORDER_STATUS, READ_VAR("number", spelled), READ_VAR("items", items),
                 {"status", status, NULL}, READ_VAR("total", total));
    free(status);
    vc_order_clear(&o);
    return st;
}

static vc_status on_search(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    const vc_slot *product = vc_understanding_slot(u, "product");
    const char *query = slot_value(u, "query");
    vc_status st;

    clear_pending(c);
    c->has_search = 1;
    if (product && product->value && product->value[0]) {
        /* A search is for what matches the words said; the SKU they were
         * resolved to is the fallback (run_search). */
        if (!query && product->text && product->text[0])
            query = product->text;
        if (strlen(product->value) <= SKU_MAX &&
            (st = set_str(&c->search_sku, product->value, SKU_MAX)) != VC_OK)
            return st;
    }
    if (query && (st = set_str(&c->search_query, query, QUERY_MAX)) != VC_OK)
        return st;
    {
        const vc_slot *mp = vc_understanding_slot(u, "max_price");
        if (mp) {
            double v = mp->type == VC_SLOT_NUMBER ? mp->number
                       : mp->value             ? strtod(mp->value, NULL)
                                               : -1;
            c->search_max_price = isfinite(v) && v >= 0 && v < 1e9 ? v : -1;
        }
    }
    for (size_t i = 0; i < u->n_slots && c->n_search_attrs < SEARCH_ATTRS_MAX; i++) {
        const vc_slot *s = &u->slots[i];
        if (!s->name || strcmp(s->name, "attribute") != 0 || !s->value || !s->value[0])
            continue;
        st = set_str(&c->search_attrs[c->n_search_attrs], s->value, VC_CATALOG_MAX_FIELD);
        if (st != VC_OK)
            return st;
        c->n_search_attrs++;
    }
    {
        int quantity;
        st = take_quantity(d, t, u, "quantity", &quantity);
        if (st != VC_OK || quantity < 0)
            return st;
        c->quantity = quantity;
        c->quantity_said = quantity > 0;
    }
    return run_search(d, t);
}

/* 1-based choice from "1".."3", "last" or a number; 0 when none. */
static long choice_index(const conversation *c, const vc_understanding *u)
{
    const char *choice = slot_value(u, "choice");
    long n = 0;

    if (choice && strcmp(choice, "last") == 0)
        return (long)c->n_candidates;
    if (choice) {
        char *end;
        n = strtol(choice, &end, 10);
        return *end ? -1 : n;
    }
    if (slot_int(u, "number", &n) == 1)
        return n;
    return -1;
}

static vc_status on_select(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    long i;
    char *sku;
    vc_status st;

    if (c->step != STEP_CHOOSE || c->n_candidates == 0)
        return SAY0(d, t, R_NOTHING_TO_CHOOSE);
    i = choice_index(c, u);
    if (i < 1 || i > (long)c->n_candidates) {
        reading count;
        read_number(d, &count, (long long)c->n_candidates);
        return SAY(d, t, R_CHOICE_INVALID, READ_VAR("count", count));
    }
    sku = c->candidates[i - 1];
    c->candidates[i - 1] = NULL;
    st = start_purchase(d, t, sku, c->choice_reorder);
    free(sku);
    return st;
}

/* A new quantity for the pending product: read back again. */
static vc_status requote_quantity(vc_dialog *d, vc_turn *t, int quantity)
{
    conversation *c = &d->c;

    c->quantity = quantity;
    c->quantity_said = 1;
    return start_purchase(d, t, c->sku, 0);
}

static vc_status on_set_quantity(vc_dialog *d, vc_turn *t, const vc_understanding *u,
                                 const char *slot)
{
    conversation *c = &d->c;
    int quantity;
    vc_status st = take_quantity(d, t, u, slot, &quantity);

    if (st != VC_OK || quantity < 0)
        return st;
    if (quantity == 0) {
        reading max;
        read_number(d, &max, quantity_cap(d));
        return SAY(d, t, R_QUANTITY_INVALID, READ_VAR("max", max));
    }
    if (c->kind == PENDING_PRODUCT && c->sku &&
        (c->step == STEP_CONFIRM || c->step == STEP_ASK_QUANTITY || c->step == STEP_PIN))
        return requote_quantity(d, t, quantity);
    if (c->step == STEP_CHOOSE) {
        c->quantity = quantity;
        c->quantity_said = 1;
        return SAY0(d, t, R_CHOOSE_PROMPT);
    }
    return SAY0(d, t, R_QUANTITY_NOTHING_PENDING);
}

static vc_status on_pin(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    const char *said = slot_value(u, "number");
    const char *pin = d->cfg.pin;
    unsigned diff = 0;

    if (!pin)
        return place_pending(d, t);
    /* Compare every digit so timing says nothing about the PIN. */
    if (!said || strlen(said) != 4)
        diff = 1;
    else
        for (int i = 0; i < 4; i++)
            diff |= (unsigned)(said[i] ^ pin[i]);
    if (diff == 0)
        return place_pending(d, t);
    c->pin_attempts++;
    if (c->pin_attempts >= PIN_TRIES) {
        clear_pending(c);
        t->finished = 1;
        return SAY0(d, t, R_PIN_CANCELLED);
    }
    return SAY0(d, t, R_PIN_WRONG);
}

static vc_status on_number(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;

    switch (c->step) {
    case STEP_PIN:
        return on_pin(d, t, u);
    case STEP_CHOOSE:
        return on_select(d, t, u);
    case STEP_CONFIRM:
    case STEP_ASK_QUANTITY:
        if (c->kind == PENDING_PRODUCT)
            return on_set_quantity(d, t, u, "number");
        break;
    default:
        break;
    }
    {
        const char *said = slot_value(u, "number");
        reading spelled;
        read_spelled(d, &spelled, said && strlen(said) < 30 ? said : "");
        return SAY(d, t, R_NUMBER_UNEXPECTED, READ_VAR("number", spelled));
    }
}

static vc_status on_yes(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;

    switch (c->step) {
    case STEP_CONFIRM:
        if (d->cfg.pin) {
            c->step = STEP_PIN;
            c->pin_attempts = 0;
            return SAY0(d, t, R_PIN_ASK);
        }
        return place_pending(d, t);
    case STEP_PIN:
        return SAY0(d, t, R_PIN_ASK);
    case STEP_CHOOSE:
        return SAY0(d, t, R_CHOOSE_PROMPT);
    case STEP_ASK_QUANTITY:
        return SAY0(d, t, R_ASK_QUANTITY);
    case STEP_ASK_DRINK:
        return SAY0(d, t, R_ASK_DRINK);
    case STEP_OFFER_ALTERNATIVES:
        return search_alternatives(d, t);
    case STEP_OFFER_WIDEN:
        return widen_search(d, t);
    default:
        return SAY0(d, t, R_YES_NOTHING_PENDING);
    }
}

static vc_status on_no(vc_dialog *d, vc_turn *t)
{
    conversation *c = &d->c;
    int was_purchase = c->step == STEP_CONFIRM || c->step == STEP_PIN ||
                       c->step == STEP_ASK_QUANTITY;

    clear_pending(c);
    return SAY0(d, t, was_purchase ? R_DECLINED : R_NO_NOTHING_PENDING);
}

static vc_status on_help(vc_dialog *d, vc_turn *t)
{
    static const vc_dialog_reply_key by_step[STEP_COUNT] = {
        [STEP_START] = R_HELP_START,          [STEP_CONFIRM] = R_HELP_CONFIRM,
        [STEP_PIN] = R_HELP_PIN,              [STEP_CHOOSE] = R_HELP_CHOOSE,
        [STEP_ASK_QUANTITY] = R_HELP_QUANTITY, [STEP_ASK_DRINK] = R_HELP_DRINK,
        [STEP_OFFER_ALTERNATIVES] = R_HELP_OFFER, [STEP_OFFER_WIDEN] = R_HELP_OFFER,
    };
    return SAY0(d, t, by_step[d->c.step]);
}

static vc_status transcript_json(const conversation *c, char **out)
{
    cJSON *arr = cJSON_CreateArray();
    vc_status st = VC_OK;

    *out = NULL;
    if (!arr)
        return vc_fail(VC_ENOMEM, "dialog: transcript JSON");
    for (size_t i = 0; i < c->n_transcript; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e) ||
            !cJSON_AddStringToObject(e, "who", c->transcript[i].assistant ? "assistant" : "customer") ||
            !cJSON_AddStringToObject(e, "text", c->transcript[i].text)) {
            st = vc_fail(VC_ENOMEM, "dialog: transcript JSON entry %zu", i);
            goto out_free_array;
        }
    }
    *out = cJSON_PrintUnformatted(arr);
    if (!*out)
        st = vc_fail(VC_ENOMEM, "dialog: printing the transcript");
out_free_array:
    cJSON_Delete(arr);
    return st;
}

static vc_status on_human(vc_dialog *d, vc_turn *t)
{
    char *transcript;
    long long id = 0;
    vc_status st = transcript_json(&d->c, &transcript);

    if (st != VC_OK)
        return st;
    st = vc_store_add_handover(d->store, d->cfg.customer_id, "customer asked for a person",
                               transcript, &id);
    free(transcript);
    if (st != VC_OK)
        return st;
    clear_pending(&d->c);
    t->handover = 1;
    t->finished = 1;
    return SAY0(d, t, R_HANDOVER);
}

static vc_status on_order_drink(vc_dialog *d, vc_turn *t, const vc_understanding *u)
{
    conversation *c = &d->c;
    long quantity = 0;
    int said = slot_int(u, "quantity", &quantity);
    vc_status st;

    /* "Zero lattes" orders nothing: asked again, the drink begun kept. */
    if (said < 0 || (said > 0 && quantity < 1)) {
        if (c->misunderstood < MISUNDERSTOOD_MAX)
            c->misunderstood++;
        return SAY0(d, t, c->misunderstood >= 2 ? R_NOT_UNDERSTOOD_AGAIN : R_NOT_UNDERSTOOD);
    }
    /* Answering "what drink?" adds to the drink; anything else starts anew. */
    if (!(c->kind == PENDING_DRINK && (c->step == STEP_ASK_DRINK || c->step == STEP_CONFIRM)))
        clear_pending(c);
    if (said > 0 && quantity > quantity_cap(d)) {
        reading max;
        read_number(d, &max, quantity_cap(d));
        clear_pending(c);
        return SAY(d, t, R_DRINK_QUANTITY_CAP, READ_VAR("max", max));
    }
    /* The count said ("two lattes") replaces the one before. Unsaid, it
     * stays while the drink is completed ("make it a large", "make it
     * mochas"), but a drink named in the singular is one ("a mocha"). */
    if (said > 0) {
        c->quantity = (int)quantity;
        c->quantity_said = 1;
    } else {
        const char *name = slot_value(u, drink_slots[DRINK_NAME]);
        if (name && !ends_with(name, "s")) {
            c->quantity = 0;
            c->quantity_said = 0;
        }
    }
    c->kind = PENDING_DRINK;
    for (int i = 0; i < N_DRINK; i++) {
        const vc_slot *s = vc_understanding_slot(u, drink_slots[i]);
        const char *v = s ? (s->text && s->type == VC_SLOT_NUMBER && i != DRINK_SHOTS ? s->text
                                                                                       : s->value)
                          : NULL;
        if (!v || !v[0])
            continue;
        st = set_str(&c->drink[i], v, DRINK_VALUE_MAX);
        if (st != VC_OK)
            return st;
    }
    if (!c->drink[DRINK_NAME]) {
        c->step = STEP_ASK_DRINK;
        return SAY0(d, t, R_ASK_DRINK);
    }
    return confirm_drink(d, t);
}

static vc_status dispatch(vc_dialog *d, const vc_understanding *u, vc_turn *t)
{
    conversation *c = &d->c;
    const char *intent = u->intent;

    if (!intent) {
        if (c->misunderstood < MISUNDERSTOOD_MAX)
            c->misunderstood++;
        return SAY0(d, t, c->misunderstood >= 2 ? R_NOT_UNDERSTOOD_AGAIN : R_NOT_UNDERSTOOD);
    }
    c->misunderstood = 0;
    if (strcmp(intent, "yes") == 0)
        return on_yes(d, t);
    if (strcmp(intent, "no") == 0)
        return on_no(d, t);
    if (strcmp(intent, "cancel") == 0) {
        clear_pending(c);
        t->finished = 1;
        return SAY0(d, t, R_CANCELLED);
    }
    if (strcmp(intent, "help") == 0)
        return on_help(d, t);
    if (strcmp(intent, "repeat") == 0) {
        if (!c->last_reply)
            return SAY0(d, t, R_NOTHING_TO_REPEAT);
        t->reply = strdup(c->last_reply);
        t->speech = strdup(c->last_speech ? c->last_speech : c->last_reply);
        return t->reply && t->speech ? VC_OK : vc_fail(VC_ENOMEM, "dialog: repeating");
    }
    if (strcmp(intent, "human") == 0)
        return on_human(d, t);
    if (strcmp(intent, "number") == 0)
        return on_number(d, t, u);
    if (strcmp(intent, "reorder") == 0)
        return on_reorder(d, t, u);
    if (strcmp(intent, "order_status") == 0)
        return on_order_status(d, t, u);
    if (strcmp(intent, "search") == 0)
        return on_search(d, t, u);
    if (strcmp(intent, "select") == 0)
        return on_select(d, t, u);
    if (strcmp(intent, "set_quantity") == 0)
        return on_set_quantity(d, t, u, "quantity");
    if (strcmp(intent, "orderDrink") == 0)
        return on_order_drink(d, t, u);
    /* A pack intent the dialog has no behaviour for: as good as not understood. */
    vc_log_warn("dialog: pack %s: no behaviour for intent \"%s\"", vc_pack_name(d->pack), intent);
    if (c->misunderstood < MISUNDERSTOOD_MAX)
        c->misunderstood++;
    return SAY0(d, t, c->misunderstood >= 2 ? R_NOT_UNDERSTOOD_AGAIN : R_NOT_UNDERSTOOD);
}

/* Records what the assistant said (transcript, last reply and its spoken
 * form, kept only when it differs). */
static vc_status remember_reply(vc_dialog *d, const char *reply, const char *speech)
{
    vc_status st = set_str(&d->c.last_reply, reply, TEXT_MAX);
    if (st == VC_OK)
        st = set_str(&d->c.last_speech, speech && strcmp(speech, reply) != 0 ? speech : NULL,
                     TEXT_MAX);
    return st != VC_OK ? st : transcript_add(&d->c, 1, reply);
}

vc_status vc_dialog_turn(vc_dialog *d, const vc_understanding *u, vc_turn *out)
{
    vc_status st;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_dialog_turn: out is NULL");
    memset(out, 0, sizeof *out);
    if (!d || !u)
        return vc_fail(VC_EINVAL, "vc_dialog_turn: dialog and understanding are required");
    st = transcript_add(&d->c, 0, u->text);
    if (st == VC_OK)
        st = dispatch(d, u, out);
    if (st == VC_OK && (!out->reply || !out->speech))
        st = vc_fail(VC_ESTATE, "dialog: intent %s produced no reply",
                     u->intent ? u->intent : "(none)");
    if (st == VC_OK)
        st = remember_reply(d, out->reply, out->speech);
    if (st != VC_OK)
        vc_turn_clear(out);
    return st;
}

vc_status vc_dialog_greet(vc_dialog *d, vc_turn *out)
{
    vc_status st;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_dialog_greet: out is NULL");
    memset(out, 0, sizeof *out);
    if (!d)
        return vc_fail(VC_EINVAL, "vc_dialog_greet: dialog is NULL");
    st = SAY0(d, out, R_GREETING);
    if (st == VC_OK)
        st = remember_reply(d, out->reply, out->speech);
    if (st != VC_OK)
        vc_turn_clear(out);
    return st;
}

vc_status vc_dialog_greeting(vc_dialog *d, char **reply)
{
    vc_turn t;
    vc_status st;

    if (!reply)
        return vc_fail(VC_EINVAL, "vc_dialog_greeting: reply is NULL");
    *reply = NULL;
    st = vc_dialog_greet(d, &t);
    if (st == VC_OK) {
        *reply = t.reply;
        t.reply = NULL;
    }
    vc_turn_clear(&t);
    return st;
}

/* ---- save and restore ---------------------------------------------------- */

static int add_opt_string(cJSON *o, const char *key, const char *value)
{
    return value ? cJSON_AddStringToObject(o, key, value) != NULL
                 : cJSON_AddNullToObject(o, key) != NULL;
}

static int add_string_array(cJSON *o, const char *key, char *const *items, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    if (!arr)
        return 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(items[i]);
        if (!s || !cJSON_AddItemToArray(arr, s))
            return 0;
    }
    return 1;
}

vc_status vc_dialog_save(const vc_dialog *d, char **json)
{
    const conversation *c;
    cJSON *root, *drink, *search, *transcript;
    int ok;
    vc_status st = VC_OK;

    if (!json)
        return vc_fail(VC_EINVAL, "vc_dialog_save: json is NULL");
    *json = NULL;
    if (!d)
        return vc_fail(VC_EINVAL, "vc_dialog_save: dialog is NULL");
    c = &d->c;
    root = cJSON_CreateObject();
    ok = root != NULL;
    ok = ok && cJSON_AddNumberToObject(root, "version", STATE_VERSION);
    ok = ok && cJSON_AddStringToObject(root, "step", step_names[c->step]);
    ok = ok && cJSON_AddStringToObject(root, "pending", pending_names[c->kind]);
    ok = ok && add_opt_string(root, "sku", c->sku);
    ok = ok && cJSON_AddNumberToObject(root, "quantity", c->quantity);
    ok = ok && cJSON_AddBoolToObject(root, "quantity_said", c->quantity_said);
    ok = ok && cJSON_AddNumberToObject(root, "confirmed_cents", (double)c->confirmed_cents);
    ok = ok && (drink = cJSON_AddObjectToObject(root, "drink")) != NULL;
    for (int i = 0; ok && i < N_DRINK; i++)
        if (c->drink[i])
            ok = cJSON_AddStringToObject(drink, drink_slots[i], c->drink[i]) != NULL;
    ok = ok && add_string_array(root, "candidates", c->candidates, c->n_candidates);
    ok = ok && cJSON_AddBoolToObject(root, "choice_reorder", c->choice_reorder);
    if (ok && c->has_search) {
        ok = (search = cJSON_AddObjectToObject(root, "search")) != NULL;
        ok = ok && add_opt_string(search, "sku", c->search_sku);
        ok = ok && add_opt_string(search, "query", c->search_query);
        ok = ok && add_string_array(search, "attributes", c->search_attrs, c->n_search_attrs);
        ok = ok && cJSON_AddNumberToObject(search, "max_price", c->search_max_price);
    } else if (ok) {
        ok = cJSON_AddNullToObject(root, "search") != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(root, "pin_attempts", c->pin_attempts);
    ok = ok && cJSON_AddNumberToObject(root, "misunderstood", c->misunderstood);
    ok = ok && add_opt_string(root, "last_reply", c->last_reply);
    if (ok && c->last_speech)
        ok = cJSON_AddStringToObject(root, "last_speech", c->last_speech) != NULL;
    ok = ok && (transcript = cJSON_AddArrayToObject(root, "transcript")) != NULL;
    for (size_t i = 0; ok && i < c->n_transcript; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(transcript, e);
        ok = ok && cJSON_AddStringToObject(e, "who", c->transcript[i].assistant ? "assistant"
                                                                                : "customer");
        ok = ok && cJSON_AddStringToObject(e, "text", c->transcript[i].text);
    }
    if (ok)
        ok = (*json = cJSON_PrintUnformatted(root)) != NULL;
    if (!ok)
        st = vc_fail(VC_ENOMEM, "vc_dialog_save: building the state JSON");
    cJSON_Delete(root);
    return st;
}

/* Restore reads into a fresh conversation and validates every field; the
 * first problem fails with VC_EPARSE naming the field. */

static vc_status bad_state(const char *field, const char *problem)
{
    return vc_fail(VC_EPARSE, "dialog state: field \"%s\": %s", field, problem);
}

static vc_status get_string(const cJSON *o, const char *key, size_t max, int required,
                            char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return required ? bad_state(key, "missing") : VC_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad_state(key, "must be a string");
    if (strlen(v->valuestring) > max)
        return bad_state(key, "too long");
    *out = strdup(v->valuestring);
    return *out ? VC_OK : vc_fail(VC_ENOMEM, "dialog state: copying \"%s\"", key);
}

static vc_status get_number(const cJSON *o, const char *key, double min, double max,
                            int integral, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!v || !cJSON_IsNumber(v))
        return bad_state(key, "must be a number");
    if (!isfinite(v->valuedouble) || v->valuedouble < min || v->valuedouble > max)
        return bad_state(key, "out of range");
    if (integral && v->valuedouble != floor(v->valuedouble))
        return bad_state(key, "must be a whole number");
    *out = v->valuedouble;
    return VC_OK;
}

static vc_status get_int(const cJSON *o, const char *key, int min, int max, int *out)
{
    double v;
    vc_status st = get_number(o, key, min, max, 1, &v);
    if (st == VC_OK)
        *out = (int)v;
    return st;
}

static vc_status get_bool(const cJSON *o, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsBool(v))
        return bad_state(key, "must be true or false");
    *out = cJSON_IsTrue(v);
    return VC_OK;
}

static vc_status get_enum(const cJSON *o, const char *key, const char *const *names, int n,
                          int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v) || !v->valuestring)
        return bad_state(key, "must be a string");
    for (int i = 0; i < n; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return VC_OK;
        }
    return bad_state(key, "unknown value");
}

static vc_status get_string_array(const cJSON *o, const char *key, size_t max_items,
                                  size_t max_len, char **items, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *e;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return bad_state(key, "must be an array");
    if ((size_t)cJSON_GetArraySize(arr) > max_items)
        return bad_state(key, "too many items");
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !e->valuestring || !e->valuestring[0])
            return bad_state(key, "items must be non-empty strings");
        if (strlen(e->valuestring) > max_len)
            return bad_state(key, "item too long");
        items[*n] = strdup(e->valuestring);
        if (!items[*n])
            return vc_fail(VC_ENOMEM, "dialog state: copying \"%s\"", key);
        (*n)++;
    }
    return VC_OK;
}

static vc_status parse_state(const vc_dialog *d, const cJSON *root, conversation *c)
{
    const cJSON *drink, *search, *transcript, *e;
    int step = 0, kind = 0, version = 0;
    double cents;
    vc_status st;

    if (!cJSON_IsObject(root))
        return vc_fail(VC_EPARSE, "dialog state: not a JSON object");
    if ((st = get_int(root, "version", 0, 1000, &version)) != VC_OK)
        return st;
    if (version != STATE_VERSION)
        return bad_state("version", "unsupported version");
    if ((st = get_enum(root, "step", step_names, STEP_COUNT, &step)) != VC_OK ||
        (st = get_enum(root, "pending", pending_names, PENDING_COUNT, &kind)) != VC_OK ||
        (st = get_string(root, "sku", SKU_MAX, 0, &c->sku)) != VC_OK ||
        (st = get_int(root, "quantity", 0, QUANTITY_MAX, &c->quantity)) != VC_OK ||
        (st = get_bool(root, "quantity_said", &c->quantity_said)) != VC_OK ||
        (st = get_number(root, "confirmed_cents", -1, (double)CENTS_MAX, 1, &cents)) != VC_OK ||
        (st = get_string_array(root, "candidates", CANDIDATES_MAX, SKU_MAX, c->candidates,
                               &c->n_candidates)) != VC_OK ||
        (st = get_bool(root, "choice_reorder", &c->choice_reorder)) != VC_OK ||
        (st = get_int(root, "pin_attempts", 0, PIN_TRIES - 1, &c->pin_attempts)) != VC_OK ||
        (st = get_int(root, "misunderstood", 0, MISUNDERSTOOD_MAX, &c->misunderstood)) != VC_OK ||
        (st = get_string(root, "last_reply", TEXT_MAX, 0, &c->last_reply)) != VC_OK ||
        (st = get_string(root, "last_speech", TEXT_MAX, 0, &c->last_speech)) != VC_OK)
        return st;
    c->step = (conversation_step)step;
    c->kind = (pending_kind)kind;
    c->confirmed_cents = (long long)cents;
    if (c->sku && !c->sku[0])
        return bad_state("sku", "empty");

    drink = cJSON_GetObjectItemCaseSensitive(root, "drink");
    if (!cJSON_IsObject(drink))
        return bad_state("drink", "must be an object");
    cJSON_ArrayForEach(e, drink) {
        int slot = -1;
        for (int i = 0; i < N_DRINK; i++)
            if (e->string && strcmp(e->string, drink_slots[i]) == 0)
                slot = i;
        if (slot < 0)
            return bad_state("drink", "unknown drink slot");
        if (c->drink[slot])
            return bad_state("drink", "drink slot given twice");
        if ((st = get_string(drink, drink_slots[slot], DRINK_VALUE_MAX, 1, &c->drink[slot])) !=
            VC_OK)
            return st;
    }

    search = cJSON_GetObjectItemCaseSensitive(root, "search");
    if (!search)
        return bad_state("search", "missing");
    if (!cJSON_IsNull(search)) {
        if (!cJSON_IsObject(search))
            return bad_state("search", "must be an object or null");
        c->has_search = 1;
        if ((st = get_string(search, "sku", SKU_MAX, 0, &c->search_sku)) != VC_OK ||
            (st = get_string(search, "query", QUERY_MAX, 0, &c->search_query)) != VC_OK ||
            (st = get_string_array(search, "attributes", SEARCH_ATTRS_MAX, VC_CATALOG_MAX_FIELD,
                                   c->search_attrs, &c->n_search_attrs)) != VC_OK ||
            (st = get_number(search, "max_price", -1, 1e9, 0, &c->search_max_price)) != VC_OK)
            return st;
        if (c->search_max_price < 0)
            c->search_max_price = -1;
    }

    transcript = cJSON_GetObjectItemCaseSensitive(root, "transcript");
    if (!cJSON_IsArray(transcript))
        return bad_state("transcript", "must be an array");
    if (cJSON_GetArraySize(transcript) > TRANSCRIPT_MAX_ENTRIES)
        return bad_state("transcript", "too many entries");
    cJSON_ArrayForEach(e, transcript) {
        int who = 0;
        static const char *const whos[2] = {"customer", "assistant"};
        if (!cJSON_IsObject(e))
            return bad_state("transcript", "entries must be objects");
        if ((st = get_enum(e, "who", whos, 2, &who)) != VC_OK ||
            (st = get_string(e, "text", TEXT_MAX, 1, &c->transcript[c->n_transcript].text)) !=
                VC_OK)
            return st;
        c->transcript[c->n_transcript++].assistant = who;
    }

    /* What each step needs, so that a restored dialog never acts on half a
     * state (a confirm step without a product could not be placed). */
    switch (c->step) {
    case STEP_CONFIRM:
    case STEP_PIN:
        if (c->kind == PENDING_NONE || !c->sku || c->quantity < 1 || c->confirmed_cents < 0)
            return bad_state("step", "a purchase step without a complete purchase");
        if (c->kind == PENDING_DRINK) {
            if (!c->drink[DRINK_NAME])
                return bad_state("step", "a drink purchase without a drink");
            /* What is placed must be what was read back. */
            if (!sku_names_drink(c->sku, c->drink[DRINK_NAME]))
                return bad_state("sku", "not the SKU of the drink");
        }
        if (c->step == STEP_PIN && !d->cfg.pin)
            return bad_state("step", "waiting for a PIN but no PIN is configured");
        break;
    case STEP_ASK_QUANTITY:
        if (c->kind != PENDING_PRODUCT || !c->sku)
            return bad_state("step", "asking a quantity without a product");
        break;
    case STEP_CHOOSE:
        if (c->n_candidates < 1)
            return bad_state("step", "choosing without candidates");
        break;
    case STEP_ASK_DRINK:
        if (c->kind != PENDING_DRINK)
            return bad_state("step", "asking for a drink without a drink order");
        break;
    case STEP_OFFER_ALTERNATIVES:
        if (!c->sku)
            return bad_state("step", "offering alternatives without a product");
        break;
    case STEP_OFFER_WIDEN:
        if (!c->has_search)
            return bad_state("step", "offering a wider search without a search");
        break;
    default:
        break;
    }
    return VC_OK;
}

vc_status vc_dialog_restore(vc_dialog *d, const char *json)
{
    conversation fresh;
    cJSON *root;
    size_t len;
    vc_status st;

    if (!d || !json)
        return vc_fail(VC_EINVAL, "vc_dialog_restore: dialog and json are required");
    conversation_clear(&d->c);
    conversation_init(&d->c);
    len = strnlen(json, STATE_MAX_BYTES + 1);
    if (len > STATE_MAX_BYTES)
        return vc_fail(VC_EPARSE, "dialog state: larger than %u bytes", STATE_MAX_BYTES);
    root = cJSON_ParseWithLength(json, len);
    if (!root)
        return vc_fail(VC_EPARSE, "dialog state: not valid JSON");
    conversation_init(&fresh);
    st = parse_state(d, root, &fresh);
    cJSON_Delete(root);
    if (st != VC_OK) {
        conversation_clear(&fresh);
        return st == VC_ENOMEM ? st : VC_EPARSE;
    }
    d->c = fresh;
    return VC_OK;
}
