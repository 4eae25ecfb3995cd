/* Crash points for the kill tests: vc_crash_point("outbox.committed") kills
 * the process with SIGKILL, as a power cut would, when the environment
 * variable VOXCART_CRASH_AT names that point; otherwise it does nothing
 * (one getenv, read once). The tests of exactly-once ordering use it to die
 * at every step of placing an order; random-timing kills cover the rest. */
#ifndef VC_CRASHPOINT_H
#define VC_CRASHPOINT_H

void vc_crash_point(const char *name);

#endif
