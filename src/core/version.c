#include "core/version.h"

#include <stddef.h>

/* A decimal number without leading zeros, at most 999999; advances *p. */
static int version_part(const char **p, long *out)
{
    const char *s = *p;
    long v = 0;
    int n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 6)
            return 0;
        v = v * 10 + (s[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0'))
        return 0;
    *p = s + n;
    *out = v;
    return 1;
}

static int version_parse(const char *s, long parts[3])
{
    const char *p = s;

    if (!s)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (!version_part(&p, &parts[i]))
            return 0;
        if (i < 2 && *p++ != '.')
            return 0;
    }
    return *p == '\0';
}

int vc_version_valid(const char *s)
{
    long parts[3];
    return version_parse(s, parts);
}

int vc_version_compare(const char *a, const char *b)
{
    long pa[3], pb[3];
    int va = version_parse(a, pa), vb = version_parse(b, pb);

    if (!va || !vb)
        return va - vb;
    for (int i = 0; i < 3; i++)
        if (pa[i] != pb[i])
            return pa[i] < pb[i] ? -1 : 1;
    return 0;
}
