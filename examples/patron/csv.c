/*
 * patron — CSV reading and writing for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CSV_BUF_SIZE (64u * 1024u)
#define CSV_EOF (-1)
#define CSV_IOERR (-2)

struct csv_reader {
    FILE *f;
    int sep;
    unsigned char *buf;
    size_t pos, len;
    uint64_t consumed_before; /* bytes of the input before buf */
    int eof;
    int ioerr;
    unsigned long line;       /* the line being read, 1-based */

    char *data;               /* field bytes of the record, each NUL-terminated */
    size_t dlen, dcap;
    size_t *starts;           /* offsets of the fields in data */
    size_t *lens;
    char **ptrs;
    size_t nf, fcap;
    char errbuf[96];
};

static int fill(csv_reader *r)
{
    if (r->eof || r->ioerr)
        return 0;
    r->consumed_before += r->len;
    r->pos = 0;
    r->len = fread(r->buf, 1, CSV_BUF_SIZE, r->f);
    if (r->len == 0) {
        if (ferror(r->f))
            r->ioerr = 1;
        else
            r->eof = 1;
        return 0;
    }
    return 1;
}

static inline int peek(csv_reader *r)
{
    if (r->pos == r->len && !fill(r))
        return r->ioerr ? CSV_IOERR : CSV_EOF;
    return r->buf[r->pos];
}

static inline int get(csv_reader *r)
{
    if (r->pos == r->len && !fill(r))
        return r->ioerr ? CSV_IOERR : CSV_EOF;
    return r->buf[r->pos++];
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    while (n < need) {
        if (n > ((size_t)-1) / 2 / elem)
            return -1;
        n *= 2;
    }
    q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static inline int add_byte(csv_reader *r, int c)
{
    if (r->dlen == r->dcap && grow((void **)&r->data, &r->dcap, r->dlen + 1, 1) < 0)
        return -1;
    r->data[r->dlen++] = (char)c;
    return 0;
}

static int end_field(csv_reader *r, size_t start)
{
    if (r->nf == r->fcap) {
        size_t cap = r->fcap;
        size_t cap2 = r->fcap;
        size_t cap3 = r->fcap;
        if (grow((void **)&r->starts, &cap, r->nf + 1, sizeof *r->starts) < 0 ||
            grow((void **)&r->lens, &cap2, r->nf + 1, sizeof *r->lens) < 0 ||
            grow((void **)&r->ptrs, &cap3, r->nf + 1, sizeof *r->ptrs) < 0)
            return -1;
        r->fcap = cap;
    }
    r->starts[r->nf] = start;
    r->lens[r->nf] = r->dlen - start;
    r->nf++;
    return add_byte(r, '\0');
}

static void set_error(csv_reader *r, const char *msg)
{
    if (!r->errbuf[0])
        snprintf(r->errbuf, sizeof r->errbuf, "field %zu: %s", r->nf + 1, msg);
}

/* Count ',' and ';' outside quotes in the first line of what is buffered. */
static int detect_sep(const csv_reader *r)
{
    size_t commas = 0, semis = 0;
    int quoted = 0;
    size_t i;

    for (i = r->pos; i < r->len; i++) {
        unsigned char c = r->buf[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == '\n' || c == '\r'))
            break;
        else if (!quoted && c == ',')
            commas++;
        else if (!quoted && c == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

int csv_reader_open(csv_reader **out, FILE *f, int sep)
{
    csv_reader *r = calloc(1, sizeof *r);

    *out = NULL;
    if (!r)
        return -1;
    r->buf = malloc(CSV_BUF_SIZE);
    if (!r->buf) {
        free(r);
        return -1;
    }
    r->f = f;
    r->line = 1;
    fill(r);
    if (r->ioerr) {
        int e = errno;
        csv_reader_free(r);
        errno = e ? e : EIO;
        return -1;
    }
    if (r->len >= 3 && r->buf[0] == 0xEF && r->buf[1] == 0xBB && r->buf[2] == 0xBF)
        r->pos = 3;
    r->sep = sep ? sep : detect_sep(r);
    *out = r;
    return 0;
}

void csv_reader_free(csv_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->data);
    free(r->starts);
    free(r->lens);
    free(r->ptrs);
    free(r);
}

int csv_reader_sep(const csv_reader *r)
{
    return r->sep;
}

unsigned long csv_reader_line(const csv_reader *r)
{
    return r->line;
}

uint64_t csv_reader_offset(const csv_reader *r)
{
    return r->consumed_before + r->pos;
}

enum { ST_START, ST_PLAIN, ST_QUOTED, ST_AFTER };

int csv_read(csv_reader *r, csv_record *rec)
{
    int state = ST_START;
    size_t start = 0;
    int c;
    size_t i;

    r->nf = 0;
    r->dlen = 0;
    r->errbuf[0] = '\0';

    /* Skip blank lines. */
    for (;;) {
        c = peek(r);
        if (c == '\n') {
            r->pos++;
            r->line++;
        } else if (c == '\r') {
            r->pos++;
            if (peek(r) == '\n')
                r->pos++;
            r->line++;
        } else {
            break;
        }
    }
    if (c == CSV_IOERR)
        return -1;
    if (c == CSV_EOF)
        return 0;
    rec->line = r->line;

    for (;;) {
        c = get(r);
        if (c == CSV_IOERR)
            return -1;
        switch (state) {
        case ST_START:
            start = r->dlen;
            if (c == '"') {
                state = ST_QUOTED;
                continue;
            }
            state = ST_PLAIN;
            /* fall through */
        case ST_PLAIN:
        plain:
            if (c == r->sep) {
                if (end_field(r, start) < 0)
                    return -1;
                state = ST_START;
                continue;
            }
            if (c == '\n' || c == '\r' || c == CSV_EOF)
                goto end_record;
            if (add_byte(r, c) < 0)
                return -1;
            continue;
        case ST_QUOTED:
            if (c == '"') {
                if (peek(r) == '"') {
                    r->pos++;
                    if (add_byte(r, '"') < 0)
                        return -1;
                } else {
                    state = ST_AFTER;
                }
                continue;
            }
            if (c == CSV_EOF) {
                set_error(r, "quoted field not closed before the end of the file");
                goto end_record;
            }
            if (c == '\r' && peek(r) == '\n') {
                r->pos++;
                c = '\n';
            }
            if (c == '\n')
                r->line++;
            if (add_byte(r, c) < 0)
                return -1;
            continue;
        case ST_AFTER:
            if (c == r->sep || c == '\n' || c == '\r' || c == CSV_EOF) {
                state = ST_PLAIN;
                goto plain;
            }
            set_error(r, "text after the closing quote");
            state = ST_PLAIN;
            goto plain;
        default:
            break;
        }
    }

end_record:
    if (c == '\r' && peek(r) == '\n')
        r->pos++;
    if (c == '\n' || c == '\r')
        r->line++;
    if (end_field(r, start) < 0)
        return -1;
    for (i = 0; i < r->nf; i++)
        r->ptrs[i] = r->data + r->starts[i];
    rec->n = r->nf;
    rec->fields = r->ptrs;
    rec->lens = r->lens;
    rec->error = r->errbuf[0] ? r->errbuf : NULL;
    return 1;
}

/* OWASP "CSV injection": a spreadsheet runs a cell that begins with one of
 * these as a formula. */
static int formula_start(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

int csv_is_formula(const char *s, size_t len)
{
    size_t i = 0;
    if (!s)
        return 0;
    while (i < len && s[i] == '\'')
        i++;
    return i < len && formula_start(s[i]);
}

size_t csv_unneutralise(char *s, size_t len)
{
    if (!s || len < 2 || s[0] != '\'' || !csv_is_formula(s, len))
        return len;
    memmove(s, s + 1, len); /* with the NUL after the field */
    return len - 1;
}

static void write_field(FILE *f, int sep, const char *s, size_t len, int neutral)
{
    size_t i, from;
    int quote = 0, prefix = neutral && csv_is_formula(s, len);

    if (!s || !len)
        return;
    /* A neutralised cell is quoted too, as OWASP advises: some programs
     * drop the quote character of an unquoted cell. */
    quote = prefix;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == sep || c == '"' || c == '\n' || c == '\r') {
            quote = 1;
            break;
        }
    }
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    putc('"', f);
    if (prefix)
        putc('\'', f);
    for (from = 0, i = 0; i < len; i++) {
        if (s[i] == '"') {
            fwrite(s + from, 1, i + 1 - from, f);
            putc('"', f);
            from = i + 1;
        }
    }
    fwrite(s + from, 1, len - from, f);
    putc('"', f);
}

void csv_write_field(FILE *f, int sep, const char *s, size_t len)
{
    write_field(f, sep, s, len, 0);
}

void csv_write_cell(FILE *f, int sep, const char *s, size_t len)
{
    write_field(f, sep, s, len, 1);
}

void csv_write_str(FILE *f, int sep, const char *s)
{
    csv_write_field(f, sep, s, s ? strlen(s) : 0);
}
