/* Internal to voxcart's audio module: finding a PortAudio device by the
 * name a person configured, and saying why one would not open. Shared by
 * capture (input) and playback (output) so both read "device" the same way
 * and name the devices that exist when the wanted one does not.
 *
 * PortAudio must be initialised around these calls. */
#ifndef VC_PORTAUDIO_DEVICE_H
#define VC_PORTAUDIO_DEVICE_H

#include <portaudio.h>

#include "core/status.h"

typedef enum { VC_PA_INPUT, VC_PA_OUTPUT } vc_pa_direction;

/* want: NULL, "" or "default": PortAudio's default device of that
 * direction; all digits: that device index; otherwise a device whose name
 * equals want or, failing that, contains it. Only devices with channels in
 * that direction count. None: VC_ENOTFOUND naming want and the devices that
 * exist ("audio output device \"x\" not found; output devices: 0 \"a\""). */
VC_MUST_CHECK vc_status vc_pa_find_device(vc_pa_direction dir, const char *want,
                                          PaDeviceIndex *out);

/* The VC_EAUDIO for a failed Pa_OpenStream of device name at rate Hz: the
 * host API's own reason when it gave one, and a hint for busy devices. */
vc_status vc_pa_open_failure(vc_pa_direction dir, const char *name, int rate, PaError err);

#endif
