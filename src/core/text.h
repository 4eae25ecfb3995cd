/* Small checks on text that several modules make. */
#ifndef VC_TEXT_H
#define VC_TEXT_H

/* 1 when s is one or more ASCII digits and nothing else ("0042"), else 0. */
int vc_all_digits(const char *s);

#endif
