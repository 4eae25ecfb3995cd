/* A simulated room for scripted conversations: the customer's side is a
 * list of turns (recordings, or speech made with espeak-ng), played into
 * the device's input as a customer would, waiting for each reply to end;
 * the device's replies land on an output timeline on the same clock.
 *
 * The clock is the input stream: 16 kHz samples handed to the device so
 * far. The room hands out audio as fast as it is read (a 30-minute script
 * runs in a minute or two), so nothing depends on the machine's speed:
 * what the device's processing costs reaches the timeline only through
 * the positions the device writes its replies at (device.h).
 *
 * A turn starts gap_ms after the device has gone quiet following the
 * previous turn: after the first audio the device wrote once the previous
 * turn ended, and everything written after it, has played out; or, when
 * the device says nothing, max_wait_ms after the previous turn ended. A
 * barge-in turn instead starts barge_ms after the device's first audio
 * following the previous turn, while it is still speaking. A button press
 * turn presses the push-to-talk button (vc_sim_button) at its start.
 *
 * The room records, for each turn, where its audio went and where its
 * speech ends (the last sample above -40 dBFS... of the turn's own audio,
 * not the device's endpointer): the latency harness reads that timeline and
 * the output WAV (vc_sim_write). */
#ifndef VC_SIM_H
#define VC_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "assistant/device.h"
#include "assistant/listener.h"
#include "audio/trigger.h"
#include "core/status.h"

typedef struct vc_sim vc_sim;

#define VC_SIM_DEFAULT_GAP_MS 400
#define VC_SIM_DEFAULT_MAX_WAIT_MS 12000

/* A room whose output timeline holds audio at out_rate Hz (the device's
 * output rate). */
VC_MUST_CHECK vc_status vc_sim_new(int out_rate, vc_sim **out);
void vc_sim_free(vc_sim *s);

typedef struct {
    const char *label;   /* for the timeline ("reorder", "yes") */
    int gap_ms;          /* 0: VC_SIM_DEFAULT_GAP_MS; < 0: start at once */
    int barge_ms;        /* >= 0: a barge-in turn (see above); -1: not */
    int press;           /* 1: press the button as the turn starts */
    int max_wait_ms;     /* 0: VC_SIM_DEFAULT_MAX_WAIT_MS */
} vc_sim_turn;

/* Appends a turn of n samples at 16 kHz (copied; n may be 0 for a bare
 * button press or a pause). */
VC_MUST_CHECK vc_status vc_sim_add_turn(vc_sim *s, const vc_sim_turn *t, const int16_t *pcm,
                                        size_t n);
/* Appends silence of ms after the last turn, so that the device can time
 * out a follow-up question before the input ends. */
VC_MUST_CHECK vc_status vc_sim_add_pause(vc_sim *s, int ms);

/* The device's input: the room's audio. */
void vc_sim_source(vc_sim *s, vc_listener_source *out);
/* The device's output: the timeline (rate = out_rate). */
void vc_sim_output(vc_sim *s, vc_device_output *out);
/* The push-to-talk button the room presses (owned by the room). */
vc_button *vc_sim_button(vc_sim *s);

typedef struct {
    const char *label;
    uint64_t start, speech_start, speech_end, end; /* input positions, 16 kHz */
    int barge_in, press;
} vc_sim_turn_info;

typedef struct {
    uint64_t at;      /* input position (16 kHz) where it starts */
    size_t n;         /* samples at out_rate, as played (cut by a stop) */
} vc_sim_output_info;

size_t vc_sim_turn_count(const vc_sim *s);
/* Turn i as it was played; NULL past the turns played. */
const vc_sim_turn_info *vc_sim_turn_at(const vc_sim *s, size_t i);
size_t vc_sim_output_count(const vc_sim *s);
const vc_sim_output_info *vc_sim_output_at(const vc_sim *s, size_t i);

/* Writes what the microphone heard (16 kHz) and what the loudspeaker
 * played (out_rate, silence between replies), both from position 0 to the
 * end of the input or the last output, as WAV files (either path may be
 * NULL), and the timeline as JSON to json_path (may be NULL):
 * {"input_rate":16000,"output_rate":R,"turns":[{"label","start",
 * "speech_start","speech_end","end","barge_in","press"}...],
 * "outputs":[{"at","samples"}...]} with positions in input samples. */
VC_MUST_CHECK vc_status vc_sim_write(const vc_sim *s, const char *input_wav,
                                     const char *output_wav, const char *json_path);

/* Both sides mixed, as someone standing by would hear the conversation, at
 * the output rate into *pcm (caller frees), *n samples. */
VC_MUST_CHECK vc_status vc_sim_render_mix(const vc_sim *s, int16_t **pcm, size_t *n);

#endif
