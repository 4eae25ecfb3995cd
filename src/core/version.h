/* Release versions, MAJOR.MINOR.PATCH: each part 0 to 999999 in decimal,
 * without leading zeros ("1.3.0"). What update bundles carry
 * (update/bundle.h) and the merchant's firmware manifest names
 * (docs/protocol.md). */
#ifndef VC_VERSION_H
#define VC_VERSION_H

/* 1 when s is a version as above. */
int vc_version_valid(const char *s);
/* <0, 0, >0 as a is older than, the same as, newer than b; an invalid one
 * sorts before every valid one. */
int vc_version_compare(const char *a, const char *b);

#endif
