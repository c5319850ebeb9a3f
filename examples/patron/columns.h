/*
 * patron — the CSV column layout of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * One layout serves `import` (columns by header name), `create` and
 * `update` (FIELD=VALUE names) and `export` (which writes the same names,
 * so an export imports again unchanged).  A name is, case-insensitively:
 *
 *   id (or external_id)   the external reference; its source is the
 *                         external_source column, else "import"
 *   street, house_number, address_addition, postal_code, city, state,
 *   country               the customer's address (the default address,
 *                         else the first; created when one of them has a
 *                         value; country defaults to DE)
 *   tags                  tags separated by '|'
 *   a customer field      by its snake_case name (patron_field_name():
 *                         number, salutation, title, first_name, last_name,
 *                         company, email, phone, mobile, fax, birth_date,
 *                         language, b2b, vat_id, ..., login_hash)
 *   anything else         a custom property with the header as key
 *
 * A "street" value that ends in a house number ("Hauptstraße 12a") is split
 * into street and house number when no house number is given beside it.
 */
#ifndef PATRON_CLI_COLUMNS_H
#define PATRON_CLI_COLUMNS_H

#include <stddef.h>

#include <patron/patron.h>

typedef enum col_kind {
    COL_FIELD,      /* id: a patron_field */
    COL_EXTERNAL,   /* the external id */
    COL_ADDRESS,    /* id: a patron_address_field */
    COL_TAGS,
    COL_PROPERTY    /* name: the key */
} col_kind;

typedef struct column {
    col_kind kind;
    int id;
    char *name;     /* the name as given, trimmed (the property key) */
} column;

typedef struct layout {
    column *cols;
    size_t n;
    /* Indexes of special columns, or -1. */
    long street, house_number, source, login_hash, external;
} layout;

/**
 * Build a layout from names.  On error, writes a one-line message to `err`
 * and returns -1 (unknown system field, duplicate column, a name that is
 * not a valid property key, out of memory).
 */
int layout_init(layout *l, const char *const *names, size_t n, char *err, size_t errlen);
void layout_free(layout *l);

/**
 * Apply one row of values (one per column) to `c`.  For a new record
 * (`update` 0) empty values are skipped; for an update an empty value
 * clears the field (or removes the property).
 * On error writes the library's message (which names the field) to `err`
 * and returns the library's status; `c` may then be half-changed, so throw it away.
 */
patron_status layout_apply(const layout *l, patron_customer *c, const char *const *values, int update,
                           char *err, size_t errlen);

/**
 * The standard export columns, in order, followed by nothing: the caller
 * appends the custom property keys.  NULL-terminated static list.
 */
const char *const *layout_export_names(void);

/**
 * The value of column `i` for `c`, for export, to *out (NULL when unset).
 * Tags are joined into *tmp, a buffer of the caller's that it frees with
 * free().  The password hash is never given out.
 * @return 0, or -1 when out of memory.
 */
int layout_value(const layout *l, size_t i, const patron_customer *c, const char **out, char **tmp);

/** The address the CSV layout works on: the default address, else the
 *  first; (size_t)-1 if the customer has none. */
size_t layout_address(const patron_customer *c);

/**
 * Split "Hauptstraße 12a" into street and house number: if `s` ends in a
 * house number (12, 12a, 12 a, 12-14, 12/1, after a space), returns 1 with
 * the street's length (without the spaces before the number) and the
 * number's offset and length (without trailing spaces); else 0.
 */
int split_street(const char *s, size_t *street_len, size_t *number_at, size_t *number_len);

#endif /* PATRON_CLI_COLUMNS_H */
