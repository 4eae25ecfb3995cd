#include "core/crashpoint.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *crash_at;
static pthread_once_t crash_once = PTHREAD_ONCE_INIT;

static void read_crash_at(void)
{
    const char *v = getenv("VOXCART_CRASH_AT");
    crash_at = v && *v ? v : NULL;
}

void vc_crash_point(const char *name)
{
    pthread_once(&crash_once, read_crash_at);
    if (crash_at && strcmp(crash_at, name) == 0)
        raise(SIGKILL);
}
