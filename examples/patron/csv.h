/*
 * patron — CSV reading and writing for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * Reading follows RFC 4180 and what spreadsheets write: an optional UTF-8
 * byte order mark, ',' or ';' as separator (detected from the header line),
 * fields in double quotes holding separators, line breaks and doubled
 * quotes, CRLF or LF line ends (a CRLF inside quotes is read as LF).
 * Blank lines between records are skipped.  Bytes are passed through as
 * they are: checking UTF-8 is the library's job.
 */
#ifndef PATRON_CLI_CSV_H
#define PATRON_CLI_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_reader csv_reader;

/** One record.  Everything is owned by the reader and valid until the next
 *  csv_read(). */
typedef struct csv_record {
    size_t n;            /**< number of fields */
    char **fields;       /**< NUL-terminated field values */
    size_t *lens;        /**< their lengths; a field holding a NUL byte has
                              strlen(fields[i]) < lens[i] */
    unsigned long line;  /**< the line the record starts on, 1-based */
    const char *error;   /**< NULL, or why the record is malformed; the
                              fields are still given as far as read */
} csv_record;

/**
 * Start reading `f` (not closed by the reader).  `sep` is ',' or ';', or 0
 * to take the one that occurs more often outside quotes in the first line
 * (',' on a tie).
 * @return 0, or -1 when out of memory or on a read error (errno set).
 */
int csv_reader_open(csv_reader **out, FILE *f, int sep);
void csv_reader_free(csv_reader *r);

/** The separator in use. */
int csv_reader_sep(const csv_reader *r);
/** The line the reader is on, 1-based. */
unsigned long csv_reader_line(const csv_reader *r);
/** Bytes of the input consumed so far. */
uint64_t csv_reader_offset(const csv_reader *r);

/** Read the next record: 1 for a record, 0 at the end of the input, -1 when
 *  out of memory or on a read error (errno set). */
int csv_read(csv_reader *r, csv_record *rec);

/**
 * Write one field to `f`: quoted when it contains the separator, a quote,
 * CR or LF (quotes doubled).  `len` bytes of `s` (NULL: an empty field).
 */
void csv_write_field(FILE *f, int sep, const char *s, size_t len);

/** Write a field from a NUL-terminated string (NULL: empty). */
void csv_write_str(FILE *f, int sep, const char *s);

/**
 * Spreadsheet formulas (OWASP "CSV injection"): a value that begins with
 * = + - @ TAB or CR — after any number of ' — is one a spreadsheet may run.
 * csv_is_formula() says whether `len` bytes of `s` are such a value.
 * csv_write_cell() writes a field like csv_write_field(), but such a value
 * with one more ' in front, quoted ("'=SUM(A1)" for =SUM(A1)), so that it
 * shows as text.  csv_unneutralise() undoes that in place on a field read
 * back: it drops the first ' of a value that is ' followed by such a value,
 * and returns the new length.  The two are inverse for every value: a value
 * that really begins with '= is written ''= and read back as '=.
 */
int csv_is_formula(const char *s, size_t len);
void csv_write_cell(FILE *f, int sep, const char *s, size_t len);
size_t csv_unneutralise(char *s, size_t len);

#endif /* PATRON_CLI_CSV_H */
