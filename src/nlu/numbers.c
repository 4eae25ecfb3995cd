#include "nlu/numbers.h"

#include <string.h>

static const char *const small_words[20] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
};
static const char *const tens_words[10] = {
    NULL, NULL, "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
};

/* 0..19 and 20, 30, ... 90 in words; -1 for anything else. */
static int small_value(const char *t)
{
    for (int i = 0; i < 20; i++)
        if (strcmp(t, small_words[i]) == 0)
            return i;
    for (int i = 2; i < 10; i++)
        if (strcmp(t, tens_words[i]) == 0)
            return i * 10;
    return -1;
}

/* A token of 1 to 9 digits; -1 otherwise (longer ones are digit strings, not
 * quantities). */
static long integer_token(const char *t)
{
    long v = 0;
    size_t n = 0;
    for (; t[n]; n++) {
        if (t[n] < '0' || t[n] > '9' || n >= 9)
            return -1;
        v = v * 10 + (t[n] - '0');
    }
    return n ? v : -1;
}

/* digits / 10^scale as the double nearest to the decimal (both are exact
 * integers and IEEE division rounds correctly), whatever the C locale's
 * decimal point is. */
static double decimal_value(double digits, int scale)
{
    double div = 1;
    while (scale-- > 0)
        div *= 10;
    return digits / div;
}

static double pow10_int(int k)
{
    double p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

/* "3.49": digits, one point, digits. */
static int decimal_token(const char *t, double *value)
{
    double digits = 0;
    int point = 0, before = 0, after = 0;
    for (const char *c = t; *c; c++) {
        if (*c == '.' && !point) {
            point = 1;
        } else if (*c >= '0' && *c <= '9') {
            point ? after++ : before++;
            digits = digits * 10 + (*c - '0');
        } else {
            return 0;
        }
    }
    if (!point || !before || !after || before > 9 || after > 6)
        return 0;
    *value = decimal_value(digits, after);
    return 1;
}

/* 0..99: "seven", "seventeen", "twenty five". */
static size_t parse_tens(const char *const *tok, size_t n, double *value)
{
    if (n == 0)
        return 0;
    int a = small_value(tok[0]);
    if (a < 0)
        return 0;
    if (a >= 20 && n > 1) {
        int b = small_value(tok[1]);
        if (b >= 1 && b <= 9) {
            *value = a + b;
            return 2;
        }
    }
    *value = a;
    return 1;
}

/* What differs between the languages' number words; the grammar of
 * groups and scales is the same. */
typedef struct {
    size_t (*tens)(const char *const *tok, size_t n, double *value); /* 0..99 */
    double (*scale)(const char *t); /* "thousand" 1e3, "million", "dozen" 12; 0: none */
    const char *hundred;  /* "hundred", "hundre" */
    const char *and_word; /* "and", "og" */
    const char *article;  /* before "hundred" or a scale: "a hundred", "a thousand"; NULL: none */
    int bare_hundred;     /* "hundre" alone is a hundred */
    int bare_thousand;    /* "tusen" alone is a thousand */
} number_words;

/* A group before a scale word: "two hundred and fifty", "a hundred",
 * "twelve hundred", "200", "2 hundred"; "to hundre og femti", "hundre". */
static size_t parse_group(const number_words *w, const char *const *tok, size_t n, double *value)
{
    double g;
    size_t i;

    if (n == 0)
        return 0; /* "two thousand and" ends here: tok[0] is past the end */
    if (w->article && n >= 2 && strcmp(tok[0], w->article) == 0 &&
        strcmp(tok[1], w->hundred) == 0) {
        g = 100;
        i = 2;
    } else if (w->bare_hundred && strcmp(tok[0], w->hundred) == 0) {
        g = 100;
        i = 1;
    } else {
        i = w->tens(tok, n, &g);
        if (i == 0) {
            long v = integer_token(tok[0]);
            if (v < 0)
                return 0;
            g = (double)v;
            i = 1;
        }
        if (i < n && strcmp(tok[i], w->hundred) == 0 && g >= 1 && g <= 99) {
            g *= 100;
            i++;
        } else {
            *value = g;
            return i;
        }
    }
    size_t j = i;
    if (j < n && strcmp(tok[j], w->and_word) == 0)
        j++;
    double rest;
    size_t k = w->tens(tok + j, n - j, &rest);
    if (k > 0 && rest >= 1) {
        g += rest;
        i = j + k;
    }
    *value = g;
    return i;
}

/* Groups times falling scales: "two thousand three hundred and five", "a
 * million", "tusen og to". Sets *value; returns the tokens taken (0: no
 * number). */
static size_t parse_scaled(const number_words *w, const char *const *tok, size_t n,
                           double *value)
{
    double total = 0, last_scale = 1e300;
    size_t i = 0;

    for (;;) {
        size_t j = i;
        double g;
        size_t k;
        if (i > 0 && j < n && strcmp(tok[j], w->and_word) == 0)
            j++;
        if (w->article && j + 1 < n && strcmp(tok[j], w->article) == 0 &&
            w->scale(tok[j + 1]) > 0) {
            g = 1; /* "a thousand" */
            k = 1;
        } else if (w->bare_thousand && j < n && w->scale(tok[j]) == 1e3) {
            g = 1; /* "tusen": a thousand */
            k = 0;
        } else {
            k = parse_group(w, tok + j, n - j, &g);
            if (k == 0)
                break;
        }
        j += k;
        double scale = j < n ? w->scale(tok[j]) : 0;
        if (scale > 0 && scale < last_scale && g >= 1) {
            total += g * scale;
            last_scale = scale;
            i = j + 1;
            if (scale == 12)
                break;
            continue;
        }
        if (k == 0 || (i > 0 && g >= last_scale))
            break; /* "two thousand three thousand" is two readings */
        total += g;
        i = j;
        break;
    }
    *value = total;
    return i;
}

static double scale_value(const char *t)
{
    if (strcmp(t, "thousand") == 0)
        return 1e3;
    if (strcmp(t, "million") == 0)
        return 1e6;
    if (strcmp(t, "dozen") == 0)
        return 12;
    return 0;
}

static int digit_word(const char *t)
{
    if (strcmp(t, "oh") == 0 || strcmp(t, "o") == 0)
        return 0;
    int v = small_value(t);
    if (v >= 0 && v <= 9)
        return v;
    if (t[0] >= '0' && t[0] <= '9' && t[1] == '\0')
        return t[0] - '0';
    return -1;
}

static const number_words EN_WORDS = {parse_tens, scale_value, "hundred", "and", "a", 0, 0};

static size_t number_parse_en(const char *const *tok, size_t n, double *value)
{
    double total = 0;
    size_t i = 0;

    if (n == 0)
        return 0;
    if (decimal_token(tok[0], value))
        return 1;
    if (n >= 3 && strcmp(tok[0], "half") == 0 && strcmp(tok[1], "a") == 0 &&
        strcmp(tok[2], "dozen") == 0) {
        *value = 6;
        return 3;
    }
    i = parse_scaled(&EN_WORDS, tok, n, &total);
    if (i == 0)
        return 0;
    /* "three point five" */
    if (i + 1 < n && strcmp(tok[i], "point") == 0 && digit_word(tok[i + 1]) >= 0 && total < 1e9) {
        double digits = total;
        int scale = 0;
        size_t j = i + 1;
        for (; j < n && scale < 6; j++, scale++) {
            int d = digit_word(tok[j]);
            if (d < 0)
                break;
            digits = digits * 10 + d;
        }
        total = decimal_value(digits, scale);
        i = j;
    }
    *value = total;
    return i;
}

size_t vc_number_parse(const char *const *tok, size_t n, double *value)
{
    return number_parse_en(tok, n, value);
}

size_t vc_digits_parse(const char *const *tok, size_t n, char *out, size_t cap)
{
    return vc_digits_parse_in(VC_LANG_EN, tok, n, out, cap);
}

/* ---- Norwegian Bokmål ---------------------------------------------------- */

typedef struct {
    const char *word;
    int value;
} nb_word;

/* 0..19 as written, with the older forms ("syv", "tyve") and the ASCII
 * spellings a keyboard without æ, ø and å gives ("atte", "forti"). "et" and
 * "ei" are the neuter and feminine "one" ("et dusin", "ei krone"). */
static const nb_word nb_small[] = {
    {"null", 0},     {"en", 1},        {"ett", 1},      {"et", 1},       {"ei", 1},
    {"én", 1},       {"to", 2},        {"tre", 3},      {"fire", 4},     {"fem", 5},
    {"seks", 6},     {"sju", 7},       {"syv", 7},      {"åtte", 8},     {"atte", 8},
    {"aatte", 8},    {"ni", 9},        {"ti", 10},      {"elleve", 11},  {"tolv", 12},
    {"tretten", 13}, {"fjorten", 14},  {"femten", 15},  {"seksten", 16}, {"sytten", 17},
    {"søtten", 17},  {"atten", 18},    {"nitten", 19},
};

static const nb_word nb_tens[] = {
    {"tjue", 20},  {"tyve", 20},  {"tretti", 30}, {"tredve", 30}, {"førti", 40},
    {"forti", 40}, {"femti", 50}, {"seksti", 60}, {"sytti", 70},  {"søtti", 70},
    {"åtti", 80},  {"atti", 80},  {"aatti", 80},  {"nitti", 90},
};

/* The units a compound ends with: "tjueen", "tjueett", "trettito". */
static int nb_unit(const char *t)
{
    for (size_t i = 0; i < sizeof nb_small / sizeof nb_small[0]; i++)
        if (nb_small[i].value >= 1 && nb_small[i].value <= 9 && strcmp(t, nb_small[i].word) == 0 &&
            strcmp(t, "et") != 0 && strcmp(t, "ei") != 0)
            return nb_small[i].value;
    return -1;
}

/* A word of 0..99: "sju", "tjue", "tjuesju", and the older "sjuogtjue"; -1
 * for anything else. */
static int nb_value(const char *t)
{
    for (size_t i = 0; i < sizeof nb_small / sizeof nb_small[0]; i++)
        if (strcmp(t, nb_small[i].word) == 0)
            return nb_small[i].value;
    for (size_t i = 0; i < sizeof nb_tens / sizeof nb_tens[0]; i++) {
        size_t k = strlen(nb_tens[i].word);
        if (strncmp(t, nb_tens[i].word, k) != 0)
            continue;
        if (t[k] == '\0')
            return nb_tens[i].value;
        int u = nb_unit(t + k);
        if (u > 0)
            return nb_tens[i].value + u;
    }
    /* "femogtjue": a unit, "og", tens */
    const char *og = strstr(t, "og");
    if (og && og > t && og[2]) {
        char unit[16];
        size_t k = (size_t)(og - t);
        if (k < sizeof unit) {
            memcpy(unit, t, k);
            unit[k] = '\0';
            int u = nb_unit(unit);
            for (size_t i = 0; u > 0 && i < sizeof nb_tens / sizeof nb_tens[0]; i++)
                if (strcmp(og + 2, nb_tens[i].word) == 0)
                    return nb_tens[i].value + u;
        }
    }
    return -1;
}

/* 0..99: "sju", "tjuesju", "tjue sju". */
static size_t nb_parse_tens(const char *const *tok, size_t n, double *value)
{
    if (n == 0)
        return 0;
    int a = nb_value(tok[0]);
    if (a < 0)
        return 0;
    if (a >= 20 && a % 10 == 0 && n > 1) {
        int b = nb_unit(tok[1]);
        if (b > 0) {
            *value = a + b;
            return 2;
        }
    }
    *value = a;
    return 1;
}

static double nb_scale(const char *t)
{
    if (strcmp(t, "tusen") == 0)
        return 1e3;
    if (strcmp(t, "million") == 0 || strcmp(t, "millioner") == 0)
        return 1e6;
    if (strcmp(t, "dusin") == 0)
        return 12;
    return 0;
}

static int nb_digit(const char *t)
{
    int v = nb_value(t);
    if (v >= 0 && v <= 9 && strcmp(t, "et") != 0 && strcmp(t, "ei") != 0)
        return v;
    if (t[0] >= '0' && t[0] <= '9' && t[1] == '\0')
        return t[0] - '0';
    return -1;
}

/* "1 000 000": a group of 1 to 3 digits, then groups of exactly 3. */
static size_t nb_grouped_digits(const char *const *tok, size_t n, double *value)
{
    long v = integer_token(tok[0]);
    size_t i = 1;
    double total;

    if (v < 0 || strlen(tok[0]) > 3)
        return 0;
    total = (double)v;
    while (i < n && strlen(tok[i]) == 3 && integer_token(tok[i]) >= 0 && total < 1e9) {
        total = total * 1000 + (double)integer_token(tok[i]);
        i++;
    }
    if (i < 2)
        return 0;
    *value = total;
    return i;
}

/* The decimals after "komma": a number of 10..99 is two decimals ("komma
 * nitti" .90), else digits one by one ("komma null fem" .05). */
static size_t nb_decimals(const char *const *tok, size_t n, double whole, double *value)
{
    double digits = whole;
    int scale = 0;
    size_t j = 0;
    int v = n > 0 ? nb_value(tok[0]) : -1;
    long d = n > 0 ? integer_token(tok[0]) : -1;

    if (v >= 10 && v <= 99) {
        *value = decimal_value(whole * 100 + v, 2);
        return 1;
    }
    if (d >= 0 && strlen(tok[0]) <= 6) {
        /* "49 komma 90": the digits as written */
        *value = decimal_value(whole * pow10_int((int)strlen(tok[0])) + (double)d,
                               (int)strlen(tok[0]));
        return 1;
    }
    for (; j < n && scale < 6; j++, scale++) {
        int dig = nb_digit(tok[j]);
        if (dig < 0)
            break;
        digits = digits * 10 + dig;
    }
    if (j == 0)
        return 0;
    *value = decimal_value(digits, scale);
    return j;
}

static const number_words NB_WORDS = {nb_parse_tens, nb_scale, "hundre", "og", NULL, 1, 1};

static size_t number_parse_nb(const char *const *tok, size_t n, double *value)
{
    double total = 0;
    size_t i = 0;

    if (n == 0)
        return 0;
    if (decimal_token(tok[0], value))
        return 1;
    if ((i = nb_grouped_digits(tok, n, value)) > 0)
        return i;
    i = parse_scaled(&NB_WORDS, tok, n, &total);
    if (i == 0)
        return 0;
    if (i + 1 < n && strcmp(tok[i], "komma") == 0 && total < 1e9) {
        double v;
        size_t k = nb_decimals(tok + i + 1, n - i - 1, total, &v);
        if (k > 0) {
            total = v;
            i += 1 + k;
        }
    }
    *value = total;
    return i;
}

size_t vc_number_parse_in(vc_language lang, const char *const *tok, size_t n, double *value)
{
    return lang == VC_LANG_NB ? number_parse_nb(tok, n, value) : number_parse_en(tok, n, value);
}

size_t vc_digits_parse_in(vc_language lang, const char *const *tok, size_t n, char *out,
                          size_t cap)
{
    size_t i = 0, len = 0;

    if (cap == 0)
        return 0;
    while (i < n) {
        char put[16];
        size_t k = 0, used = 1;
        int d = lang == VC_LANG_NB ? nb_digit(tok[i]) : digit_word(tok[i]);
        if (d >= 0) {
            put[k++] = (char)('0' + d);
        } else if (tok[i][0] >= '0' && tok[i][0] <= '9' && strspn(tok[i], "0123456789") == strlen(tok[i])) {
            size_t m = strlen(tok[i]);
            if (len + m > cap - 1)
                break;
            memcpy(out + len, tok[i], m);
            len += m;
            i++;
            continue;
        } else if (lang == VC_LANG_EN && i + 1 < n &&
                   (strcmp(tok[i], "double") == 0 || strcmp(tok[i], "triple") == 0) &&
                   (d = digit_word(tok[i + 1])) >= 0) {
            size_t times = tok[i][0] == 'd' ? 2 : 3;
            for (size_t t = 0; t < times; t++)
                put[k++] = (char)('0' + d);
            used = 2;
        } else {
            break;
        }
        if (len + k > cap - 1)
            break;
        memcpy(out + len, put, k);
        len += k;
        i += used;
    }
    out[len] = '\0';
    return i;
}
