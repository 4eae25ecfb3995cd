/* Numbers as customers say them. Operates on tokens (lower case words). */
#ifndef VC_NUMBERS_H
#define VC_NUMBERS_H

#include <stddef.h>

/* Parses a cardinal starting at tok[0]: "two hundred and fifty" -> 250,
 * "200" -> 200, "3.49" -> 3.49, "a dozen" -> 12. Returns the number of tokens
 * used (0: none), the longest reading first; *value gets the number. */
size_t vc_number_parse(const char *const *tok, size_t n, double *value);

/* Parses a digit string spoken digit by digit starting at tok[0]: "four five
 * six" -> "456", "eight oh two" -> "802", "double five" -> "55", "1 2 3" or
 * "123" -> "123". Writes at most cap-1 digits and a NUL to out. Returns the
 * number of tokens used (0: none). */
size_t vc_digits_parse(const char *const *tok, size_t n, char *out, size_t cap);

#endif
