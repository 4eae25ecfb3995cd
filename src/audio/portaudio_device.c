#include "audio/portaudio_device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *direction_name(vc_pa_direction dir)
{
    return dir == VC_PA_INPUT ? "input" : "output";
}

static int channels(const PaDeviceInfo *info, vc_pa_direction dir)
{
    return dir == VC_PA_INPUT ? info->maxInputChannels : info->maxOutputChannels;
}

/* "0 \"hw:0\", 2 \"USB mic\"": the devices of one direction, for error
 * messages. */
static void describe_devices(vc_pa_direction dir, char *buf, size_t size)
{
    PaDeviceIndex n = Pa_GetDeviceCount();
    size_t used = 0;

    buf[0] = '\0';
    for (PaDeviceIndex i = 0; i < n && used < size; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        int k;
        if (!info || channels(info, dir) <= 0)
            continue;
        k = snprintf(buf + used, size - used, "%s%d \"%s\"", used ? ", " : "", (int)i,
                     info->name ? info->name : "?");
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (used >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
    if (!buf[0])
        snprintf(buf, size, "none");
}

static int is_index(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 9;
}

vc_status vc_pa_find_device(vc_pa_direction dir, const char *want, PaDeviceIndex *out)
{
    PaDeviceIndex n = Pa_GetDeviceCount();
    PaDeviceIndex partial = paNoDevice;
    const char *what = direction_name(dir);
    char devices[1024];

    if (n < 0)
        return vc_fail(VC_EAUDIO, "PortAudio: cannot list devices: %s", Pa_GetErrorText(n));
    if (!want || !*want || strcmp(want, "default") == 0) {
        *out = dir == VC_PA_INPUT ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        if (*out != paNoDevice)
            return VC_OK;
        describe_devices(dir, devices, sizeof devices);
        return vc_fail(VC_ENOTFOUND, "no default audio %s device; %s devices: %s", what, what,
                       devices);
    }
    if (is_index(want)) {
        long idx = strtol(want, NULL, 10);
        const PaDeviceInfo *info = idx < n ? Pa_GetDeviceInfo((PaDeviceIndex)idx) : NULL;
        if (info && channels(info, dir) > 0) {
            *out = (PaDeviceIndex)idx;
            return VC_OK;
        }
    } else {
        for (PaDeviceIndex i = 0; i < n; i++) {
            const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
            if (!info || !info->name || channels(info, dir) <= 0)
                continue;
            if (strcmp(info->name, want) == 0) {
                *out = i;
                return VC_OK;
            }
            if (partial == paNoDevice && strstr(info->name, want))
                partial = i;
        }
        if (partial != paNoDevice) {
            *out = partial;
            return VC_OK;
        }
    }
    describe_devices(dir, devices, sizeof devices);
    return vc_fail(VC_ENOTFOUND, "audio %s device \"%s\" not found; %s devices: %s", what, want,
                   what, devices);
}

vc_status vc_pa_open_failure(vc_pa_direction dir, const char *name, int rate, PaError err)
{
    const char *why = Pa_GetErrorText(err);
    const char *hint = "";

    if (err == paUnanticipatedHostError) {
        const PaHostErrorInfo *host = Pa_GetLastHostErrorInfo();
        if (host && host->errorText)
            why = host->errorText;
        if (host && host->errorCode == -EBUSY)
            hint = " (in use by another program?)";
    } else if (err == paDeviceUnavailable) {
        hint = " (in use by another program, or unplugged?)";
    }
    return vc_fail(VC_EAUDIO, "audio %s device \"%s\": cannot open at %d Hz: %s%s",
                   direction_name(dir), name, rate, why, hint);
}
