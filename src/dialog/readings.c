/* The readings of docs/dialog.md: en-US and Norwegian Bokmål. */
#include "dialog/readings.h"

#include <stdio.h>
#include <string.h>

#include "core/text.h"

/* Appends printf output to out (cap bytes, o used); stops at the end. */
typedef struct {
    char *out;
    size_t cap, o;
} text_out;

static void put(text_out *t, const char *s)
{
    size_t n = strlen(s);

    if (t->o + 1 >= t->cap)
        return;
    if (n > t->cap - 1 - t->o) {
        n = t->cap - 1 - t->o;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* cut on a UTF-8 character boundary */
    }
    memcpy(t->out + t->o, s, n);
    t->o += n;
    t->out[t->o] = '\0';
}

static text_out text_start(char *out, size_t cap)
{
    text_out t = {out, cap, 0};
    if (cap > 0)
        out[0] = '\0';
    return t;
}

vc_reading vc_reading_of(const char *locale)
{
    if (!locale)
        return VC_READ_EN_US;
    if ((strncmp(locale, "nb", 2) == 0 || strncmp(locale, "no", 2) == 0) &&
        (locale[2] == '\0' || locale[2] == '-' || locale[2] == '_'))
        return VC_READ_NB;
    return VC_READ_EN_US;
}

const char *vc_reading_currency(vc_reading r)
{
    return r == VC_READ_NB ? "NOK" : "USD";
}

/* ---- number words -------------------------------------------------------- */

static const char *const en_small[20] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
};
static const char *const en_tens[10] = {
    NULL, NULL, "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
};

static const char *const nb_small[20] = {
    "null", "en", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti",
    "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten",
};
static const char *const nb_tens[10] = {
    NULL, NULL, "tjue", "tretti", "førti", "femti", "seksti", "sytti", "åtti", "nitti",
};

/* 1..99; neuter: a final one is "ett" (before "tusen", a neuter noun). */
static void below_100(vc_reading r, int n, int neuter, text_out *t)
{
    if (r == VC_READ_NB) {
        if (n >= 20)
            put(t, nb_tens[n / 10]);
        if (n % 10 == 1 && (n == 1 || n >= 20) && neuter)
            put(t, "ett");
        else if (n < 20)
            put(t, nb_small[n]);
        else if (n % 10)
            put(t, nb_small[n % 10]);
        return;
    }
    if (n < 20) {
        put(t, en_small[n]);
        return;
    }
    put(t, en_tens[n / 10]);
    if (n % 10) {
        put(t, "-");
        put(t, en_small[n % 10]);
    }
}

/* 1..999. leading: the first words of the number (nb "hundre", else "ett
 * hundre"). */
static void below_1000(vc_reading r, int n, int leading, int neuter, text_out *t)
{
    int h = n / 100, rest = n % 100;

    if (h) {
        if (r == VC_READ_NB && h == 1) {
            put(t, leading ? "hundre" : "ett hundre");
        } else {
            below_100(r, h, 0, t);
            put(t, r == VC_READ_NB ? " hundre" : " hundred");
        }
    }
    if (rest) {
        if (h)
            put(t, r == VC_READ_NB ? " og " : " ");
        below_100(r, rest, neuter, t);
    }
}

void vc_number_words(vc_reading r, long long n, char *out, size_t cap)
{
    static const struct {
        long long scale;
        const char *en, *nb_one, *nb_many;
    } scales[] = {
        {1000000000LL, "billion", "milliard", "milliarder"},
        {1000000LL, "million", "million", "millioner"},
        {1000LL, "thousand", "tusen", "tusen"},
    };
    text_out t = text_start(out, cap);
    int leading = 1;

    if (n < 0 || n >= 1000000000000LL) {
        snprintf(out, cap, "%lld", n);
        return;
    }
    if (n == 0) {
        put(&t, r == VC_READ_NB ? "null" : "zero");
        return;
    }
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
        int g = (int)((n / scales[i].scale) % 1000);
        int thousand = scales[i].scale == 1000;
        if (!g)
            continue;
        if (!leading)
            put(&t, " ");
        if (r != VC_READ_NB) {
            below_1000(r, g, leading, 0, &t);
            put(&t, " ");
            put(&t, scales[i].en);
        } else if (g == 1 && thousand) {
            put(&t, leading ? "tusen" : "ett tusen");
        } else if (g == 1) {
            put(&t, "en ");
            put(&t, scales[i].nb_one);
        } else {
            /* "tusen" is neuter ("tjueett tusen"); "million" is not */
            below_1000(r, g, leading, thousand, &t);
            put(&t, " ");
            put(&t, scales[i].nb_many);
        }
        leading = 0;
    }
    int rest = (int)(n % 1000);
    if (rest) {
        if (!leading)
            put(&t, r == VC_READ_NB && rest < 100 ? " og " : " ");
        below_1000(r, rest, leading, 0, &t);
    }
}

/* ---- money --------------------------------------------------------------- */

/* whole with a space between thousands from 10 000 on (nb). */
static void grouped(long long whole, char *out, size_t cap)
{
    char digits[32];
    size_t n, o = 0;

    snprintf(digits, sizeof digits, "%lld", whole);
    n = strlen(digits);
    if (whole < 10000) {
        snprintf(out, cap, "%s", digits);
        return;
    }
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ' ';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static int no_currency(const char *currency)
{
    return !currency || !*currency;
}

void vc_money_display(vc_reading r, long long cents, const char *currency, int menu, char *out,
                      size_t cap)
{
    long long whole, frac;
    char number[48];

    if (cents < 0)
        cents = 0;
    whole = cents / 100;
    frac = cents % 100;
    if (no_currency(currency))
        currency = vc_reading_currency(r);
    if (r != VC_READ_NB) {
        int dollar = strcmp(currency, "USD") == 0;
        if (frac == 0 && !menu && dollar)
            snprintf(out, cap, "$%lld", whole);
        else if (frac == 0 && !menu)
            snprintf(out, cap, "%lld %s", whole, currency);
        else if (dollar)
            snprintf(out, cap, "$%lld.%02lld", whole, frac);
        else
            snprintf(out, cap, "%lld.%02lld %s", whole, frac, currency);
        return;
    }
    grouped(whole, number, sizeof number);
    if (strcmp(currency, "NOK") == 0) {
        if (frac == 0 && !menu)
            snprintf(out, cap, "kr %s", number);
        else
            snprintf(out, cap, "kr %s,%02lld", number, frac);
    } else if (frac == 0 && !menu) {
        snprintf(out, cap, "%s %s", number, currency);
    } else {
        snprintf(out, cap, "%s,%02lld %s", number, frac, currency);
    }
}

typedef struct {
    const char *code;
    const char *one, *many;         /* the main unit */
    int one_neuter;                 /* "ett pund" */
    const char *sub_one, *sub_many; /* the hundredth */
    int sub_neuter;                 /* "ett øre" */
} nb_currency;

static const nb_currency nb_currencies[] = {
    {"NOK", "krone", "kroner", 0, "øre", "øre", 1},
    {"SEK", "svensk krone", "svenske kroner", 0, "øre", "øre", 1},
    {"DKK", "dansk krone", "danske kroner", 0, "øre", "øre", 1},
    {"USD", "dollar", "dollar", 0, "cent", "cent", 0},
    {"EUR", "euro", "euro", 0, "cent", "cent", 0},
    {"GBP", "pund", "pund", 1, "penny", "pence", 0},
};

/* "én krone", "ett øre", "to hundre kroner" */
static void nb_amount(long long n, const char *one, const char *many, int neuter, text_out *t)
{
    char words[256];

    if (n == 1) {
        put(t, neuter ? "ett " : "én ");
        put(t, one);
        return;
    }
    vc_number_words(VC_READ_NB, n, words, sizeof words);
    put(t, words);
    put(t, " ");
    put(t, many);
}

/* en-US: "three dollars and forty-nine cents"; espeak-ng reads "$3.49"
 * as "dollar three point four nine". */
static const struct {
    const char *code, *one, *many, *cent, *cents;
} en_currencies[] = {
    {"USD", "dollar", "dollars", "cent", "cents"},
    {"EUR", "euro", "euros", "cent", "cents"},
    {"GBP", "pound", "pounds", "penny", "pence"},
    {"NOK", "krone", "kroner", "øre", "øre"},
};

static void en_money_spoken(long long cents, const char *currency, text_out *t)
{
    long long whole = cents / 100, frac = cents % 100;
    size_t i = 0, n = sizeof en_currencies / sizeof en_currencies[0];
    char words[256];

    if (no_currency(currency))
        currency = "USD";
    while (i < n && strcmp(currency, en_currencies[i].code) != 0)
        i++;
    if (i == n) {
        /* "three point four nine CHF" */
        vc_number_words(VC_READ_EN_US, whole, words, sizeof words);
        put(t, words);
        if (frac) {
            put(t, " point ");
            vc_number_words(VC_READ_EN_US, frac / 10, words, sizeof words);
            put(t, words);
            if (frac % 10) {
                put(t, " ");
                vc_number_words(VC_READ_EN_US, frac % 10, words, sizeof words);
                put(t, words);
            }
        }
        put(t, " ");
        put(t, currency);
        return;
    }
    if (whole || !frac) {
        vc_number_words(VC_READ_EN_US, whole, words, sizeof words);
        put(t, words);
        put(t, " ");
        put(t, whole == 1 ? en_currencies[i].one : en_currencies[i].many);
    }
    if (frac) {
        if (whole)
            put(t, " and ");
        vc_number_words(VC_READ_EN_US, frac, words, sizeof words);
        put(t, words);
        put(t, " ");
        put(t, frac == 1 ? en_currencies[i].cent : en_currencies[i].cents);
    }
}

void vc_money_spoken(vc_reading r, long long cents, const char *currency, char *out, size_t cap)
{
    const nb_currency *c = NULL;
    text_out t = text_start(out, cap);
    long long whole, frac;

    if (cents < 0)
        cents = 0;
    if (r != VC_READ_NB) {
        en_money_spoken(cents, currency, &t);
        return;
    }
    if (cents < 0)
        cents = 0;
    whole = cents / 100;
    frac = cents % 100;
    if (no_currency(currency))
        currency = vc_reading_currency(r);
    for (size_t i = 0; i < sizeof nb_currencies / sizeof nb_currencies[0]; i++)
        if (strcmp(currency, nb_currencies[i].code) == 0)
            c = &nb_currencies[i];
    if (!c) {
        /* "tre komma førtini CHF", "tre komma null fem CHF" */
        char words[256];
        vc_number_words(VC_READ_NB, whole, words, sizeof words);
        put(&t, words);
        if (frac) {
            put(&t, " komma ");
            if (frac < 10)
                put(&t, "null ");
            vc_number_words(VC_READ_NB, frac, words, sizeof words);
            put(&t, words);
        }
        put(&t, " ");
        put(&t, currency);
        return;
    }
    if (whole == 0 && frac == 0) {
        put(&t, "null ");
        put(&t, c->many);
        return;
    }
    if (whole)
        nb_amount(whole, c->one, c->many, c->one_neuter, &t);
    if (whole && frac)
        put(&t, " og ");
    if (frac)
        nb_amount(frac, c->sub_one, c->sub_many, c->sub_neuter, &t);
}

/* ---- units and counts ---------------------------------------------------- */

/* Norwegian units that are neuter ("ett par") and keep their form in the
 * plural ("to par"); "stykk", "beger" and "dusin" are neuter with a plural
 * of their own. */
static const char *const nb_invariant_units[] = {
    "par", "sett", "glass", "brett", "stk", "spann", "brød", "egg", "nett", "kg", "g", "l",
    "dl", "cl", "ml", "hg",
};
static const char *const nb_neuter_units[] = {"stykk", "beger", "dusin"};

/* The catalog's English unit words (docs/catalog.md) in Norwegian. */
static const char *const nb_unit_words[][2] = {
    {"pack", "pakke"},   {"package", "pakke"},    {"packet", "pakke"}, {"box", "eske"},
    {"bottle", "flaske"}, {"bag", "pose"},        {"can", "boks"},     {"jar", "glass"},
    {"roll", "rull"},    {"pair", "par"},         {"cup", "kopp"},     {"tub", "beger"},
    {"case", "kasse"},   {"carton", "kartong"},   {"loaf", "brød"},    {"bar", "plate"},
    {"set", "sett"},     {"piece", "stykk"},      {"bunch", "bunt"},   {"bundle", "bunt"},
    {"container", "beholder"}, {"item", "stykk"}, {"unit", "stykk"},   {"tube", "tube"},
};

const char *vc_unit_word(vc_reading r, const char *unit)
{
    if (r != VC_READ_NB || !unit)
        return unit;
    for (size_t i = 0; i < sizeof nb_unit_words / sizeof nb_unit_words[0]; i++)
        if (strcmp(unit, nb_unit_words[i][0]) == 0)
            return nb_unit_words[i][1];
    return unit;
}

static int in_list(const char *word, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0)
            return 1;
    return 0;
}

static int nb_unit_is_invariant(const char *unit)
{
    return in_list(unit, nb_invariant_units,
                   sizeof nb_invariant_units / sizeof nb_invariant_units[0]);
}

static int nb_unit_is_neuter(const char *unit)
{
    return nb_unit_is_invariant(unit) ||
           in_list(unit, nb_neuter_units, sizeof nb_neuter_units / sizeof nb_neuter_units[0]);
}

void vc_unit_plural(vc_reading r, const char *unit, char *out, size_t cap)
{
    size_t n;

    unit = vc_unit_word(r, unit);
    n = strlen(unit);
    if (r != VC_READ_NB) {
        vc_plural_en(out, cap, unit);
        return;
    }
    if (nb_unit_is_invariant(unit))
        snprintf(out, cap, "%s", unit);
    else if (n > 0 && unit[n - 1] == 'e')
        snprintf(out, cap, "%sr", unit);
    else
        snprintf(out, cap, "%ser", unit);
}

void vc_quantity_display(vc_reading r, int quantity, const char *unit, char *out, size_t cap)
{
    char plural[160];

    if (!unit) {
        snprintf(out, cap, "%d", quantity);
        return;
    }
    if (quantity == 1)
        snprintf(plural, sizeof plural, "%s", vc_unit_word(r, unit));
    else
        vc_unit_plural(r, unit, plural, sizeof plural);
    snprintf(out, cap, "%d %s", quantity, plural);
}

void vc_quantity_spoken(vc_reading r, int quantity, const char *unit, char *out, size_t cap)
{
    char words[256], plural[160];

    if (r != VC_READ_NB) {
        vc_quantity_display(r, quantity, unit, out, cap);
        return;
    }
    unit = vc_unit_word(r, unit);
    if (quantity == 1) {
        int neuter = unit && nb_unit_is_neuter(unit);
        snprintf(out, cap, "%s%s%s", neuter ? "ett" : "én", unit ? " " : "", unit ? unit : "");
        return;
    }
    vc_number_words(r, quantity, words, sizeof words);
    if (!unit) {
        snprintf(out, cap, "%s", words);
        return;
    }
    vc_unit_plural(r, unit, plural, sizeof plural);
    snprintf(out, cap, "%s %s", words, plural);
}

void vc_count_display(vc_reading r, int n, char *out, size_t cap)
{
    if (n >= 0 && n <= 20)
        vc_number_words(r, n, out, cap);
    else
        snprintf(out, cap, "%d", n);
}

void vc_count_spoken(vc_reading r, long long n, char *out, size_t cap)
{
    if (r == VC_READ_NB)
        vc_number_words(r, n, out, cap);
    else
        snprintf(out, cap, "%lld", n);
}

/* ---- digit strings ------------------------------------------------------- */

static int is_ascii_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void vc_digits_display(const char *digits, char *out, size_t cap)
{
    text_out t = text_start(out, cap);
    char one[2] = {0};

    for (const char *p = digits; *p; p++) {
        if (!is_ascii_alnum(*p))
            continue;
        if (t.o > 0)
            put(&t, " ");
        one[0] = *p;
        put(&t, one);
    }
}

void vc_digits_spoken(vc_reading r, const char *digits, char *out, size_t cap)
{
    text_out t = text_start(out, cap);

    if (r != VC_READ_NB) {
        vc_digits_display(digits, out, cap);
        return;
    }
    for (const char *p = digits; *p; p++) {
        char one[2] = {*p, '\0'};
        if (!is_ascii_alnum(*p))
            continue;
        if (t.o > 0)
            put(&t, " ");
        put(&t, *p >= '0' && *p <= '9' ? nb_small[*p - '0'] : one);
    }
}

/* ---- search words -------------------------------------------------------- */

/* Adds the first n bytes of w and suffix (NULL: none) to t, a space
 * first; forms under 4 bytes (min_len) are left out. */
static void put_form(text_out *t, const char *w, size_t n, const char *suffix, size_t min_len)
{
    char form[128];

    if (n < min_len || n + (suffix ? strlen(suffix) : 0) >= sizeof form)
        return;
    memcpy(form, w, n);
    snprintf(form + n, sizeof form - n, "%s", suffix ? suffix : "");
    if (t->o > 0)
        put(t, " ");
    put(t, form);
}

static int has_ending(const char *w, size_t n, const char *end)
{
    size_t k = strlen(end);
    return n > k && memcmp(w + n - k, end, k) == 0;
}

void vc_search_words(vc_reading r, const char *query, char *out, size_t cap)
{
    text_out t = text_start(out, cap);

    if (r != VC_READ_NB) {
        snprintf(out, cap, "%s", query);
        return;
    }
    for (const char *p = query + strspn(query, " "); *p; p += strspn(p, " ")) {
        size_t n = strcspn(p, " ");
        put_form(&t, p, n, NULL, 1);
        if (has_ending(p, n, "ene")) {
            put_form(&t, p, n - 3, "e", 4); /* jakkene -> jakke */
            put_form(&t, p, n - 3, NULL, 4); /* bilene -> bil (too short: left out) */
        } else if (has_ending(p, n, "er") || has_ending(p, n, "en")) {
            put_form(&t, p, n - 1, NULL, 4); /* jakker, jakken -> jakke */
            put_form(&t, p, n - 2, NULL, 4); /* bokser -> boks */
        } else if (has_ending(p, n, "et")) {
            put_form(&t, p, n - 2, NULL, 4); /* filteret -> filter */
        } else if (has_ending(p, n, "a")) {
            put_form(&t, p, n - 1, "e", 4); /* jakka -> jakke */
        } else if (has_ending(p, n, "e")) {
            put_form(&t, p, n - 1, NULL, 4); /* vanntette -> vanntett */
        }
        p += n;
    }
}
