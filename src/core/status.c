#include "core/status.h"

#include <stdio.h>

static _Thread_local char detail[1024];
static _Thread_local vc_status last = VC_OK;

const char *vc_status_name(vc_status st)
{
    switch (st) {
#define VC_STATUS_NAME(name, value, msg) case name: return #name;
        VC_STATUS_MAP(VC_STATUS_NAME)
#undef VC_STATUS_NAME
    }
    return "VC_EUNKNOWN";
}

const char *vc_strerror(vc_status st)
{
    switch (st) {
#define VC_STATUS_MSG(name, value, msg) case name: return msg;
        VC_STATUS_MAP(VC_STATUS_MSG)
#undef VC_STATUS_MSG
    }
    return "unknown error";
}

vc_status vc_failv(vc_status st, const char *fmt, va_list ap)
{
    last = st;
    if (fmt)
        vsnprintf(detail, sizeof detail, fmt, ap);
    else
        detail[0] = '\0';
    return st;
}

vc_status vc_fail(vc_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vc_failv(st, fmt, ap);
    va_end(ap);
    return st;
}

const char *vc_error_detail(void)
{
    return detail[0] ? detail : vc_strerror(last);
}

void vc_error_clear(void)
{
    detail[0] = '\0';
    last = VC_OK;
}
