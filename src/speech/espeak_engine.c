/* The shared espeak-ng engine (espeak_engine.h). */
#include "speech/espeak_engine.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <pthread.h>

#include "speech/synthesiser.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ready;          /* initialised, for the process's life */
static const void *owner; /* whose voice is set */

const char *vc_espeak_data_path(void)
{
    const char *path = NULL;
    espeak_Info(&path);
    return path ? path : "(unknown)";
}

static vc_status failure(espeak_ng_STATUS st, const char *what)
{
    char msg[256];
    espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
    return vc_fail(VC_EAUDIO, "espeak-ng: %s: %s (data path %s; is espeak-ng-data installed?)",
                   what, msg, vc_espeak_data_path());
}

/* Caller holds the lock. */
static vc_status start(void)
{
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st;

    if (ready)
        return VC_OK;
    /* NULL: ESPEAK_DATA_PATH or the packaged espeak-ng-data. The espeak_ng_
     * API, unlike espeak_Initialize(), reports a failure instead of exit(). */
    espeak_ng_InitializePath(NULL);
    st = espeak_ng_Initialize(&ctx);
    espeak_ng_ClearErrorContext(&ctx);
    if (st != ENS_OK)
        return failure(st, "cannot initialise");
    /* The buffer is what each synthesis callback receives: small, so that
     * the first audio leaves before the rest of the reply is made. */
    st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, VC_SYNTH_CHUNK_MS, NULL);
    if (st != ENS_OK)
        return failure(st, "cannot set up synchronous output");
    ready = 1;
    owner = NULL;
    return VC_OK;
}

vc_status vc_espeak_acquire(void)
{
    vc_status rc;

    pthread_mutex_lock(&lock);
    if ((rc = start()) != VC_OK)
        pthread_mutex_unlock(&lock);
    return rc;
}

void vc_espeak_release(void)
{
    pthread_mutex_unlock(&lock);
}

const void *vc_espeak_owner(void)
{
    return owner;
}

void vc_espeak_set_owner(const void *o)
{
    owner = o;
}

void vc_espeak_forget(const void *o)
{
    pthread_mutex_lock(&lock);
    if (owner == o)
        owner = NULL;
    pthread_mutex_unlock(&lock);
}
