/* Helpers shared by the speech tests (recogniser, listener, wake word):
 * the shared recordings, a small pack over the pocketsphinx test grammar,
 * speech synthesised by espeak-ng, and tracks of speech over room tone.
 * Header-only (static inline), like test_util.h; a test that uses the
 * synthesiser links vc_speech, one that uses audio files vc_audio. */
#ifndef VC_SPEECH_FIXTURES_H
#define VC_SPEECH_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio/audio_file.h"
#include "nlu/template.h"
#include "nlu/understander.h"
#include "speech/synthesiser.h"
#include "test_util.h"

#define VC_TEST_DATA_DIR VC_TEST_SOURCE_DIR "/../shared/data"

/* ---- the goforward.gram grammar of the pocketsphinx test data as a pack ---- */

#define VC_TEST_TURTLE_INI                                                                         \
    "[pack]\nname = turtle\ndefault_locale = en-US\n"                                             \
    "[lists]\ndirection = file:slots/direction.txt\n"
#define VC_TEST_TURTLE_INTENTS                                                                     \
    "[move]\n"                                                                                     \
    "go forward ten meters\n"                                                                      \
    "go <direction> <distance:number 1..10> [meter | meters]\n"

/* Loads the turtle pack and its understander; 0 on success. */
static inline int vc_test_load_turtle(vc_pack **pack, vc_understander **u)
{
    vc_pack_file files[] = {
        {"pack.ini", VC_TEST_TURTLE_INI},
        {"intents.txt", VC_TEST_TURTLE_INTENTS},
        {"slots/direction.txt", "forward\nbackward\n"},
    };
    *pack = NULL;
    *u = NULL;
    if (vc_pack_load_memory(files, 3, pack) != VC_OK)
        return -1;
    return vc_understander_new(*pack, u) == VC_OK ? 0 : -1;
}

/* A headerless s16le file (goforward.raw); NULL when it cannot be read. */
static inline int16_t *vc_test_read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    int16_t *pcm;
    long len;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    pcm = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (pcm)
        *n = fread(pcm, 2, (size_t)len / 2, f);
    fclose(f);
    return pcm;
}

/* ---- synthesised speech --------------------------------------------------- */

/* text spoken by s (a VC_SPEAK_WAV synthesiser: its voice, rate, pitch),
 * read back at 16 kHz into *out; the WAV file is removed. 0 on success. */
static inline int vc_test_speak_with(vc_synthesiser *s, const char *text, vc_audio *out)
{
    char *path = NULL;
    int rc = -1;

    if (vc_synthesiser_speak(s, text, &path) == VC_OK &&
        vc_audio_read_file(path, NULL, out) == VC_OK)
        rc = 0;
    if (path)
        unlink(path);
    free(path);
    return rc;
}

/* text spoken by espeak-ng (voice, words a minute), read back at 16 kHz
 * into *out; 0 on success. */
static inline int vc_test_speak(const char *voice, int rate, const char *text, vc_audio *out)
{
    vc_test_dir *d = vc_test_dir_new("vc-speak", "wav");
    vc_synthesiser_config c = {.mode = VC_SPEAK_WAV, .voice = voice, .rate = rate, .pitch = 50,
                               .volume = 100, .wav_dir = d ? d->path : NULL};
    vc_synthesiser *s = NULL;
    int rc = -1;

    if (d && vc_synthesiser_new(&c, &s) == VC_OK && vc_test_speak_with(s, text, out) == 0)
        rc = 0;
    vc_synthesiser_free(s);
    vc_test_dir_free(d);
    return rc;
}

/* ---- tracks: speech over room tone ------------------------------------- */

/* Room tone: white noise at -66 dBFS. */
#define VC_TEST_ROOM_TONE_RMS 16.0

typedef struct {
    int16_t *pcm;
    size_t n, cap;
    uint64_t noise; /* the room tone's generator state; 0 starts a fixed sequence */
} vc_test_track;

static inline int16_t vc_test_room_tone_sample(vc_test_track *t)
{
    double s = 0;
    if (t->noise == 0)
        t->noise = 88172645463325252ull;
    for (int i = 0; i < 4; i++) {
        t->noise ^= t->noise << 13;
        t->noise ^= t->noise >> 7;
        t->noise ^= t->noise << 17;
        s += (double)(t->noise >> 11) / 9007199254740992.0 - 0.5;
    }
    return (int16_t)(s * VC_TEST_ROOM_TONE_RMS * 1.7320508);
}

static inline void vc_test_track_grow(vc_test_track *t, size_t more)
{
    if (t->n + more <= t->cap)
        return;
    t->cap = (t->n + more) * 2;
    t->pcm = realloc(t->pcm, t->cap * sizeof *t->pcm);
    if (!t->pcm)
        abort();
}

/* ms of room tone at 16 kHz. */
static inline void vc_test_track_tone(vc_test_track *t, int ms)
{
    size_t n = (size_t)ms * 16;
    vc_test_track_grow(t, n);
    for (size_t i = 0; i < n; i++)
        t->pcm[t->n++] = vc_test_room_tone_sample(t);
}

/* Speech over room tone; returns where its last loud sample ends. */
static inline uint64_t vc_test_track_speech(vc_test_track *t, const vc_audio *a)
{
    uint64_t end = t->n;

    vc_test_track_grow(t, a->n);
    for (size_t i = 0; i < a->n; i++) {
        int v = a->samples[i] + vc_test_room_tone_sample(t);
        t->pcm[t->n] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        if (a->samples[i] > 300 || a->samples[i] < -300)
            end = t->n + 1;
        t->n++;
    }
    return end;
}

#endif
