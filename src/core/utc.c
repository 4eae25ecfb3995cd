#include "core/utc.h"

#include <stdio.h>
#include <time.h>

int vc_utc_format(int64_t unix_s, char out[32])
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return 0;
    }
    return 1;
}

void vc_utc_now(char out[32])
{
    vc_utc_format((int64_t)time(NULL), out);
}
