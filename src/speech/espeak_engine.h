/* The process's one espeak-ng engine, shared by the synthesiser (speech
 * out) and the lexicon (pronunciations of words the dictionary lacks).
 *
 * espeak-ng keeps its engine, voice and parameters in global state, so:
 * every use holds one lock; the engine is initialised once, for the life
 * of the process (espeak-ng 1.51 hangs in a second espeak_ng_Terminate(),
 * so it is never terminated), with synchronous output in VC_SYNTH_CHUNK_MS
 * chunks; and whoever sets a voice says so (vc_espeak_set_owner), so that
 * the next user whose voice it is not sets its own again. Before this
 * module the lexicon had its own lock and initialisation: a grammar
 * recompiled between two replies switched the engine to en-us behind the
 * synthesiser's back, so an nb device answered in an English voice. */
#ifndef VC_ESPEAK_ENGINE_H
#define VC_ESPEAK_ENGINE_H

#include "core/status.h"

/* Takes the lock and starts the engine on first use. On failure the lock
 * is not held and the detail says why (no espeak-ng-data, say). */
VC_MUST_CHECK vc_status vc_espeak_acquire(void);
void vc_espeak_release(void);

/* Who set the engine's voice and parameters last (an address, compared
 * only), and a change of it. The caller holds the lock. */
const void *vc_espeak_owner(void);
void vc_espeak_set_owner(const void *owner);
/* When owner is the one, forgets it (a freed synthesiser whose address
 * may be reused). Takes the lock itself. */
void vc_espeak_forget(const void *owner);

/* Where espeak-ng looks for its data, for messages. */
const char *vc_espeak_data_path(void);

#endif
