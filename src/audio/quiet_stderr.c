#include "audio/quiet_stderr.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vc_quiet_stderr_begin(vc_quiet_stderr *q)
{
    const char *lvl = getenv("VOXCART_LOG");
    int devnull;

    q->saved_fd = -1;
    if (lvl && strcmp(lvl, "debug") == 0)
        return;
    fflush(stderr);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0)
        return;
    q->saved_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    if (q->saved_fd >= 0)
        dup2(devnull, STDERR_FILENO);
    close(devnull);
}

void vc_quiet_stderr_end(vc_quiet_stderr *q)
{
    if (q->saved_fd < 0)
        return;
    fflush(stderr);
    dup2(q->saved_fd, STDERR_FILENO);
    close(q->saved_fd);
    q->saved_fd = -1;
}
