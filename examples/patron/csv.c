/*
 * patron — CSV reading and writing for the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "csv.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CSV_BUF_SIZE (64u * 1024u)
/* Raw bytes read per chunk when transcoding: their UTF-8 fits in buf. */
#define CSV_RAW_SIZE ((CSV_BUF_SIZE - 12u) / 3u)
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

    csv_encoding enc;         /* of the input; buf holds UTF-8 */
    csv_decoder dec;
    unsigned char *raw;       /* a chunk as read, when transcoding */
    uint64_t raw_consumed;
    unsigned char *prefix;    /* bytes read from f before the reader (a pipe's start) */
    size_t prefix_pos, prefix_len;
    int bom;                  /* the input began with a byte order mark */
    int crlf;                 /* its first line ended in CR LF */
    int first_done;           /* the first record has been read */

    char *data;               /* field bytes of the record, each NUL-terminated */
    size_t dlen, dcap;
    size_t *starts;           /* offsets of the fields in data */
    size_t *lens;
    char **ptrs;
    size_t nf, fcap;
    char errbuf[96];
};

static int transcoding(const csv_reader *r)
{
    return r->enc == CSV_ENC_UTF16LE || r->enc == CSV_ENC_UTF16BE || r->enc == CSV_ENC_CP1252;
}

/* Read input: the prefix first, then the file. */
static size_t read_raw(csv_reader *r, unsigned char *to, size_t cap)
{
    size_t n = 0;

    if (r->prefix_pos < r->prefix_len) {
        n = r->prefix_len - r->prefix_pos;
        if (n > cap)
            n = cap;
        memcpy(to, r->prefix + r->prefix_pos, n);
        r->prefix_pos += n;
    }
    /* a full chunk, as fread() gives one: the separator is looked for in
     * the first */
    if (n < cap)
        n += fread(to + n, 1, cap - n, r->f);
    return n;
}

/* fill() for an input in another encoding: read raw chunks until one gives
 * some UTF-8 (a lone byte of a UTF-16 code unit gives none yet). */
static int fill_transcoded(csv_reader *r)
{
    r->consumed_before += r->len;
    r->pos = 0;
    r->len = 0;
    while (r->len == 0) {
        size_t n = read_raw(r, r->raw, CSV_RAW_SIZE);
        if (n == 0) {
            if (ferror(r->f)) {
                r->ioerr = 1;
                return 0;
            }
            r->len = csv_decode(&r->dec, r->raw, 0, 1, (char *)r->buf);
            if (r->len == 0) {
                r->eof = 1;
                return 0;
            }
            return 1;
        }
        r->raw_consumed += n;
        r->len = csv_decode(&r->dec, r->raw, n, 0, (char *)r->buf);
    }
    return 1;
}

static int fill(csv_reader *r)
{
    if (r->eof || r->ioerr)
        return 0;
    if (transcoding(r))
        return fill_transcoded(r);
    r->consumed_before += r->len;
    r->pos = 0;
    r->len = read_raw(r, r->buf, CSV_BUF_SIZE);
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

/* Room for `need` fields (apart from end_field, which is then small
 * enough to be inlined: it was a call per field). */
static int __attribute__((noinline)) fields_grow(csv_reader *r, size_t need)
{
    size_t cap = r->fcap;
    size_t cap2 = r->fcap;
    size_t cap3 = r->fcap;
    if (grow((void **)&r->starts, &cap, need, sizeof *r->starts) < 0 ||
        grow((void **)&r->lens, &cap2, need, sizeof *r->lens) < 0 ||
        grow((void **)&r->ptrs, &cap3, need, sizeof *r->ptrs) < 0)
        return -1;
    r->fcap = cap;
    return 0;
}

static inline int end_field(csv_reader *r, size_t start)
{
    if (r->nf == r->fcap && fields_grow(r, r->nf + 1) < 0)
        return -1;
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

/* Count ',' ';' and TAB outside quotes in the first line of what is
 * buffered: the most frequent wins (',' on a tie, then ';'). */
static int detect_sep(const csv_reader *r)
{
    size_t commas = 0, semis = 0, tabs = 0;
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
        else if (!quoted && c == '\t')
            tabs++;
    }
    if (tabs > commas && tabs > semis)
        return '\t';
    return semis > commas ? ';' : ',';
}

int csv_reader_open(csv_reader **out, FILE *f, int sep)
{
    return csv_reader_open_enc(out, f, sep, CSV_ENC_UTF8);
}

int csv_reader_open_enc(csv_reader **out, FILE *f, int sep, csv_encoding enc)
{
    return csv_reader_open_prefixed(out, f, sep, enc, NULL, 0);
}

int csv_reader_open_prefixed(csv_reader **out, FILE *f, int sep, csv_encoding enc, const void *prefix, size_t len)
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
    if (len) {
        if (!(r->prefix = malloc(len))) {
            csv_reader_free(r);
            return -1;
        }
        memcpy(r->prefix, prefix, len);
        r->prefix_len = len;
    }
    r->f = f;
    r->line = 1;
    r->enc = enc == CSV_ENC_UTF16LE || enc == CSV_ENC_UTF16BE || enc == CSV_ENC_CP1252 ? enc : CSV_ENC_UTF8;
    csv_decoder_init(&r->dec, r->enc);
    if (transcoding(r) && !(r->raw = malloc(CSV_RAW_SIZE))) {
        csv_reader_free(r);
        return -1;
    }
    fill(r);
    if (r->ioerr) {
        int e = errno;
        csv_reader_free(r);
        errno = e ? e : EIO;
        return -1;
    }
    /* (a UTF-16 mark is U+FEFF too, EF BB BF once decoded) */
    if (r->len >= 3 && r->buf[0] == 0xEF && r->buf[1] == 0xBB && r->buf[2] == 0xBF) {
        r->pos = 3;
        r->bom = 1;
    }
    r->sep = sep ? sep : detect_sep(r);
    *out = r;
    return 0;
}

void csv_reader_free(csv_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->raw);
    free(r->prefix);
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
    return transcoding(r) ? r->raw_consumed : r->consumed_before + r->pos;
}

void csv_reader_dialect(const csv_reader *r, csv_dialect *d)
{
    d->sep = r->sep;
    d->enc = r->enc;
    d->bom = r->bom;
    d->crlf = r->crlf;
}

enum { ST_START, ST_PLAIN, ST_QUOTED, ST_AFTER };

#if defined(__SSE2__)
/* The record at r->pos when it is one line of plain fields that lies in
 * the buffer as a whole (most records of most files): no quote, no NUL
 * and no CR but the one of a CR LF end in it.  Its fields are found
 * sixteen bytes at a time and the line copied into data at once, the
 * separators made NULs: data, starts and lens as the byte-wise reading
 * below makes them (it was most of reading a file: a get(), a switch and
 * a copy per field).  Returns the character that ended it ('\n' or
 * '\r'), 0 when the record is none such (nothing read: the caller reads
 * it byte-wise), -1 when out of memory.  The loads never pass the
 * buffer's filled bytes; a line whose end is not within them is left to
 * the caller. */
static int read_plain_line(csv_reader *r)
{
    const unsigned char *b = r->buf + r->pos, *q = b;
    size_t avail = r->len - r->pos, fs = 0, line_len;
    const __m128i vs = _mm_set1_epi8((char)r->sep), vq = _mm_set1_epi8('"'), vr = _mm_set1_epi8('\r'),
                  vn = _mm_set1_epi8('\n'), vz = _mm_setzero_si128();
    /* (the count and the arrays in locals: through r, each store to them
     * made the compiler load them again) */
    size_t nf = 0, *starts = r->starts, *lens = r->lens;
    char *data, **ptrs;
    int c;
    if (r->sep == '"' || r->sep == '\r' || r->sep == '\n' || r->sep == 0)
        return 0;
    for (;; q += 16) {
        unsigned ms, mx, end;
        __m128i w;
        if ((size_t)(q - b) + 16 > avail)
            goto none;
        w = _mm_loadu_si128((const __m128i *)(const void *)q);
        ms = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vs));
        mx = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, vq), _mm_cmpeq_epi8(w, vr)),
                                                      _mm_or_si128(_mm_cmpeq_epi8(w, vn), _mm_cmpeq_epi8(w, vz))));
        end = mx ? (unsigned)__builtin_ctz(mx) : 16;
        ms &= (1u << end) - 1; /* the separators before the line's end */
        /* room for the fields these 16 bytes end and the line's last one,
         * made once here (not tested for each field) */
        if (nf + 17 > r->fcap) {
            if (fields_grow(r, nf + 17) < 0)
                return -1;
            starts = r->starts;
            lens = r->lens;
        }
        while (ms) {
            size_t at = (size_t)(q - b) + (unsigned)__builtin_ctz(ms);
            starts[nf] = fs;
            lens[nf] = at - fs;
            nf++;
            fs = at + 1;
            ms &= ms - 1;
        }
        if (end < 16) {
            line_len = (size_t)(q - b) + end;
            c = q[end];
            if (c == '\n')
                break;
            /* a CR ends the line only before a LF here (a lone one, a
             * quote or a NUL: byte-wise) */
            if (c == '\r' && line_len + 1 < avail && b[line_len + 1] == '\n')
                break;
            goto none;
        }
    }
    starts[nf] = fs;
    lens[nf] = line_len - fs;
    nf++;
    if (line_len + 1 > r->dcap && grow((void **)&r->data, &r->dcap, line_len + 1, 1) < 0)
        return -1;
    data = r->data;
    ptrs = r->ptrs;
    memcpy(data, b, line_len);
    /* each field's end (its separator, the line's end) made its NUL, and
     * its pointer set, in one pass (csv_read's own pass is skipped) */
    for (size_t i = 0; i < nf; i++) {
        ptrs[i] = data + starts[i];
        ptrs[i][lens[i]] = '\0';
    }
    r->nf = nf;
    r->dlen = line_len + 1;
    r->pos += line_len + 1 + (c == '\r');
    return c;
none:
    r->nf = 0;
    return 0;
}
#endif

int csv_read(csv_reader *r, csv_record *rec)
{
    int state = ST_START;
    size_t start = 0;
    int c, nul = 0, plain = 0;
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
#if defined(__SSE2__)
    if ((c = read_plain_line(r)) < 0)
        return -1;
    if (c) {
        if (!r->first_done) {
            r->first_done = 1;
            r->crlf = c == '\r';
        }
        r->line++;
        plain = 1;
        goto plain_done;
    }
#endif

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
            nul |= c == 0;
            if (c) {
                r->pos--; /* (get left it at buf[pos - 1]): copied with the rest below */
            } else if (add_byte(r, c) < 0) {
                return -1;
            }
            {
                /* the rest of a plain field in the buffer at once (byte by
                 * byte this was most of reading a file) */
                const unsigned char *b = r->buf + r->pos, *e = r->buf + r->len, *q = b;
                size_t k;
                /* eight bytes at a time while none is a separator, a line
                 * end or a NUL (left to the step above, which notes it
                 * for has_nul) (a zero byte of w ^ that byte, exactly: no
                 * borrow without one); in the word that has one, the
                 * lowest flagged byte is the first (a borrow only flags
                 * bytes above a zero byte): read off the mask in a
                 * little-endian word, byte by byte otherwise and at the
                 * end of the buffer */
                const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
                const uint64_t ms = ones * (unsigned char)r->sep, mn = ones * '\n', mr = ones * '\r';
                int found = 0;
                while (e - q >= 8) {
                    uint64_t w, xs, xn, xr, hit;
                    memcpy(&w, q, 8);
                    xs = w ^ ms;
                    xn = w ^ mn;
                    xr = w ^ mr;
                    hit = (((xs - ones) & ~xs) | ((xn - ones) & ~xn) | ((xr - ones) & ~xr) | ((w - ones) & ~w)) & highs;
                    if (hit) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        q += (unsigned)__builtin_ctzll(hit) / 8;
                        found = 1;
#endif
                        break;
                    }
                    q += 8;
                }
                while (!found && q < e && *q != r->sep && *q != '\n' && *q != '\r' && *q)
                    q++;
                k = (size_t)(q - b);
                if (k) {
                    if (r->dlen + k > r->dcap && grow((void **)&r->data, &r->dcap, r->dlen + k, 1) < 0)
                        return -1;
                    memcpy(r->data + r->dlen, b, k);
                    r->dlen += k;
                    r->pos += k;
                }
                /* the separator that ends it, here (not read again above) */
                if (q < e && *q == r->sep) {
                    r->pos++;
                    if (end_field(r, start) < 0)
                        return -1;
                    state = ST_START;
                }
            }
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
            nul |= c == 0;
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
    if (!r->first_done) {
        r->first_done = 1;
        r->crlf = c == '\r' && peek(r) == '\n';
    }
    if (c == '\r' && peek(r) == '\n')
        r->pos++;
    if (c == '\n' || c == '\r')
        r->line++;
    if (end_field(r, start) < 0)
        return -1;
    for (i = 0; i < r->nf; i++)
        r->ptrs[i] = r->data + r->starts[i];
#if defined(__SSE2__)
plain_done:
#endif
    rec->n = r->nf;
    rec->fields = r->ptrs;
    rec->lens = r->lens;
    rec->error = r->errbuf[0] ? r->errbuf : NULL;
    rec->has_nul = nul;
    rec->plain = plain;
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

/* Has s[0, len) a byte that asks for quotes (sep, '"', LF, CR)?  Eight
 * bytes at a time (a word has a byte c exactly when w ^ c*ones has a zero
 * byte: whichever byte it is, the answer is exact), from eight bytes on
 * the last eight of the field as the last word (some bytes are tested
 * twice, none is read past the field), byte by byte below eight: every
 * key and name of 'patron dedupe' is scanned so. */
static int asks_quotes(int sep, const char *s, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    /* (a byte is sep as the byte-wise test below has it, c == sep with c a
     * char: no byte is a sep outside the range of char, there '"' stands
     * in for it) */
    const uint64_t ms = ones * (sep >= CHAR_MIN && sep <= CHAR_MAX ? (unsigned char)sep : '"'), mq = ones * '"',
                   mn = ones * '\n', mr = ones * '\r';
    size_t i = 0;
    if (len < 8) {
        for (; i < len; i++) {
            char c = s[i];
            if (c == sep || c == '"' || c == '\n' || c == '\r')
                return 1;
        }
        return 0;
    }
    for (;;) {
        uint64_t w, xs, xq, xn, xr;
        memcpy(&w, s + i, 8);
        xs = w ^ ms;
        xq = w ^ mq;
        xn = w ^ mn;
        xr = w ^ mr;
        if ((((xs - ones) & ~xs) | ((xq - ones) & ~xq) | ((xn - ones) & ~xn) | ((xr - ones) & ~xr)) & highs)
            return 1;
        if (i == len - 8)
            return 0;
        i = len - i >= 16 ? i + 8 : len - 8;
    }
}

int csv_field_plain(int sep, const char *s, size_t len, int neutral)
{
    /* (a formula begins with one of its bytes or a ': the call only then) */
    return !(neutral && len && (s[0] == '\'' || formula_start(s[0])) && csv_is_formula(s, len)) &&
           !asks_quotes(sep, s, len);
}

void csv_put_field(csv_sink put, void *ctx, int sep, const char *s, size_t len, int neutral)
{
    size_t i, from;
    int prefix;

    if (!s || !len)
        return;
    if (csv_field_plain(sep, s, len, neutral)) {
        put(ctx, s, len);
        return;
    }
    /* A neutralised cell is quoted too, as OWASP advises: some programs
     * drop the quote character of an unquoted cell. */
    prefix = neutral && csv_is_formula(s, len);
    put(ctx, prefix ? "\"'" : "\"", prefix ? 2 : 1);
    for (from = 0, i = 0; i < len; i++) {
        if (s[i] == '"') {
            put(ctx, s + from, i + 1 - from);
            put(ctx, "\"", 1);
            from = i + 1;
        }
    }
    put(ctx, s + from, len - from);
    put(ctx, "\"", 1);
}

static void file_put(void *f, const char *s, size_t n)
{
    fwrite(s, 1, n, f);
}

static void write_field(FILE *f, int sep, const char *s, size_t len, int neutral)
{
    csv_put_field(file_put, f, sep, s, len, neutral);
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

/* ---- encodings ------------------------------------------------------------ */

const char *csv_encoding_name(csv_encoding e)
{
    switch (e) {
    case CSV_ENC_UTF8:
        return "UTF-8";
    case CSV_ENC_UTF16LE:
        return "UTF-16LE";
    case CSV_ENC_UTF16BE:
        return "UTF-16BE";
    case CSV_ENC_CP1252:
        return "Windows-1252";
    case CSV_ENC_UTF16:
        return "UTF-16";
    default:
        return "auto";
    }
}

/* Windows-1252 0x80..0x9F; 0 where the code page defines nothing.  The
 * rest is ASCII below and Latin-1 (U+00A0..U+00FF) above. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, /* 80-87 */
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,      /* 88-8F */
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, /* 90-97 */
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178, /* 98-9F */
};

unsigned csv_cp1252_char(unsigned char b)
{
    return b >= 0x80 && b < 0xA0 ? cp1252_high[b - 0x80] : b;
}

int csv_cp1252_byte(unsigned cp)
{
    int i;

    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
        return (int)cp;
    if (cp < 0x100)
        return -1; /* the C1 controls are not in the code page */
    for (i = 0; i < 32; i++)
        if (cp1252_high[i] == cp)
            return 0x80 + i;
    return -1;
}

static size_t put_utf8(char *out, unsigned cp)
{
    unsigned char *o = (unsigned char *)out;

    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

#define REPLACEMENT 0xFFFDu

/* ---- the sniffer ---- */

void csv_sniff_init(csv_sniffer *s, csv_encoding forced)
{
    memset(s, 0, sizeof *s);
    s->forced = forced;
    s->line = 1;
}

/* Zero bytes at even and odd offsets of the start: text of UTF-16 without
 * a mark has one of the two full of them (ASCII letters), the other free. */
static int guess_utf16(const csv_sniffer *s)
{
    size_t i, even = 0, odd = 0, pairs = s->nhead / 2;

    for (i = 0; i + 1 < s->nhead; i += 2) {
        even += s->head[i] == 0;
        odd += s->head[i + 1] == 0;
    }
    if (pairs >= 2 && odd * 4 >= pairs && even == 0)
        return 2;
    if (pairs >= 2 && even * 4 >= pairs && odd == 0)
        return 3;
    return 0;
}

static void decide_mode(csv_sniffer *s)
{
    const unsigned char *h = s->head;
    size_t n = s->nhead;
    int le = n >= 2 && h[0] == 0xFF && h[1] == 0xFE, be = n >= 2 && h[0] == 0xFE && h[1] == 0xFF;
    int u8 = n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF;

    switch (s->forced) {
    case CSV_ENC_UTF8:
    case CSV_ENC_CP1252:
        s->mode = 1;
        s->bom = s->forced == CSV_ENC_UTF8 && u8 ? 3 : 0;
        return;
    case CSV_ENC_UTF16LE:
        s->mode = 2;
        s->bom = le ? 2 : 0;
        return;
    case CSV_ENC_UTF16BE:
        s->mode = 3;
        s->bom = be ? 2 : 0;
        return;
    case CSV_ENC_UTF16:
        s->mode = le ? 2 : be ? 3 : guess_utf16(s) ? guess_utf16(s) : 2;
        s->bom = le || be ? 2 : 0;
        return;
    default:
        break;
    }
    if ((n >= 4 && le && h[2] == 0 && h[3] == 0) || (n >= 4 && !h[0] && !h[1] && h[2] == 0xFE && h[3] == 0xFF)) {
        s->mode = 4; /* UTF-32 */
    } else if (le || be) {
        s->mode = le ? 2 : 3;
        s->bom = 2;
    } else if (u8) {
        s->mode = 1;
        s->bom = 3;
    } else {
        s->mode = guess_utf16(s);
        if (!s->mode)
            s->mode = 1;
    }
}

static void bad_byte(csv_sniffer *s, unsigned char b)
{
    if (!s->invalid++) {
        s->invalid_line = s->line;
        s->invalid_byte = b;
    }
}

/* The line ends in [a, b). */
static unsigned long count_nl(const unsigned char *a, const unsigned char *b)
{
    unsigned long n = 0;
#if defined(__SSE2__)
    /* sixty-four bytes at a time (a memchr per line was a call every ~80
     * bytes, on the start of every run): each LF adds 1 to its byte of
     * acc (cmpeq gives -1, subtracted), 4 per round at most, the bytes
     * summed (sad) after 63 rounds, before one could pass 255 */
    const __m128i nl = _mm_set1_epi8('\n'), z = _mm_setzero_si128();
    while (b - a >= 64) {
        __m128i acc = z;
        for (int k = 0; k < 63 && b - a >= 64; k++, a += 64) {
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)a), nl));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(a + 16)), nl));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(a + 32)), nl));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(a + 48)), nl));
        }
        acc = _mm_sad_epu8(acc, z);
        n += (unsigned long)_mm_cvtsi128_si32(acc) + (unsigned long)_mm_cvtsi128_si32(_mm_srli_si128(acc, 8));
    }
#endif
    while (a < b && (a = memchr(a, '\n', (size_t)(b - a))) != NULL) {
        n++;
        a++;
    }
    return n;
}

/* s->line at p + i: the line ends from *lp on counted (lines are counted
 * only where one is wanted, and at the end of the chunk: counting them in
 * every word was most of the scan of a file) */
static unsigned long line_at(csv_sniffer *s, const unsigned char **lp, const unsigned char *at)
{
    s->line += count_nl(*lp, at);
    *lp = at;
    return s->line;
}

static void scan_bytes(csv_sniffer *s, const unsigned char *p, size_t len)
{
    size_t i;
    const unsigned char *lp = p; /* s->line is the line at lp */

    for (i = 0; i < len; i++) {
        unsigned char b = p[i];

        /* eight bytes of ASCII without a NUL at once (most of a file); a
         * word with a byte >= 0x80 or a NUL skips the ASCII bytes before
         * the first such byte (an umlaut in a name no longer sends the
         * eight bytes around it one at a time) */
#if defined(__SSE2__)
        /* sixty-four bytes at once with SSE2 (x86-64 has it): a byte from
         * 1 to 0x7F is above zero as a signed byte; the words below find
         * where the first other one is.  (The scan of the whole file runs
         * before anything else: all of it is waited for.) */
        while (!s->need && len - i >= 64) {
            const __m128i z = _mm_setzero_si128();
            __m128i a = _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), z);
            __m128i b2 = _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i + 16)), z);
            __m128i c = _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i + 32)), z);
            __m128i d = _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i + 48)), z);
            if (_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(a, b2), _mm_and_si128(c, d))) != 0xFFFF) {
                /* the first such byte (bit k: byte k) */
                uint64_t odd = ~((uint64_t)(unsigned)_mm_movemask_epi8(a) |
                                 (uint64_t)(unsigned)_mm_movemask_epi8(b2) << 16 |
                                 (uint64_t)(unsigned)_mm_movemask_epi8(c) << 32 |
                                 (uint64_t)(unsigned)_mm_movemask_epi8(d) << 48);
                i += (unsigned)__builtin_ctzll(odd);
                goto one; /* (the words below would stop at it at once) */
            }
            i += 64;
        }
#endif
        while (!s->need && len - i >= 16) {
            uint64_t w, v, zw, zv;
            memcpy(&w, p + i, 8);
            memcpy(&v, p + i + 8, 8);
            zw = (w - UINT64_C(0x0101010101010101)) & ~w;
            zv = (v - UINT64_C(0x0101010101010101)) & ~v;
            if (!((w | v | zw | zv) & UINT64_C(0x8080808080808080))) {
                i += 16;
                continue;
            }
            break;
        }
        while (!s->need && len - i >= 8) {
            uint64_t w, odd;
            memcpy(&w, p + i, 8);
            /* the lowest set bit is exact: the first byte >= 0x80 or NUL
             * (a borrow only reaches bytes above a NUL) */
            odd = (w & UINT64_C(0x8080808080808080)) |
                  ((w - UINT64_C(0x0101010101010101)) & ~w & UINT64_C(0x8080808080808080));
            if (odd) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* (byte k of the word is bits 8k..8k+7) */
                i += (unsigned)__builtin_ctzll(odd) / 8;
#endif
                break; /* that byte: one at a time */
            }
            i += 8;
        }
#if defined(__SSE2__)
    one:
#endif
        if (i == len)
            break;
        b = p[i];
        /* a valid two-byte UTF-8 character (an umlaut, ß) whole */
        if (!s->need && b >= 0xC2 && b <= 0xDF && len - i >= 2 && p[i + 1] >= 0x80 && p[i + 1] <= 0xBF &&
            (s->undefined_line || !(p[i + 1] == 0x81 || p[i + 1] == 0x8D || p[i + 1] == 0x8F ||
                                     p[i + 1] == 0x90 || p[i + 1] == 0x9D))) {
            if (!s->multibyte++)
                s->multibyte_line = line_at(s, &lp, p + i);
            i++;
            continue;
        }
        if ((b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) && !s->undefined_line) {
            s->undefined_line = line_at(s, &lp, p + i);
            s->undefined_byte = b;
        }
        if (s->need) {
            if (b >= s->lo && b <= s->hi) {
                s->lo = 0x80;
                s->hi = 0xBF;
                if (--s->need == 0 && !s->multibyte++)
                    s->multibyte_line = line_at(s, &lp, p + i);
                continue;
            }
            /* a sequence cut short: its lead was no UTF-8; b starts anew */
            s->need = 0;
            line_at(s, &lp, p + i);
            bad_byte(s, b);
        }
        if (b < 0x80) {
            if (b == 0 && !s->nul_line)
                s->nul_line = line_at(s, &lp, p + i);
            continue;
        }
        s->lo = 0x80;
        s->hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            s->need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            s->need = 2;
            if (b == 0xE0)
                s->lo = 0xA0; /* no over-long forms */
            else if (b == 0xED)
                s->hi = 0x9F; /* no surrogates */
        } else if (b >= 0xF0 && b <= 0xF4) {
            s->need = 3;
            if (b == 0xF0)
                s->lo = 0x90;
            else if (b == 0xF4)
                s->hi = 0x8F; /* up to U+10FFFF */
        } else {
            line_at(s, &lp, p + i);
            bad_byte(s, b);
        }
    }
    line_at(s, &lp, p + len);
}

static void bad_unit(csv_sniffer *s)
{
    if (!s->bad16_line)
        s->bad16_line = s->line;
}

static void scan_utf16(csv_sniffer *s, const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned u;

        if (!s->have_odd) {
            s->odd = p[i];
            s->have_odd = 1;
            continue;
        }
        s->have_odd = 0;
        u = s->mode == 2 ? (unsigned)s->odd | (unsigned)p[i] << 8 : (unsigned)s->odd << 8 | p[i];
        if (s->high) {
            s->high = 0;
            if (u >= 0xDC00 && u <= 0xDFFF)
                continue;
            bad_unit(s);
        }
        if (u >= 0xD800 && u <= 0xDBFF)
            s->high = u;
        else if (u >= 0xDC00 && u <= 0xDFFF)
            bad_unit(s);
        else if (u == '\n')
            s->line++;
        else if (u == 0 && !s->nul_line)
            s->nul_line = s->line;
    }
}

static void scan(csv_sniffer *s, const unsigned char *p, size_t len)
{
    if (s->mode == 1)
        scan_bytes(s, p, len);
    else if (s->mode == 2 || s->mode == 3)
        scan_utf16(s, p, len);
}

void csv_sniff_feed(csv_sniffer *s, const void *data, size_t len)
{
    const unsigned char *p = data;

    if (s->mode == 0) {
        size_t take = sizeof s->head - s->nhead;
        if (take > len)
            take = len;
        memcpy(s->head + s->nhead, p, take);
        s->nhead += take;
        p += take;
        len -= take;
        if (s->nhead < sizeof s->head)
            return;
        decide_mode(s);
        scan(s, s->head + s->bom, s->nhead - (size_t)s->bom);
    }
    scan(s, p, len);
}

void csv_sniff_init_rest(csv_sniffer *t, csv_encoding forced)
{
    csv_sniff_init(t, forced);
    t->mode = 1;
    t->line = 0; /* its lines count from where it starts: csv_sniff_join adds s's */
}

/* Each finding of s stays when it has one; else t's, its line after s's. */
void csv_sniff_join(csv_sniffer *s, const csv_sniffer *t)
{
    if (s->need) { /* t's first byte, the '\n', cut a sequence short (scan_bytes) */
        s->need = 0;
        bad_byte(s, '\n');
    }
    if (!s->multibyte && t->multibyte)
        s->multibyte_line = s->line + t->multibyte_line;
    s->multibyte += t->multibyte;
    if (!s->invalid && t->invalid) {
        s->invalid_line = s->line + t->invalid_line;
        s->invalid_byte = t->invalid_byte;
    }
    s->invalid += t->invalid;
    if (!s->undefined_line && t->undefined_line) {
        s->undefined_line = s->line + t->undefined_line;
        s->undefined_byte = t->undefined_byte;
    }
    if (!s->nul_line && t->nul_line)
        s->nul_line = s->line + t->nul_line;
    s->need = t->need;
    s->lo = t->lo;
    s->hi = t->hi;
    s->line += t->line;
}

int csv_sniff_end(csv_sniffer *s, csv_encoding *enc, char *msg, size_t cap)
{
    const char *hint = "save the file again as UTF-8 (in Excel: \"CSV UTF-8\"), or give its encoding "
                       "with --encoding utf-8|utf-16|cp1252";

    if (s->mode == 0) {
        decide_mode(s);
        scan(s, s->head + s->bom, s->nhead - (size_t)s->bom);
    }
    *enc = CSV_ENC_UTF8;
    if (s->mode == 4) {
        snprintf(msg, cap, "the file is UTF-32, which is not read: %s", hint);
        return -1;
    }
    if (s->mode == 2 || s->mode == 3) {
        if ((s->have_odd || s->high) && !s->more)
            bad_unit(s);
        if (s->bad16_line) {
            snprintf(msg, cap, "the file is not valid %s (line %lu%s): %s", s->mode == 2 ? "UTF-16LE" : "UTF-16BE",
                     s->bad16_line, s->have_odd ? ", or an odd number of bytes" : "", hint);
            return -1;
        }
        *enc = s->mode == 2 ? CSV_ENC_UTF16LE : CSV_ENC_UTF16BE;
        return 0;
    }
    if (s->need && !s->more) {
        s->need = 0;
        bad_byte(s, 0);
    }
    if (s->forced == CSV_ENC_UTF8)
        return 0;
    if (s->forced != CSV_ENC_CP1252 && !s->invalid)
        return 0;
    /* not UTF-8: Windows-1252, if nothing speaks against it */
    if (s->forced != CSV_ENC_CP1252) {
        if (s->bom) {
            snprintf(msg, cap,
                     "the encoding cannot be decided: the file begins with a UTF-8 byte order mark, but line %lu "
                     "has byte 0x%02X, which is not UTF-8: %s",
                     s->invalid_line, s->invalid_byte, hint);
            return -1;
        }
        if (s->multibyte) {
            snprintf(msg, cap,
                     "the encoding cannot be decided: line %lu has UTF-8 characters, but line %lu has byte 0x%02X, "
                     "which is not UTF-8 (two encodings in one file?): %s",
                     s->multibyte_line, s->invalid_line, s->invalid_byte, hint);
            return -1;
        }
        if (s->nul_line) {
            snprintf(msg, cap,
                     "the encoding cannot be decided: the file is not UTF-8 and has NUL bytes (line %lu): "
                     "not a text file, or UTF-16 without byte order mark? %s",
                     s->nul_line, hint);
            return -1;
        }
    }
    if (s->undefined_line) {
        snprintf(msg, cap,
                 "the encoding cannot be decided: %sline %lu has byte 0x%02X, which is no character in "
                 "Windows-1252 either: %s",
                 s->forced == CSV_ENC_CP1252 ? "" : "the file is not UTF-8, and ", s->undefined_line,
                 s->undefined_byte, hint);
        return -1;
    }
    *enc = CSV_ENC_CP1252;
    return 0;
}

/* ---- the decoder ---- */

void csv_decoder_init(csv_decoder *d, csv_encoding enc)
{
    memset(d, 0, sizeof *d);
    d->enc = enc;
}

size_t csv_decode(csv_decoder *d, const void *in, size_t len, int final, char *out)
{
    const unsigned char *p = in;
    size_t o = 0, i, total;
    int le = d->enc == CSV_ENC_UTF16LE;

    if (d->enc == CSV_ENC_CP1252) {
        for (i = 0; i < len; i++) {
            unsigned cp = csv_cp1252_char(p[i]);
            /* 0x81 0x8D 0x8F 0x90 0x9D: the C1 control of that value, as
             * Windows maps them, which the library refuses as a control
             * character (only a stream decided by its start has them) */
            o += put_utf8(out + o, cp ? cp : p[i]);
        }
        return o;
    }
    if (d->enc != CSV_ENC_UTF16LE && d->enc != CSV_ENC_UTF16BE) {
        if (len)
            memcpy(out, p, len);
        return len;
    }
    /* UTF-16: the carried bytes, then the chunk */
    total = d->ncarry + len;
#define BYTE_AT(k) ((k) < d->ncarry ? d->carry[(k)] : p[(k) - d->ncarry])
#define UNIT_AT(k) (le ? (unsigned)BYTE_AT(k) | (unsigned)BYTE_AT((k) + 1) << 8 \
                       : (unsigned)BYTE_AT(k) << 8 | (unsigned)BYTE_AT((k) + 1))
    i = 0;
    while (i + 2 <= total) {
        unsigned u = UNIT_AT(i);
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned v;
            if (i + 4 > total)
                break; /* its low half is in the next chunk */
            v = UNIT_AT(i + 2);
            if (v >= 0xDC00 && v <= 0xDFFF) {
                o += put_utf8(out + o, 0x10000u + ((u - 0xD800u) << 10) + (v - 0xDC00u));
                i += 4;
            } else {
                o += put_utf8(out + o, REPLACEMENT);
                i += 2;
            }
        } else {
            o += put_utf8(out + o, u >= 0xDC00 && u <= 0xDFFF ? REPLACEMENT : u);
            i += 2;
        }
    }
    {
        unsigned char rest[3];
        size_t k, n = total - i;
        for (k = 0; k < n; k++)
            rest[k] = BYTE_AT(i + k);
        if (final) {
            if (n)
                o += put_utf8(out + o, REPLACEMENT);
            d->ncarry = 0;
        } else {
            memcpy(d->carry, rest, n);
            d->ncarry = n;
        }
    }
#undef UNIT_AT
#undef BYTE_AT
    return o;
}

/* ---- writing in an encoding ---- */

/* The next code point of UTF-8 `s` (len > 0) and its length; -1 as the code
 * point for a byte that does not start a valid sequence (length 1). */
static long next_utf8(const unsigned char *s, size_t len, size_t *n)
{
    unsigned cp;
    size_t need, k;

    *n = 1;
    if (s[0] < 0x80)
        return s[0];
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 1, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        need = 2, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        need = 3, cp = s[0] & 0x07;
    else
        return -1;
    if (len < need + 1)
        return -1;
    for (k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return -1;
    *n = need + 1;
    return (long)cp;
}

static void put_unit(FILE *f, int le, unsigned u)
{
    if (le) {
        putc((int)(u & 0xFF), f);
        putc((int)(u >> 8), f);
    } else {
        putc((int)(u >> 8), f);
        putc((int)(u & 0xFF), f);
    }
}

size_t csv_write_encoded(FILE *f, csv_encoding enc, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n, replaced = 0;
    int le = enc == CSV_ENC_UTF16LE;

    if (enc != CSV_ENC_CP1252 && enc != CSV_ENC_UTF16LE && enc != CSV_ENC_UTF16BE) {
        fwrite(s, 1, len, f);
        return 0;
    }
    while (i < len) {
        long cp = next_utf8(p + i, len - i, &n);
        i += n;
        if (enc == CSV_ENC_CP1252) {
            int b = cp < 0 ? -1 : csv_cp1252_byte((unsigned)cp);
            if (b < 0) {
                b = '?';
                replaced++;
            }
            putc(b, f);
        } else if (cp < 0) {
            put_unit(f, le, '?');
            replaced++;
        } else if (cp >= 0x10000) {
            put_unit(f, le, 0xD800u + (((unsigned)cp - 0x10000u) >> 10));
            put_unit(f, le, 0xDC00u + (((unsigned)cp - 0x10000u) & 0x3FF));
        } else {
            put_unit(f, le, (unsigned)cp);
        }
    }
    return replaced;
}

void csv_write_bom(FILE *f, const csv_dialect *d)
{
    if (d->enc == CSV_ENC_UTF16LE || d->enc == CSV_ENC_UTF16BE)
        csv_write_encoded(f, d->enc, "\xEF\xBB\xBF", 3);
    else if (d->bom && d->enc != CSV_ENC_CP1252)
        fwrite("\xEF\xBB\xBF", 1, 3, f);
}

void csv_write_eol(FILE *f, const csv_dialect *d)
{
    csv_write_encoded(f, d->enc, d->crlf ? "\r\n" : "\n", d->crlf ? 2 : 1);
}
