/* Internal to voxcart: hides the stderr noise of audio back ends.
 *
 * ALSA and JACK print pages of warnings while PortAudio probes a machine
 * without sound ("Unknown PCM cards.pcm.rear", "jack server is not
 * running"...). Wrap Pa_Initialize and device probing in
 * vc_quiet_stderr_begin / vc_quiet_stderr_end (capture and speech out both
 * do); VOXCART_LOG=debug keeps the
 * noise for diagnosis. This swaps the process's fd 2, so other threads'
 * stderr output is lost meanwhile: call it only while setting up. */
#ifndef VC_QUIET_STDERR_H
#define VC_QUIET_STDERR_H

typedef struct {
    int saved_fd; /* the real stderr while silenced, -1 otherwise */
} vc_quiet_stderr;

void vc_quiet_stderr_begin(vc_quiet_stderr *q);
/* Restores stderr; harmless when begin did nothing. */
void vc_quiet_stderr_end(vc_quiet_stderr *q);

#endif
