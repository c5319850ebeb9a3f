/* Test helper: is `s` one complete, well-formed JSON text (RFC 8259)? */
#ifndef PATRON_TEST_JSONCHECK_H
#define PATRON_TEST_JSONCHECK_H
#include <stdbool.h>
bool json_valid(const char *s);
#endif
