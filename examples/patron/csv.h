/*
 * patron — CSV reading and writing for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * Reading follows RFC 4180 and what spreadsheets write: an optional UTF-8
 * byte order mark, ',' ';' or TAB as separator (detected from the header
 * line), fields in double quotes holding separators, line breaks and
 * doubled quotes, CRLF or LF line ends (a CRLF inside quotes is read as
 * LF).  Blank lines between records are skipped.
 *
 * Encodings: the reader hands out UTF-8.  A UTF-8 input is passed through
 * as it is (checking UTF-8 is the library's job); UTF-16 (LE or BE) and
 * Windows-1252 inputs are transcoded on the way in.  Which one a file is,
 * csv_sniffer decides from all of its bytes before anything is read from
 * it: a caller feeds it the whole input, then opens the reader with the
 * verdict.
 */
#ifndef PATRON_CLI_CSV_H
#define PATRON_CLI_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_reader csv_reader;

/** The encodings the reader takes (and the writer's csv_out writes). */
typedef enum csv_encoding {
    CSV_ENC_AUTO = 0,  /**< decide from the bytes (csv_sniffer); for the reader: UTF-8 */
    CSV_ENC_UTF8,
    CSV_ENC_UTF16LE,
    CSV_ENC_UTF16BE,
    CSV_ENC_CP1252,    /**< Windows-1252 (Western European, what German Excel saves) */
    CSV_ENC_UTF16      /**< forced UTF-16 of either byte order: by its byte order
                            mark, else guessed from where the zero bytes are */
} csv_encoding;

/** "UTF-8", "UTF-16LE", "UTF-16BE", "Windows-1252", "UTF-16", "auto". */
const char *csv_encoding_name(csv_encoding e);

/* ---- deciding the encoding ------------------------------------------------ */

/**
 * Decides the encoding of an input from all of its bytes:
 *  - a UTF-16 byte order mark (FF FE, FE FF) gives UTF-16 LE / BE, and the
 *    rest must be valid UTF-16 (surrogates paired, an even length);
 *  - without a mark, a start whose zero bytes are all at odd (even)
 *    offsets and many is UTF-16 LE (BE) written without one;
 *  - else the input is UTF-8 when it is valid UTF-8 (with or without the
 *    mark EF BB BF), and Windows-1252 when it is not;
 *  - undecidable: a UTF-8 mark or valid UTF-8 multi-byte characters beside
 *    bytes that are not UTF-8 (a file of two encodings), NUL bytes in a
 *    file that is not UTF-8 (not text), a byte Windows-1252 does not define
 *    (0x81 0x8D 0x8F 0x90 0x9D), a UTF-32 mark, or broken UTF-16.
 * A forced encoding (csv_sniff_init) is taken as given; the input is still
 * checked against it: Windows-1252 without undefined bytes, UTF-16 valid.
 * (Forced UTF-8 is not checked: rows with invalid bytes reach the library,
 * which refuses them one by one.)  All state is in the struct: init, feed
 * any number of chunks, end.
 */
typedef struct csv_sniffer {
    csv_encoding forced;
    int more;                  /* set before csv_sniff_end() when the input goes on
                                  past what was fed (a pipe judged by its start):
                                  a character cut at the end is then no error */
    unsigned char head[4096];  /* the first bytes, kept until the layout is known */
    size_t nhead;
    int mode;                  /* 0 undecided, 1 bytes (UTF-8 / Windows-1252), 2 UTF-16 LE, 3 UTF-16 BE, 4 UTF-32 */
    int bom;                   /* the byte order mark's length, 0 if none */
    unsigned long line;        /* the line being scanned, 1-based */
    /* bytes: UTF-8 check */
    unsigned need;             /* continuation bytes still to come */
    unsigned char lo, hi;      /* the range of the next continuation byte */
    unsigned long long multibyte;      /* valid multi-byte characters */
    unsigned long multibyte_line;      /* the first one's line */
    unsigned long long invalid;        /* bytes that are not UTF-8 */
    unsigned long invalid_line;
    unsigned char invalid_byte;
    unsigned long undefined_line;      /* first byte Windows-1252 does not define */
    unsigned char undefined_byte;
    unsigned long nul_line;            /* first NUL byte */
    /* UTF-16 check */
    unsigned char odd;         /* a byte of a code unit, waiting for its other half */
    int have_odd;
    unsigned high;             /* a high surrogate waiting for its low one, or 0 */
    unsigned long bad16_line;  /* first broken code unit */
} csv_sniffer;

void csv_sniff_init(csv_sniffer *s, csv_encoding forced);
void csv_sniff_feed(csv_sniffer *s, const void *data, size_t len);
/**
 * The scan of a large input in two parts at once: t, made by
 * csv_sniff_init_rest, is fed the bytes from a '\n' on (not the start)
 * while s is fed the ones before; csv_sniff_join then makes s what it
 * would be had it been fed t's bytes too.  Only when s's bytes were
 * decided to be bytes (UTF-8 or Windows-1252, s->mode 1); otherwise s is
 * fed the rest itself.
 */
void csv_sniff_init_rest(csv_sniffer *t, csv_encoding forced);
void csv_sniff_join(csv_sniffer *s, const csv_sniffer *t);
/**
 * The verdict: 0 with *enc (CSV_ENC_UTF8, _UTF16LE, _UTF16BE or _CP1252),
 * or -1 when the encoding cannot be decided (or the input is not in the
 * forced one), with the reason and a hint in `msg`.
 */
int csv_sniff_end(csv_sniffer *s, csv_encoding *enc, char *msg, size_t cap);

/* ---- transcoding ---------------------------------------------------------- */

/** Windows-1252 byte `b` as a Unicode code point; 0 for the five bytes the
 *  code page does not define (0x81 0x8D 0x8F 0x90 0x9D). */
unsigned csv_cp1252_char(unsigned char b);

/** Code point `cp` as Windows-1252, or -1 when the code page has no such
 *  character. */
int csv_cp1252_byte(unsigned cp);

/** A decoder of UTF-16 LE/BE or Windows-1252 into UTF-8, chunk by chunk. */
typedef struct csv_decoder {
    csv_encoding enc;
    unsigned char carry[3];   /* bytes of a character cut by the chunk's end */
    size_t ncarry;
} csv_decoder;

void csv_decoder_init(csv_decoder *d, csv_encoding enc);
/** Bytes `csv_decode` may write for `len` input bytes, at most. */
#define CSV_DECODE_MAX(len) (3 * (len) + 12)
/**
 * Decode `len` bytes of `in` into `out` (room for CSV_DECODE_MAX(len)),
 * returning the bytes written.  `final` says the input ends here: a cut
 * character is then written as U+FFFD.  An unpaired surrogate becomes
 * U+FFFD too; the five bytes Windows-1252 does not define become the C1
 * controls of their value (as Windows maps them; the library refuses
 * those).  csv_sniffer refuses a file with either before.  A UTF-8
 * decoder copies.
 */
size_t csv_decode(csv_decoder *d, const void *in, size_t len, int final, char *out);

/**
 * Write `len` bytes of UTF-8 `s` to `f` in `enc` (UTF-8, UTF-16 LE/BE,
 * Windows-1252; a character Windows-1252 has not, or a byte that is not
 * UTF-8, is written as '?').  Returns the number of such replacements.
 */
size_t csv_write_encoded(FILE *f, csv_encoding enc, const char *s, size_t len);

/** One record.  Everything is owned by the reader and valid until the next
 *  csv_read(). */
typedef struct csv_record {
    size_t n;            /**< number of fields */
    char **fields;       /**< NUL-terminated field values, one after the
                              other: fields[i + 1] == fields[i] + lens[i] + 1 */
    size_t *lens;        /**< their lengths; a field holding a NUL byte has
                              strlen(fields[i]) < lens[i] */
    unsigned long line;  /**< the line the record starts on, 1-based */
    const char *error;   /**< NULL, or why the record is malformed; the
                              fields are still given as far as read */
    int plain;           /**< 1: the record was one line without a quote,
                              read whole at once: no field holds the
                              separator, a quote, a CR or a LF; 0: one may */
    int has_nul;         /**< a field holds a NUL byte (the reader saw one:
                              no field need be measured to know) */
} csv_record;

/**
 * Start reading `f` (not closed by the reader).  `sep` is ',' or ';', or 0
 * to take the one that occurs more often outside quotes in the first line
 * (',' on a tie).
 * @return 0, or -1 when out of memory or on a read error (errno set).
 */
int csv_reader_open(csv_reader **out, FILE *f, int sep);
/**
 * csv_reader_open() for an input in encoding `enc` (CSV_ENC_AUTO and
 * CSV_ENC_UTF8: UTF-8, passed through; CSV_ENC_UTF16LE, _UTF16BE and
 * _CP1252: transcoded to UTF-8).  `sep` 0 detects ',' ';' or TAB: the one
 * that occurs most often outside quotes in the first line (',' on a tie,
 * then ';').  A byte order mark at the start is skipped.
 */
int csv_reader_open_enc(csv_reader **out, FILE *f, int sep, csv_encoding enc);
/** csv_reader_open_enc() for an input whose first `len` bytes were read
 *  from `f` already (to judge a pipe's encoding): they are read first (the
 *  reader keeps a copy). */
int csv_reader_open_prefixed(csv_reader **out, FILE *f, int sep, csv_encoding enc, const void *prefix, size_t len);
void csv_reader_free(csv_reader *r);

/** The separator in use. */
int csv_reader_sep(const csv_reader *r);

/** How an input is written, for files written back in its dialect (the
 *  rejects file) and for `export --excel`. */
typedef struct csv_dialect {
    int sep;            /**< ',' ';' or '\t' */
    csv_encoding enc;   /**< CSV_ENC_UTF8, _UTF16LE, _UTF16BE or _CP1252 */
    int bom;            /**< begins with a byte order mark */
    int crlf;           /**< lines end in CR LF (else LF) */
} csv_dialect;

/** The dialect of the input: its separator, encoding, whether it had a
 *  byte order mark, and whether its first line ended in CR LF (known after
 *  the first csv_read()). */
void csv_reader_dialect(const csv_reader *r, csv_dialect *d);
/** The line the reader is on, 1-based. */
unsigned long csv_reader_line(const csv_reader *r);
/** Bytes of the input consumed so far (of the input as encoded in the file,
 *  to the chunk, when it is transcoded). */
uint64_t csv_reader_offset(const csv_reader *r);

/** Read the next record: 1 for a record, 0 at the end of the input, -1 when
 *  out of memory or on a read error (errno set). */
int csv_read(csv_reader *r, csv_record *rec);

/**
 * Write one field to `f`: quoted when it contains the separator, a quote,
 * CR or LF (quotes doubled).  `len` bytes of `s` (NULL: an empty field).
 */
void csv_write_field(FILE *f, int sep, const char *s, size_t len);

/**
 * The same for any output: the field's pieces are handed to `put` (with
 * `ctx`) in order; `neutral` as csv_write_cell() (1) or csv_write_field()
 * (0).
 */
typedef void (*csv_sink)(void *ctx, const char *s, size_t n);
void csv_put_field(csv_sink put, void *ctx, int sep, const char *s, size_t len, int neutral);
/** 1 when csv_put_field() writes the `len` bytes of `s` as they are (no
 *  quotes, no '), as most fields are: a writer of its own buffer may then
 *  copy them itself. */
int csv_field_plain(int sep, const char *s, size_t len, int neutral);

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

/**
 * Start a file in dialect `d`: the byte order mark (when d->bom, or always
 * for UTF-16, which Excel reads only with one).
 */
void csv_write_bom(FILE *f, const csv_dialect *d);
/** End a record: "\r\n" or "\n" (in UTF-16 as two or four bytes). */
void csv_write_eol(FILE *f, const csv_dialect *d);

#endif /* PATRON_CLI_CSV_H */
