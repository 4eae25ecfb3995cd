/* Numbers as customers say them. Operates on tokens (lower case words). */
#ifndef VC_NUMBERS_H
#define VC_NUMBERS_H

#include <stddef.h>

#include "nlu/language.h"

/* Parses a cardinal starting at tok[0]: "two hundred and fifty" -> 250,
 * "200" -> 200, "3.49" -> 3.49, "a dozen" -> 12. Returns the number of tokens
 * used (0: none), the longest reading first; *value gets the number. */
size_t vc_number_parse(const char *const *tok, size_t n, double *value);

/* Parses a digit string spoken digit by digit starting at tok[0]: "four five
 * six" -> "456", "eight oh two" -> "802", "double five" -> "55", "1 2 3" or
 * "123" -> "123". Writes at most cap-1 digits and a NUL to out. Returns the
 * number of tokens used (0: none). */
size_t vc_digits_parse(const char *const *tok, size_t n, char *out, size_t cap);

/* The same in language lang. Norwegian Bokmål (VC_LANG_NB) reads
 * "to hundre og femti" -> 250, "tusen to hundre" -> 1200, "tjuefem" and
 * "tjue fem" -> 25, "femogtjue" -> 25, "en", "ett", "ei" -> 1, "et dusin" ->
 * 12, "tre komma fem" -> 3.5, "førtini komma nitti" -> 49.9, and digits
 * grouped by spaces ("1 000 000"); digit strings "åtte null to" -> "802".
 * VC_LANG_EN is vc_number_parse / vc_digits_parse. */
size_t vc_number_parse_in(vc_language lang, const char *const *tok, size_t n, double *value);
size_t vc_digits_parse_in(vc_language lang, const char *const *tok, size_t n, char *out,
                          size_t cap);

#endif
