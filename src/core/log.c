#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_level(void)
{
    static int level = -1;
    if (level < 0) {
        const char *env = getenv("VOXCART_LOG");
        level = VC_LOG_WARN;
        if (env) {
            static const char *const names[] = {"error", "warn", "info", "debug"};
            for (int i = 0; i < 4; i++)
                if (strcmp(env, names[i]) == 0)
                    level = i;
        }
    }
    return level;
}

void vc_log(vc_log_level level, const char *fmt, ...)
{
    static const char *const tags[] = {"error", "warning", "info", "debug"};
    va_list ap;

    if ((int)level > current_level())
        return;
    fprintf(stderr, "voxcart: %s: ", tags[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
