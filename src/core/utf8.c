#include "core/utf8.h"

/* The table of well-formed byte sequences of Unicode 15, section 3.9
 * (table 3-7): the second byte's range depends on the first. */
size_t vc_utf8_char_len(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (len == 0)
        return 0;
    if (u[0] < 0x80)
        return 1;
    if (u[0] >= 0xC2 && u[0] <= 0xDF)
        n = 2;
    else if (u[0] >= 0xE0 && u[0] <= 0xEF)
        n = 3;
    else if (u[0] >= 0xF0 && u[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (u[0] == 0xE0)
        lo = 0xA0; /* overlong */
    else if (u[0] == 0xED)
        hi = 0x9F; /* surrogates */
    else if (u[0] == 0xF0)
        lo = 0x90; /* overlong */
    else if (u[0] == 0xF4)
        hi = 0x8F; /* past U+10FFFF */
    if (len < n || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((u[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

int vc_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = vc_utf8_char_len(s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}
