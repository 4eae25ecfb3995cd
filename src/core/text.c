#include "core/text.h"

#include <stdio.h>
#include <string.h>

int vc_all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

void vc_plural_en(char *out, size_t cap, const char *word)
{
    size_t n = strlen(word);

    if (ends_with(word, n, "s") || ends_with(word, n, "x") || ends_with(word, n, "z") ||
        ends_with(word, n, "ch") || ends_with(word, n, "sh"))
        snprintf(out, cap, "%ses", word);
    else if (n >= 2 && word[n - 1] == 'y' && !strchr("aeiou", word[n - 2]))
        snprintf(out, cap, "%.*sies", (int)(n - 1), word);
    else
        snprintf(out, cap, "%ss", word);
}

void vc_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
