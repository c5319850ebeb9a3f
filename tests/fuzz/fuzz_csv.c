/* Fuzz target: the CSV reader of the command-line tool (examples/patron/
 * csv.c).  The first byte picks the separator (detect, ',' ';' TAB) and
 * how the encoding is decided (the sniffer, with or without a forced
 * encoding, or none: UTF-8), the rest is the file.  Invariants:
 *  - the sniffer's verdict does not depend on how the input is chunked; no
 *    verdict comes with a reason; what it decided (all but forced UTF-8)
 *    reads as valid UTF-8 in every field;
 *  - every record has at least one field, each NUL-terminated at its
 *    length, no longer than the input; lines and offsets only grow;
 *  - writing the records back (csv_write_field) and reading that gives
 *    the same records, byte for byte (a CRLF inside quotes is read as LF,
 *    as documented);
 *  - csv_write_cell + read + csv_unneutralise gives every value back, and
 *    what a spreadsheet sees never starts a formula (= + - @ TAB CR). */
#define _GNU_SOURCE /* fmemopen, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

typedef struct rec_copy {
    size_t n;
    char **v;
    size_t *len;
} rec_copy;

typedef struct recs {
    rec_copy *r;
    size_t n, cap;
} recs;

static void recs_free(recs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t k = 0; k < rs->r[i].n; k++)
            free(rs->r[i].v[k]);
        free(rs->r[i].v);
        free(rs->r[i].len);
    }
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

/* Strict UTF-8 of `n` bytes (NUL is a character like any other). */
static int utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i], k, min, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, min = 0x10000, cp = c & 0x07;
        else
            return 0;
        for (unsigned j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Read everything of `f`, checking what every record must be; `enc` is
 * the encoding the reader is told (CSV_ENC_AUTO: UTF-8). */
static void read_all_enc(FILE *f, int sep, csv_encoding enc, size_t size, recs *out, int *sep_out);

static void read_all(FILE *f, int sep, size_t size, recs *out, int *sep_out)
{
    read_all_enc(f, sep, CSV_ENC_UTF8, size, out, sep_out);
}

static void read_all_enc(FILE *f, int sep, csv_encoding enc, size_t size, recs *out, int *sep_out)
{
    csv_reader *r = NULL;
    csv_record rec;
    unsigned long last_line = 0;
    uint64_t last_off = 0;
    size_t bytes = 0;
    int k;
    memset(out, 0, sizeof *out);
    /* transcoding may write 3 bytes of UTF-8 for one byte read */
    size_t room = enc == CSV_ENC_UTF8 || enc == CSV_ENC_AUTO ? size : 3 * size + 12;
    FZ_CHECK(csv_reader_open_enc(&r, f, sep, enc) == 0, "the reader opens");
    *sep_out = csv_reader_sep(r);
    FZ_CHECK(*sep_out == ',' || *sep_out == ';' || *sep_out == '\t', "a known separator");
    while ((k = csv_read(r, &rec)) == 1) {
        rec_copy *c;
        FZ_CHECK(out->n <= size + 1, "no more records than bytes");
        FZ_CHECK(rec.n >= 1, "a record has a field");
        FZ_CHECK(rec.line >= 1 && rec.line > last_line, "records start on later lines");
        FZ_CHECK(csv_reader_line(r) >= rec.line, "the reader is not before the record");
        FZ_CHECK(csv_reader_offset(r) >= last_off && csv_reader_offset(r) <= size,
                 "offsets grow within the input");
        last_line = rec.line;
        last_off = csv_reader_offset(r);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 8;
            out->r = realloc(out->r, out->cap * sizeof *out->r);
            FZ_CHECK(out->r, "out of memory");
        }
        c = &out->r[out->n++];
        c->n = rec.n;
        c->v = calloc(rec.n, sizeof *c->v);
        c->len = calloc(rec.n, sizeof *c->len);
        FZ_CHECK(c->v && c->len, "out of memory");
        for (size_t i = 0; i < rec.n; i++) {
            FZ_CHECK(rec.fields[i][rec.lens[i]] == '\0', "a field is NUL-terminated at its length");
            FZ_CHECK(strlen(rec.fields[i]) <= rec.lens[i], "strlen never passes the length");
            bytes += rec.lens[i];
            FZ_CHECK(bytes <= room, "no more field bytes than the input can give");
            c->v[i] = malloc(rec.lens[i] + 1);
            FZ_CHECK(c->v[i], "out of memory");
            memcpy(c->v[i], rec.fields[i], rec.lens[i] + 1);
            c->len[i] = rec.lens[i];
        }
    }
    FZ_CHECK(k == 0, "reading memory never fails");
    csv_reader_free(r);
}

/* What reading a written value gives: each CRLF as LF (left to right). */
static size_t crlf_to_lf(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;
        s[o++] = s[i];
    }
    s[o] = '\0';
    return o;
}

static int has_crlf(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\r' && s[i + 1] == '\n')
            return 1;
    return 0;
}

static void check_cell(int sep, const char *v, size_t n)
{
    char *out = NULL;
    size_t olen = 0;
    FILE *w;
    recs back;
    int s2;
    if (n == 0 || has_crlf(v, n))
        return;
    w = open_memstream(&out, &olen);
    FZ_CHECK(w, "open_memstream");
    fputs("\xEF\xBB\xBF", w);
    csv_write_cell(w, sep, v, n);
    putc('\n', w);
    fclose(w);
    w = fmemopen(out, olen, "rb");
    FZ_CHECK(w, "fmemopen");
    read_all(w, sep, olen, &back, &s2);
    fclose(w);
    FZ_CHECK(back.n == 1 && back.r[0].n == 1, "one cell is one record of one field");
    {
        char *got = back.r[0].v[0];
        size_t glen = back.r[0].len[0];
        FZ_CHECK(glen == 0 || !strchr("=+-@\t\r", got[0]) || got[0] == '\0',
                 "a spreadsheet never sees a formula start");
        glen = csv_unneutralise(got, glen);
        FZ_CHECK(glen == n && memcmp(got, v, n) == 0, "unneutralise gives the value back");
        FZ_CHECK(got[glen] == '\0', "unneutralise keeps the NUL");
    }
    recs_free(&back);
    free(out);
}

/* The sniffer's verdict on `data`, fed in chunks of `chunk` bytes. */
static int sniff(const uint8_t *data, size_t size, size_t chunk, csv_encoding forced, csv_encoding *enc,
                 char *msg, size_t cap)
{
    csv_sniffer *sn = malloc(sizeof *sn);
    int rc;
    FZ_CHECK(sn, "out of memory");
    csv_sniff_init(sn, forced);
    for (size_t at = 0; at < size; at += chunk)
        csv_sniff_feed(sn, data + at, size - at < chunk ? size - at : chunk);
    *enc = CSV_ENC_AUTO;
    msg[0] = '\0';
    rc = csv_sniff_end(sn, enc, msg, cap);
    free(sn);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int seps[] = { 0, ',', ';', '\t' };
    static const csv_encoding forced[] = { CSV_ENC_AUTO, CSV_ENC_AUTO, CSV_ENC_UTF8, CSV_ENC_UTF16LE,
                                           CSV_ENC_UTF16BE, CSV_ENC_CP1252, CSV_ENC_UTF16, CSV_ENC_AUTO };
    int sep, used, decided;
    unsigned mode;
    csv_encoding enc = CSV_ENC_UTF8, enc2;
    char msg[256], msg2[256];
    FILE *f;
    recs first, second;
    char *out = NULL;
    size_t olen = 0;
    if (size == 0)
        return 0;
    sep = seps[data[0] & 3];
    mode = data[0] >> 2 & 7;
    data++;
    size--;
    /* the sniffer (modes 0..6; 7: read as UTF-8 unsniffed): one verdict
     * however the input is chunked, and a reason when it has none */
    if (mode != 7) {
        int rc = sniff(data, size, size ? size : 1, forced[mode], &enc, msg, sizeof msg);
        int rc2 = sniff(data, size, size ? 1 + (data[0] & 15) : 1, forced[mode], &enc2, msg2, sizeof msg2);
        FZ_CHECK(rc == rc2 && (rc != 0 || enc == enc2), "the verdict does not depend on chunks: %d/%d %d/%d",
                 rc, rc2, (int)enc, (int)enc2);
        if (rc != 0) {
            FZ_CHECK(msg[0] != '\0', "an undecided encoding is explained");
            return 0;
        }
        FZ_CHECK(enc == CSV_ENC_UTF8 || enc == CSV_ENC_UTF16LE || enc == CSV_ENC_UTF16BE ||
                     enc == CSV_ENC_CP1252,
                 "a verdict is an encoding the reader takes (%d)", (int)enc);
    }
    decided = mode != 7 && forced[mode] != CSV_ENC_UTF8;
    f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
    FZ_CHECK(f, "fmemopen");
    read_all_enc(f, sep, enc, size, &first, &used);
    fclose(f);
    /* what the sniffer passed reads as UTF-8 (forced UTF-8 is not checked) */
    if (decided)
        for (size_t i = 0; i < first.n; i++)
            for (size_t k = 0; k < first.r[i].n; k++)
                FZ_CHECK(utf8_ok((const unsigned char *)first.r[i].v[k], first.r[i].len[k]),
                         "a field of a %s input is UTF-8", csv_encoding_name(enc));

    /* write them back, then read that: the same records */
    f = open_memstream(&out, &olen);
    FZ_CHECK(f, "open_memstream");
    fputs("\xEF\xBB\xBF", f); /* a BOM of our own: a value's leading BOM stays */
    for (size_t i = 0; i < first.n; i++) {
        rec_copy *c = &first.r[i];
        if (c->n == 1 && c->len[0] == 0)
            fputs("\"\"", f); /* else a blank line, which is skipped */
        for (size_t k = 0; k < c->n; k++) {
            if (k)
                putc(used, f);
            csv_write_field(f, used, c->v[k], c->len[k]);
        }
        fputs(i & 1 ? "\r\n" : "\n", f);
    }
    fclose(f);
    f = fmemopen(out, olen, "rb");
    FZ_CHECK(f, "fmemopen");
    read_all(f, used, olen, &second, &used);
    fclose(f);
    FZ_CHECK(second.n == first.n, "as many records back (%zu, %zu)", second.n, first.n);
    for (size_t i = 0; i < first.n; i++) {
        rec_copy *a = &first.r[i], *b = &second.r[i];
        FZ_CHECK(a->n == b->n, "record %zu: as many fields back", i);
        for (size_t k = 0; k < a->n; k++) {
            size_t want = crlf_to_lf(a->v[k], a->len[k]);
            FZ_CHECK(b->len[k] == want && memcmp(a->v[k], b->v[k], want) == 0,
                     "record %zu field %zu comes back as it was", i, k);
        }
    }
    /* neutralised cells, for the first few values */
    for (size_t i = 0, done = 0; i < first.n && done < 16; i++)
        for (size_t k = 0; k < first.r[i].n && done < 16; k++, done++)
            check_cell(used, first.r[i].v[k], first.r[i].len[k]);
    recs_free(&first);
    recs_free(&second);
    free(out);
    return 0;
}
