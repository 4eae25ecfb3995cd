/* Live audio out through PortAudio, streamed.
 *
 * A playback opens one output device and plays 16-bit mono audio written
 * to it at the playback's rate (the synthesiser's 22050 Hz, say), converted
 * with a speexdsp resampler when the device wants another rate. Writes go
 * into a bounded ring that PortAudio's real-time callback drains; the
 * stream starts with the first write, so a reply starts playing while the
 * rest of it is still being synthesised, and silence is played (never a
 * stale sample) when the ring runs dry. Stopping (barge-in) drops whatever
 * is still queued at once.
 *
 * One thread uses a vc_playback; PortAudio's own thread only drains the
 * ring. */
#ifndef VC_PLAYBACK_H
#define VC_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define VC_PLAYBACK_DEFAULT_LATENCY_MS 20
#define VC_PLAYBACK_DEFAULT_RING_MS 60000
#define VC_PLAYBACK_MAX_RING_MS 120000

typedef struct {
    /* NULL, "" or "default": PortAudio's default output; all digits: that
     * device index; otherwise a device whose name equals it or, failing
     * that, contains it. */
    const char *device;
    int rate;                /* rate of the audio written, Hz (8000..96000) */
    /* Rate to run the device at: 0 = rate when the device accepts it, else
     * the device's default rate; otherwise exactly this (8000..192000), for
     * a driver whose own conversion is poor, and for tests. */
    int device_rate;
    unsigned latency_ms;     /* suggested device latency; 0 = default */
    unsigned ring_ms;        /* queue capacity; 0 = default (a whole reply fits) */
} vc_playback_config;

typedef struct vc_playback vc_playback;

/* Initialises PortAudio and opens the device (not yet playing). No such
 * device: VC_ENOTFOUND naming it and the output devices that exist. Busy
 * or refusing every usable rate: VC_EAUDIO. Bad config values: VC_EINVAL. */
VC_MUST_CHECK vc_status vc_playback_new(const vc_playback_config *cfg, vc_playback **out);
/* Queues n samples (at cfg->rate) and starts the stream if it is idle
 * (once all n are queued, or when the ring fills). Waits for room when the
 * ring is full. The device stopped taking audio (unplugged, stream died,
 * or no callback for over a second: stalled): VC_EAUDIO saying so, here
 * and from every later write or drain; free and open again to retry. */
VC_MUST_CHECK vc_status vc_playback_write(vc_playback *p, const int16_t *pcm, size_t n);
/* Waits up to timeout_ms (< 0: without limit) until everything queued has
 * been played; *done = 1 when it has, and the stream then idles (stopped,
 * after the device played what it held) until the next write. A dead
 * device: VC_EAUDIO, as for write, never a wait without end. */
VC_MUST_CHECK vc_status vc_playback_drain(vc_playback *p, int timeout_ms, int *done);
/* Drops everything queued and not yet played (barge-in); what the device
 * already holds (about latency_ms) still sounds. Harmless when idle. */
VC_MUST_CHECK vc_status vc_playback_stop(vc_playback *p);
/* 1 while queued audio remains to be played. */
int vc_playback_busy(const vc_playback *p);
/* Samples (at cfg->rate) handed to the device since the playback opened. */
uint64_t vc_playback_played(const vc_playback *p);
/* Stops, closes the device and releases PortAudio. Accepts NULL. A device
 * found stalled whose driver still holds PortAudio's thread is left open
 * (and this playback allocated, with a warning) rather than waited for. */
void vc_playback_free(vc_playback *p);

#endif
