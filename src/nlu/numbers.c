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

/* A group before a scale word: "two hundred and fifty", "a hundred",
 * "twelve hundred", "200", "2 hundred". */
static size_t parse_group(const char *const *tok, size_t n, double *value)
{
    double g;
    size_t i;

    if (n >= 2 && strcmp(tok[0], "a") == 0 && strcmp(tok[1], "hundred") == 0) {
        g = 100;
        i = 2;
    } else {
        i = parse_tens(tok, n, &g);
        if (i == 0) {
            long v = integer_token(tok[0]);
            if (v < 0)
                return 0;
            g = (double)v;
            i = 1;
        }
        if (i < n && strcmp(tok[i], "hundred") == 0 && g >= 1 && g <= 99) {
            g *= 100;
            i++;
        } else {
            *value = g;
            return i;
        }
    }
    size_t j = i;
    if (j < n && strcmp(tok[j], "and") == 0)
        j++;
    double rest;
    size_t k = parse_tens(tok + j, n - j, &rest);
    if (k > 0 && rest >= 1) {
        g += rest;
        i = j + k;
    }
    *value = g;
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

size_t vc_number_parse(const char *const *tok, size_t n, double *value)
{
    double total = 0, last_scale = 1e300;
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
    for (;;) {
        size_t j = i;
        double g;
        size_t k;
        if (i > 0 && j < n && strcmp(tok[j], "and") == 0)
            j++;
        if (j + 1 < n && strcmp(tok[j], "a") == 0 && scale_value(tok[j + 1]) > 0) {
            g = 1;
            k = 1;
        } else {
            k = parse_group(tok + j, n - j, &g);
        }
        if (k == 0)
            break;
        j += k;
        double scale = j < n ? scale_value(tok[j]) : 0;
        if (scale > 0 && scale < last_scale && g >= 1) {
            total += g * scale;
            last_scale = scale;
            i = j + 1;
            if (scale == 12)
                break;
            continue;
        }
        if (i > 0 && g >= last_scale)
            break; /* "two thousand three thousand" is two readings */
        total += g;
        i = j;
        break;
    }
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

size_t vc_digits_parse(const char *const *tok, size_t n, char *out, size_t cap)
{
    size_t i = 0, len = 0;

    if (cap == 0)
        return 0;
    while (i < n) {
        char put[16];
        size_t k = 0, used = 1;
        int d = digit_word(tok[i]);
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
        } else if (i + 1 < n && (strcmp(tok[i], "double") == 0 || strcmp(tok[i], "triple") == 0) &&
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
