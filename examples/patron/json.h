/*
 * patron — a small JSON reader for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * The library hands some results out as JSON only (groups, the journal, the
 * united lists of a merge plan).  The tool reads them back into a tree to
 * print tables.  Numbers are kept as their text; strings are decoded
 * (escapes, \u with surrogate pairs, to UTF-8).
 */
#ifndef PATRON_CLI_JSON_H
#define PATRON_CLI_JSON_H

#include <stddef.h>

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json json;
struct json {
    json_type type;
    /** BOOL: "true"/"false"; NUMBER: the number's text; STRING: the value. */
    char *str;
    /** ARRAY and OBJECT: the members; OBJECT: their names in `keys`. */
    json **items;
    char **keys;
    size_t n;
};

/** Parse `text`; NULL if it is not JSON or memory runs out. */
json *json_parse(const char *text);
void json_free(json *j);

/** Member `key` of an object, or NULL. */
const json *json_get(const json *obj, const char *key);
/** The string of member `key` ("" if missing; numbers and booleans as text). */
const char *json_get_str(const json *obj, const char *key);
/** Is member `key` the boolean true? */
int json_get_true(const json *obj, const char *key);

#endif /* PATRON_CLI_JSON_H */
