/* Live audio in through PortAudio.
 *
 * A capture opens one input device at its own rate (48 kHz USB microphones
 * included) and hands out VC_AUDIO_RATE mono 16-bit samples: channels are
 * averaged and the rate converted by a speexdsp resampler kept across reads,
 * so that consecutive reads join without clicks. Between PortAudio's
 * real-time callback and the reader sits a bounded lock-free ring; when the
 * reader falls behind, the newest audio is dropped (never blocking the
 * callback), counted, and reported by vc_capture_dropped and a warning.
 *
 * One thread uses a vc_capture; PortAudio's own thread only fills the ring. */
#ifndef VC_CAPTURE_H
#define VC_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Largest ring accepted, in milliseconds of device audio. */
#define VC_CAPTURE_MAX_RING_MS 30000
#define VC_CAPTURE_DEFAULT_RING_MS 2000

typedef struct {
    /* NULL, "" or "default": PortAudio's default input; all digits: that
     * device index; otherwise a device whose name equals it or, failing
     * that, contains it. */
    const char *device;
    int rate;                   /* device rate in Hz; 0 = the device's default */
    unsigned frames_per_buffer; /* per callback; 0 = PortAudio chooses */
    unsigned ring_ms;           /* ring capacity; 0 = VC_CAPTURE_DEFAULT_RING_MS */
} vc_capture_config;

typedef struct vc_capture vc_capture;

/* Initialises PortAudio (its probing noise on stderr silenced) and opens
 * the device, not yet recording. No such device: VC_ENOTFOUND with a detail
 * naming it and the input devices that exist. A device that is busy or
 * refuses the rate: VC_EAUDIO. Bad config values: VC_EINVAL. */
VC_MUST_CHECK vc_status vc_capture_new(const vc_capture_config *cfg, vc_capture **out);
/* Starts recording. VC_ESTATE when already started. */
VC_MUST_CHECK vc_status vc_capture_start(vc_capture *c);
/* Converts recorded audio to VC_AUDIO_RATE mono into out16k[0..max), and
 * sets *got. Waits up to timeout_ms (< 0: without limit) for the first
 * sample, then returns what is ready; *got 0 with VC_OK means the wait timed
 * out. Not started: VC_ESTATE. The device stopped delivering (unplugged,
 * stream died): VC_EAUDIO saying so, after the audio already recorded has
 * been read; stop, free and open it again to retry. */
VC_MUST_CHECK vc_status vc_capture_read(vc_capture *c, int16_t *out16k, size_t max, size_t *got,
                                        int timeout_ms);
/* Stops recording and discards what was not read. Harmless when stopped. */
VC_MUST_CHECK vc_status vc_capture_stop(vc_capture *c);
/* Samples (at the device rate) dropped because the ring was full. */
uint64_t vc_capture_dropped(const vc_capture *c);
/* The rate the device was opened at. */
int vc_capture_device_rate(const vc_capture *c);
/* Stops, closes the device and releases PortAudio. Accepts NULL. */
void vc_capture_free(vc_capture *c);

typedef struct {
    int index;           /* what "device" may name */
    const char *name;    /* valid during the callback only */
    const char *host_api;
    int max_channels;
    double default_rate;
    int is_default;
} vc_capture_device;

/* Calls cb once for each device that can record. */
VC_MUST_CHECK vc_status vc_capture_list_devices(void (*cb)(const vc_capture_device *dev, void *ud),
                                                void *ud);

#endif
