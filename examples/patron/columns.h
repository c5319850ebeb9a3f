/*
 * patron — the CSV column layout of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * One layout serves `import` (columns by header name), `create` and
 * `update` (FIELD=VALUE names) and `export` (which writes the same names,
 * so an export imports again unchanged).  Names are compared folded:
 * case-insensitive, without spaces, '_', '-', '.', '/', with ä ö ü ß as
 * ae oe ue ss ("E-Mail" = "email", "First name" = "first_name").  A name is:
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
 *   a German or English   Vorname, Nachname/Name, Straße/Str., Hausnummer,
 *   alias                 PLZ/ZIP, Ort/Stadt, Land, E-Mail/Mail, Telefon/
 *                         Tel., Mobil/Handy, Geburtsdatum, Firma, Anrede,
 *                         Kundennummer ... (the table `aliases` in columns.c)
 *   prop.KEY              the custom property KEY
 * Any other name is refused: all of them in one message, with the closest
 * known name where one is near.  A col_map (--map, --map-file) names
 * columns the table does not know: COLUMN=NAME, NAME one of the above or
 * "-" to skip the column.
 *
 * Values: a "street" value that ends in a house number ("Hauptstraße 12a")
 * is split into street and house number when no house number is given
 * beside it; a country given by name ("Deutschland", "Österreich",
 * "Switzerland") becomes its ISO code; a birth date as TT.MM.JJJJ (or
 * T.M.JJJJ) becomes JJJJ-MM-TT.  No field of the layout is a number, so
 * there are no decimal commas to read.
 */
#ifndef PATRON_CLI_COLUMNS_H
#define PATRON_CLI_COLUMNS_H

#include <stddef.h>

#include <patron/patron.h>
#include <patron/batch.h>

typedef enum col_kind {
    COL_FIELD,      /* id: a patron_field */
    COL_EXTERNAL,   /* the external id */
    COL_ADDRESS,    /* id: a patron_address_field */
    COL_TAGS,
    COL_PROPERTY,   /* key: the property key */
    COL_IGNORE      /* mapped to "-": read, and not used */
} col_kind;

typedef struct column {
    col_kind kind;
    int id;
    char *name;     /* the name as given, trimmed (for messages) */
    char *key;      /* COL_PROPERTY: the property key */
} column;

typedef struct layout {
    column *cols;
    size_t n;
    /* Indexes of special columns, or -1. */
    long street, house_number, source, login_hash, external;
} layout;

/** Names for columns the layout does not know: COLUMN=NAME pairs. */
typedef struct col_map {
    char **from, **to;
    size_t n, cap;
} col_map;

/** Add "COLUMN=NAME,COLUMN=NAME..." (--map).  0, or -1 with a message. */
int col_map_add(col_map *m, const char *spec, char *err, size_t errlen);
/** Add the lines "COLUMN=NAME" of a file (blank lines and lines starting
 *  with '#' skipped; UTF-8, UTF-16 or Windows-1252).  0, or -1 with a
 *  message. */
int col_map_load(col_map *m, const char *path, char *err, size_t errlen);
void col_map_free(col_map *m);

/**
 * Build a layout from names, with the names of `map` (may be NULL) for
 * columns it names.  `operands`: the names are FIELD=VALUE operands of
 * create/update (messages say "field"), not header columns.  On error,
 * writes one message to `err` that lists every problem — all unknown names
 * (with the closest known name), system fields, names given twice, empty
 * names — and returns -1.  Give `err` room (1 KiB and more).
 */
int layout_init_ex(layout *l, const char *const *names, size_t n, const col_map *map, int operands, char *err,
                   size_t errlen);
/** layout_init_ex() for a header without a map. */
int layout_init(layout *l, const char *const *names, size_t n, char *err, size_t errlen);

/** The known name closest to `name` (for "did you mean"), or NULL. */
const char *layout_suggest(const char *name);

/** The ISO 3166 code of a country given by name, German or English, any
 *  case, with or without umlauts ("Österreich", "Oesterreich", "austria"),
 *  or of a lower-case code ("de"); NULL if the table has no such name. */
const char *country_code(const char *name);

/** "24.12.1980" or "1.2.1980" as "1980-12-24" / "1980-02-01" in `out` (11
 *  bytes); 0 if `s` is not of that form (left to the library to judge). */
int german_date(const char *s, char out[11]);
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

/** Memory for layout_values(): n bytes that stay until the caller lets
 *  them go (an arena); NULL when out of memory. */
typedef void *(*layout_alloc_fn)(void *payload, size_t n);

/**
 * layout_apply() of a row to a new customer, as the values of a
 * patron_batch_row instead (patron/batch.h): the same values in the same
 * order, no customer made.  Values point into `values` or, when made here
 * (a street split from its number, a date, trimmed tags), into memory from
 * `alloc`.  `lens`: the values' lengths (strlen of each; the reader knows
 * them), or NULL: measured here.  Returns the number of values written to `out` (room for
 * `cap`); -1: a refusal of the layout's own ("COLUMN: given without an
 * id", in `err`) after the *n_out values of the columns before it (which
 * layout_apply would have checked first); -2: more than `cap` values;
 * -3: out of memory.
 */
long layout_values(const layout *l, const char *const *values, const size_t *lens, patron_batch_value *out,
                   size_t cap, layout_alloc_fn alloc, void *payload, size_t *n_out, char *err, size_t errlen);

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
