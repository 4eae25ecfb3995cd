/* Fuzzes the audio-file reader through libsndfile's virtual IO: any bytes
 * either decode to 16 kHz mono within the length limit or fail with a
 * detail, never crash, and a failure leaves no samples behind. The first
 * byte also picks a headerless read now and then, so the raw path sees
 * every rate and channel count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_audio_read_options raw = {0};
    const vc_audio_read_options *opt = NULL;
    vc_audio a;
    vc_status st;

    /* 1 in 16 inputs: headerless s16le at a rate and channel count from the
     * first bytes (out-of-range ones must be refused, not used) */
    if (size >= 4 && (data[0] & 0x0f) == 0x0f) {
        raw.raw_rate = (int)(((uint32_t)data[1] << 8 | data[2]) * 8);
        raw.raw_channels = data[3] % 40;
        opt = &raw;
        data += 4;
        size -= 4;
    }
    st = vc_audio_read_memory(data, size, "fuzz.wav", opt, &a);
    if (st == VC_OK) {
        if (!a.samples || a.n == 0 ||
            a.n > (size_t)VC_AUDIO_RATE * VC_AUDIO_MAX_SECONDS + 1)
            abort();
        /* touch every sample so that ASan checks the buffer's extent */
        volatile int64_t sum = 0;
        for (size_t i = 0; i < a.n; i++)
            sum += a.samples[i];
        (void)sum;
    } else {
        if (a.samples || a.n != 0 || vc_error_detail()[0] == '\0')
            abort();
        if (!strstr(vc_error_detail(), "fuzz.wav"))
            abort();
    }
    vc_audio_clear(&a);
    return 0;
}
