/* UTF-8 checks for text that comes from outside (a typed line, a file). */
#ifndef VC_UTF8_H
#define VC_UTF8_H

#include <stddef.h>

/* Bytes of the well-formed UTF-8 character at s[0..len): 1..4, or 0 when
 * s does not start with one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, or cut short by len). len 0 gives 0. */
size_t vc_utf8_char_len(const char *s, size_t len);
/* 1 when s[0..len) is well-formed UTF-8. */
int vc_utf8_valid(const char *s, size_t len);

#endif
