/* How the dialog reads values out in a locale: numbers, prices, counts of
 * units and order numbers, each in two forms.
 *
 * The display form is what a screen or a chat shows ("kr 49,90", "2
 * pakker"); the spoken form is what the synthesiser is given, with amounts,
 * counts and digits in words where espeak-ng would misread the display form
 * ("førtini kroner og nitti øre", "to pakker", "åtte null to"). For en-US
 * only amounts differ ("three dollars and forty-nine cents": espeak-ng
 * reads "$3.49" as "dollar three point four nine"); it reads "2 packs" and
 * "8 0 2" well.
 *
 * Every function writes a NUL-terminated string of at most cap - 1 bytes
 * (cut to fit, never overflowing; cap >= 1) and never fails. docs/dialog.md
 * lists the readings. */
#ifndef VC_DIALOG_READINGS_H
#define VC_DIALOG_READINGS_H

#include <stddef.h>

typedef enum {
    VC_READ_EN_US, /* US English: "$3.49", "two hundred fifty" */
    VC_READ_NB,    /* Norwegian Bokmål: "kr 49,90", "to hundre og femti" */
} vc_reading;

/* The reading of a locale name: "nb", "nb-NO", "nb_NO", "no", "no-NO" are
 * Norwegian Bokmål; anything else (NULL too) is read the en-US way. */
vc_reading vc_reading_of(const char *locale);

/* The currency amounts without one are in: USD for en-US, NOK for nb. */
const char *vc_reading_currency(vc_reading r);

/* n in words, 0 <= n < 10^12 (outside: digits).
 * en-US: "zero", "twenty-one", "one hundred one", "one thousand two hundred
 *   fifty", "one million" (no "and", as US English writes them).
 * nb: "null", "tjueen", "hundre og en", "tusen to hundre og femti", "to
 *   tusen", "en million", "to millioner". The standard: "og" before the last
 *   part under 100 when hundre, tusen or million come before it ("to tusen
 *   og fem"); tens and units written as one word ("tjuefem"); a bare
 *   "hundre" / "tusen" at the start of a number ("hundre og en", "tusen to
 *   hundre") and "ett hundre" / "ett tusen" inside one ("tusen ett hundre",
 *   "en million ett tusen"); "en" for one ("tjueen", "hundre og en"). */
void vc_number_words(vc_reading r, long long n, char *out, size_t cap);

/* An amount of money, cents of currency (NULL or "": vc_reading_currency).
 * menu: always with the cents, as a menu board shows a price.
 *   en-US: "$3.49", "$129" ("$129.00" for a menu), "3.49 EUR".
 *   nb: "kr 49,90", "kr 200" ("kr 200,00" for a menu), "kr 12 500" (a space
 *   between thousands from 10 000 on), "3,49 USD". */
void vc_money_display(vc_reading r, long long cents, const char *currency, int menu, char *out,
                      size_t cap);
/* The spoken form. en-US: the display form. nb: "førtini kroner og nitti
 * øre", "to hundre kroner", "én krone", "femti øre", "null kroner"; dollars,
 * euros, pounds and Swedish and Danish kroner by name ("tre dollar og
 * førtini cent"); another currency: the number in words and its code
 * ("tre komma førtini CHF"). */
void vc_money_spoken(vc_reading r, long long cents, const char *currency, char *out, size_t cap);

/* A catalog unit word in the reading's language: nb reads the English
 * units of docs/catalog.md in Norwegian ("pack" -> "pakke", "box" ->
 * "eske", "bottle" -> "flaske"); any other word, and every word in en-US,
 * as it is. NULL stays NULL. */
const char *vc_unit_word(vc_reading r, const char *unit);

/* A unit's plural (of its vc_unit_word): en-US vc_plural_en ("pack" ->
 * "packs"); nb "pakke" -> "pakker", "boks" -> "bokser", and "par", "sett",
 * "glass", "stk" stay. */
void vc_unit_plural(vc_reading r, const char *unit, char *out, size_t cap);

/* quantity of unit (NULL: counted as itself).
 * display: "2 packs", "1 pair", "3"; nb "2 pakker", "1 par".
 * spoken: en-US the same; nb "to pakker", "én pakke", "ett par", "tre". */
void vc_quantity_display(vc_reading r, int quantity, const char *unit, char *out, size_t cap);
void vc_quantity_spoken(vc_reading r, int quantity, const char *unit, char *out, size_t cap);

/* A count said as a word up to twenty, digits above ("two", "24"; nb "to",
 * "24"): the display form of the number of drinks. */
void vc_count_display(vc_reading r, int n, char *out, size_t cap);
/* A number as spoken: en-US digits ("24"), nb in words ("tjuefire"). */
void vc_count_spoken(vc_reading r, long long n, char *out, size_t cap);

/* An order number read character by character: display "8 0 2"; spoken
 * en-US "8 0 2", nb "åtte null to". Only ASCII letters and digits are read;
 * anything else is skipped. */
void vc_digits_display(const char *digits, char *out, size_t cap);
void vc_digits_spoken(vc_reading r, const char *digits, char *out, size_t cap);

/* A search query for the store, which matches whole words of the catalog's
 * names: en-US the query as it is; nb each word followed by the forms a
 * name is likely written in ("vinterjakker" -> "vinterjakker vinterjakke
 * vinterjakk", "vanntette" -> "vanntette vanntett"), for a customer says
 * the plural or definite form and a catalog writes the singular. Forms are
 * 4 bytes or longer. */
void vc_search_words(vc_reading r, const char *query, char *out, size_t cap);

#endif
