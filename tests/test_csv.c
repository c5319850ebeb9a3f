/*
 * The CSV reader and writer shared by the command-line tool, the benchmarks
 * and the quality harness (examples/patron/csv.c): RFC 4180 quoting, CRLF,
 * a UTF-8 byte order mark, the separator taken from the header, and clear
 * errors on malformed lines that do not stop the reading.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

typedef struct input {
    FILE *f;
    csv_reader *r;
} input;

/* A reader over `len` bytes of `text` (sep 0: detected). */
static void open_bytes(input *in, const char *text, size_t len, int sep)
{
    in->f = fmemopen((void *)text, len, "rb");
    assert_non_null(in->f);
    assert_int_equal(csv_reader_open(&in->r, in->f, sep), 0);
}

static void open_text(input *in, const char *text)
{
    open_bytes(in, text, strlen(text), 0);
}

static void close_input(input *in)
{
    csv_reader_free(in->r);
    fclose(in->f);
}

/* Read one record and check it has `n` fields equal to the varargs. */
static void expect_record(input *in, unsigned long line, size_t n, ...)
{
    csv_record rec;
    va_list ap;
    size_t i;

    assert_int_equal(csv_read(in->r, &rec), 1);
    assert_null(rec.error);
    assert_false(rec.has_nul);
    assert_int_equal(rec.line, line);
    assert_int_equal(rec.n, n);
    va_start(ap, n);
    for (i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        assert_string_equal(rec.fields[i], want);
        assert_int_equal(rec.lens[i], strlen(want));
        /* one after the other, as csv_record says (dedupe copies them at
         * once) */
        if (i + 1 < n)
            assert_ptr_equal(rec.fields[i + 1], rec.fields[i] + rec.lens[i] + 1);
    }
    va_end(ap);
}

static void expect_end(input *in)
{
    csv_record rec;
    assert_int_equal(csv_read(in->r, &rec), 0);
}

static void plain_lines(void **state)
{
    input in;
    (void)state;
    open_text(&in, "id,last_name,city\n1,Müller,Berlin\n2,,Köln\n");
    assert_int_equal(csv_reader_sep(in.r), ',');
    expect_record(&in, 1, 3, "id", "last_name", "city");
    expect_record(&in, 2, 3, "1", "Müller", "Berlin");
    expect_record(&in, 3, 3, "2", "", "Köln");
    expect_end(&in);
    expect_end(&in); /* stays at the end */
    close_input(&in);
}

static void crlf_and_no_final_newline(void **state)
{
    input in;
    (void)state;
    open_text(&in, "a,b\r\n1,2\r\n3,4");
    expect_record(&in, 1, 2, "a", "b");
    expect_record(&in, 2, 2, "1", "2");
    expect_record(&in, 3, 2, "3", "4");
    expect_end(&in);
    close_input(&in);
}

static void byte_order_mark(void **state)
{
    input in;
    (void)state;
    open_text(&in, "\xEF\xBB\xBFid;name\r\n7;Ärger\r\n");
    assert_int_equal(csv_reader_sep(in.r), ';'); /* detected after the mark */
    expect_record(&in, 1, 2, "id", "name");      /* no mark in the first name */
    expect_record(&in, 2, 2, "7", "Ärger");
    expect_end(&in);
    close_input(&in);
}

static void rfc4180_quoting(void **state)
{
    input in;
    (void)state;
    open_text(&in, "id,street,notes\n"
                   "1,\"Hauptstraße 1, Hinterhaus\",\"er sagt \"\"hallo\"\"\"\n"
                   "2,\"zwei\r\nZeilen\",\"\"\n"
                   "3,x,\"a\nb\nc\"\n"
                   "4,y,z\n");
    expect_record(&in, 1, 3, "id", "street", "notes");
    expect_record(&in, 2, 3, "1", "Hauptstraße 1, Hinterhaus", "er sagt \"hallo\"");
    expect_record(&in, 3, 3, "2", "zwei\nZeilen", ""); /* CRLF inside quotes reads as LF */
    expect_record(&in, 5, 3, "3", "x", "a\nb\nc");
    expect_record(&in, 8, 3, "4", "y", "z"); /* line numbers count the quoted breaks */
    expect_end(&in);
    close_input(&in);
}

static void separator_detection(void **state)
{
    input in;
    (void)state;
    /* Commas inside quotes do not count. */
    open_text(&in, "\"a,b,c\";d;e\n1;2;3\n");
    assert_int_equal(csv_reader_sep(in.r), ';');
    expect_record(&in, 1, 3, "a,b,c", "d", "e");
    close_input(&in);
    /* A given separator wins. */
    open_bytes(&in, "a;b,c\n", 6, ',');
    assert_int_equal(csv_reader_sep(in.r), ',');
    expect_record(&in, 1, 2, "a;b", "c");
    close_input(&in);
}

static void blank_lines_and_empty_input(void **state)
{
    input in;
    (void)state;
    open_text(&in, "\n\r\na\n\n\nb\n\n");
    expect_record(&in, 3, 1, "a");
    expect_record(&in, 6, 1, "b");
    expect_end(&in);
    close_input(&in);
    open_text(&in, "");
    expect_end(&in);
    close_input(&in);
}

static void malformed_lines(void **state)
{
    input in;
    csv_record rec;
    (void)state;
    open_text(&in, "a,b,c\n"
                   "1,\"zwei\"x,3\n"
                   "4,5,6\n"
                   "7,\"offen\n");
    expect_record(&in, 1, 3, "a", "b", "c");

    /* Text after a closing quote: the record is given, with a message that
     * says which field is wrong. */
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_int_equal(rec.line, 2);
    assert_non_null(rec.error);
    assert_non_null(strstr(rec.error, "field 2"));
    assert_non_null(strstr(rec.error, "after the closing quote"));
    assert_int_equal(rec.n, 3);

    /* The reader goes on with the next line. */
    expect_record(&in, 3, 3, "4", "5", "6");

    /* A quote not closed before the end of the file. */
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_int_equal(rec.line, 4);
    assert_non_null(rec.error);
    assert_non_null(strstr(rec.error, "not closed"));
    expect_end(&in);
    close_input(&in);
}

static void nul_byte_is_visible(void **state)
{
    static const char text[] = "a,b\nx\0y,z\n";
    input in;
    csv_record rec;
    (void)state;
    open_bytes(&in, text, sizeof text - 1, 0);
    expect_record(&in, 1, 2, "a", "b");
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.lens[0], 3);          /* "x\0y" */
    assert_int_equal(strlen(rec.fields[0]), 1); /* so callers can tell */
    assert_true(rec.has_nul);                   /* without measuring each field */
    close_input(&in);
}

/* has_nul: set for a NUL byte anywhere in a field (first byte, quoted,
 * deep in a long plain field the reader copies eight bytes at a time,
 * last byte before the line end), and only for the record that has one. */
static void nul_byte_flagged(void **state)
{
    static const char text[] = "a,b\n"
                               "\0x,y\n"
                               "p,\"q\0r\"\n"
                               "ok,fine\n"
                               "abcdefghijklmnopqrstuvw\0xyzabcdefgh,z\n"
                               "u,abcdefghijklmnop\0\n"
                               "last,row\n";
    static const size_t at_field[] = { 0, 1, 0, 0, 1 };
    static const size_t at_len[] = { 2, 3, 0, 35, 17 };
    input in;
    csv_record rec;
    (void)state;
    open_bytes(&in, text, sizeof text - 1, ',');
    expect_record(&in, 1, 2, "a", "b");
    for (int k = 0; k < 5; k++) {
        assert_int_equal(csv_read(in.r, &rec), 1);
        assert_int_equal(rec.n, 2);
        if (k == 2) { /* "ok,fine" */
            assert_false(rec.has_nul);
            assert_string_equal(rec.fields[1], "fine");
            continue;
        }
        assert_true(rec.has_nul);
        assert_int_equal(rec.lens[at_field[k]], at_len[k]);
        assert_true(strlen(rec.fields[at_field[k]]) < rec.lens[at_field[k]]);
    }
    expect_record(&in, 7, 2, "last", "row");
    expect_end(&in);
    close_input(&in);
}

static void long_field_across_buffers(void **state)
{
    size_t big = 200 * 1024, i;
    char *text = malloc(big + 64), *p = text;
    input in;
    csv_record rec;
    (void)state;
    assert_non_null(text);
    p += sprintf(p, "k,v\n1,\"");
    for (i = 0; i < big; i++)
        *p++ = i % 1000 == 999 ? '\n' : 'a';
    p += sprintf(p, "\"\n2,x\n");
    open_bytes(&in, text, (size_t)(p - text), 0);
    expect_record(&in, 1, 2, "k", "v");
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_null(rec.error);
    assert_int_equal(rec.lens[1], big);
    expect_record(&in, 2 + big / 1000 + 1, 2, "2", "x");
    assert_int_equal(csv_reader_offset(in.r), (uint64_t)(p - text));
    expect_end(&in);
    close_input(&in);
    free(text);
}

static void writer_round_trip(void **state)
{
    static const char *const values[] = { "plain", "with,comma", "with \"quote\"", "two\nlines", "", "cr\rx" };
    char *buf = NULL;
    size_t len = 0, i, n = sizeof values / sizeof values[0];
    FILE *f = open_memstream(&buf, &len);
    input in;
    csv_record rec;
    (void)state;
    assert_non_null(f);
    for (i = 0; i < n; i++) {
        if (i)
            putc(',', f);
        csv_write_str(f, ',', values[i]);
    }
    putc('\n', f);
    csv_write_str(f, ',', NULL); /* NULL: an empty field */
    putc('\n', f);
    fclose(f);
    assert_string_equal(buf, "plain,\"with,comma\",\"with \"\"quote\"\"\",\"two\nlines\",,\"cr\rx\"\n\n");

    open_bytes(&in, buf, len, ',');
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_null(rec.error);
    assert_int_equal(rec.n, n);
    for (i = 0; i < n; i++)
        assert_string_equal(rec.fields[i], values[i]);
    expect_end(&in); /* the empty line is blank */
    close_input(&in);
    free(buf);
}

/* Issue 13, defect 6: cells a spreadsheet would run as formulas (OWASP CSV
 * injection) are written as text, and read back as they were. */
static void formulas_neutralised_and_read_back(void **state)
{
    static const char *const values[] = {
        "=HYPERLINK(\"http://evil.example\",\"x\")", "=cmd|' /C calc'!A0", "+SUM(1)", "-2+3",
        "@SUM(A1:A9)", "\t=1+1", "\r=1", "'=already quoted", "''+x", "plain", "it's", "'", "a=b", "",
        "+49 221 123456",
    };
    static const char *const cells[] = {
        "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"", "\"'=cmd|' /C calc'!A0\"",
        "\"'+SUM(1)\"", "\"'-2+3\"", "\"'@SUM(A1:A9)\"", "\"'\t=1+1\"", "\"'\r=1\"",
        "\"''=already quoted\"", "\"'''+x\"", "plain", "it's", "'", "a=b", "", "\"'+49 221 123456\"",
    };
    size_t n = sizeof values / sizeof values[0];
    (void)state;
    assert_int_equal(n, sizeof cells / sizeof cells[0]);
    for (size_t i = 0; i < n; i++) {
        char *buf = NULL, *copy;
        size_t len = 0, back;
        FILE *f = open_memstream(&buf, &len);
        input in;
        csv_record rec;
        assert_non_null(f);
        csv_write_cell(f, ',', values[i], strlen(values[i]));
        fputs(",end\n", f);
        fclose(f);
        /* the cell as written: none begins with a formula character */
        if (strncmp(buf, cells[i], strlen(cells[i])) != 0 || strcmp(buf + strlen(cells[i]), ",end\n") != 0)
            fail_msg("value %zu written as [%s], want [%s]", i, buf, cells[i]);
        open_bytes(&in, buf, len, ',');
        assert_int_equal(csv_read(in.r, &rec), 1);
        assert_false(rec.lens[0] && strchr("=+-@\t\r", rec.fields[0][0]));
        copy = rec.fields[0];
        back = csv_unneutralise(copy, rec.lens[0]);
        assert_int_equal(back, strlen(values[i]));
        assert_string_equal(copy, values[i]);
        close_input(&in);
        free(buf);
    }
    /* raw writing leaves them alone */
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        csv_write_str(f, ',', "=1+1");
        fclose(f);
        assert_string_equal(buf, "=1+1");
        free(buf);
    }
    assert_true(csv_is_formula("''@x", 4));
    assert_false(csv_is_formula("''", 2));
    assert_false(csv_is_formula(NULL, 0));
}

/* ---- encodings (issue 13) ---- */

/* The sniffer's verdict on `len` bytes, fed in chunks of `chunk`. */
static int sniff(const void *data, size_t len, size_t chunk, csv_encoding forced, csv_encoding *enc, char *msg,
                 size_t cap)
{
    csv_sniffer s;
    size_t i;

    csv_sniff_init(&s, forced);
    for (i = 0; i < len; i += chunk)
        csv_sniff_feed(&s, (const char *)data + i, len - i < chunk ? len - i : chunk);
    return csv_sniff_end(&s, enc, msg, cap);
}

/* Every chunk size gives the same verdict (a character cut by a chunk's
 * end is no error). */
static void expect_verdict(const void *data, size_t len, csv_encoding forced, int rc, csv_encoding want,
                           const char *in_msg)
{
    size_t chunks[] = { 1, 2, 3, 7, 4096, 5000, 1 << 20 };
    size_t k;

    for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        csv_encoding enc = CSV_ENC_AUTO;
        char msg[600] = "";
        assert_int_equal(sniff(data, len, chunks[k], forced, &enc, msg, sizeof msg), rc);
        if (rc == 0)
            assert_int_equal(enc, want);
        else if (in_msg && !strstr(msg, in_msg))
            fail_msg("'%s' not in '%s'", in_msg, msg);
    }
}

static void encoding_detection(void **state)
{
    static const char utf8[] = "Vorname;Nachname\r\nJürgen;Weiß\r\n";
    static const char cp1252[] = "Vorname;Nachname\r\nJ\xFCrgen;Wei\xDF \x80 \x84x\x93\r\n";
    static const char mixed[] = "Vorname;Nachname\r\nJürgen;Weiß\r\nK\xF6ln;x\r\n";
    static const char undefined[] = "Vorname;Nachname\r\nJ\xFCrgen;\x81\r\n";
    static const char bom_then_latin[] = "\xEF\xBB\xBFVorname\r\nK\xF6ln\r\n";
    static const char nul_latin[] = "a;b\r\nK\xF6ln;\0x\r\n";
    static const char overlong[] = "a\xC0\xAF;b\n"; /* '/' over-long: not UTF-8 */
    static const char surrogate[] = "a\xED\xA0\x80;b\n"; /* U+D800 in UTF-8 */
    unsigned char le[64], be[64];
    size_t n = 0, i;
    const char *text = "id;Ort\r\n1;K\xC3\xB6ln\r\n"; /* only ASCII and ö */
    (void)state;

    expect_verdict(utf8, sizeof utf8 - 1, CSV_ENC_AUTO, 0, CSV_ENC_UTF8, NULL);
    expect_verdict("", 0, CSV_ENC_AUTO, 0, CSV_ENC_UTF8, NULL);
    expect_verdict(cp1252, sizeof cp1252 - 1, CSV_ENC_AUTO, 0, CSV_ENC_CP1252, NULL);
    expect_verdict(mixed, sizeof mixed - 1, CSV_ENC_AUTO, -1, 0, "line 2 has UTF-8 characters, but line 3");
    expect_verdict(undefined, sizeof undefined - 1, CSV_ENC_AUTO, -1, 0, "line 2 has byte 0x81");
    expect_verdict(undefined, sizeof undefined - 1, CSV_ENC_CP1252, -1, 0, "0x81");
    expect_verdict(undefined, sizeof undefined - 1, CSV_ENC_UTF8, 0, CSV_ENC_UTF8, NULL); /* forced: as told */
    expect_verdict(mixed, sizeof mixed - 1, CSV_ENC_CP1252, 0, CSV_ENC_CP1252, NULL);
    expect_verdict(bom_then_latin, sizeof bom_then_latin - 1, CSV_ENC_AUTO, -1, 0, "byte order mark");
    expect_verdict(nul_latin, sizeof nul_latin - 1, CSV_ENC_AUTO, -1, 0, "NUL");
    expect_verdict(overlong, sizeof overlong - 1, CSV_ENC_AUTO, 0, CSV_ENC_CP1252, NULL);
    expect_verdict(surrogate, sizeof surrogate - 1, CSV_ENC_AUTO, 0, CSV_ENC_CP1252, NULL);
    /* a file cut inside a UTF-8 character is not UTF-8 */
    expect_verdict("a;J\xC3", 4, CSV_ENC_AUTO, 0, CSV_ENC_CP1252, NULL);

    /* UTF-16, by its mark, and without one by its zero bytes */
    le[n] = 0xFF, be[n++] = 0xFE;
    le[n] = 0xFE, be[n++] = 0xFF;
    for (i = 0; text[i]; i++) {
        unsigned cp = (unsigned char)text[i];
        if (cp == 0xC3) {
            cp = 0xF6;
            i++;
        }
        le[n] = (unsigned char)cp, le[n + 1] = 0;
        be[n] = 0, be[n + 1] = (unsigned char)cp;
        n += 2;
    }
    expect_verdict(le, n, CSV_ENC_AUTO, 0, CSV_ENC_UTF16LE, NULL);
    expect_verdict(be, n, CSV_ENC_AUTO, 0, CSV_ENC_UTF16BE, NULL);
    expect_verdict(le + 2, n - 2, CSV_ENC_AUTO, 0, CSV_ENC_UTF16LE, NULL);
    expect_verdict(be + 2, n - 2, CSV_ENC_AUTO, 0, CSV_ENC_UTF16BE, NULL);
    expect_verdict(le + 2, n - 2, CSV_ENC_UTF16, 0, CSV_ENC_UTF16LE, NULL);
    expect_verdict(be, n, CSV_ENC_UTF16, 0, CSV_ENC_UTF16BE, NULL);
    expect_verdict(le, n - 1, CSV_ENC_AUTO, -1, 0, "odd number of bytes");
    /* a lone high surrogate, then a lone low one */
    {
        unsigned char bad[] = { 0xFF, 0xFE, 'a', 0, 0x00, 0xD8, '\n', 0, 'b', 0 };
        unsigned char bad2[] = { 0xFF, 0xFE, 'a', 0, '\n', 0, 0x00, 0xDC };
        unsigned char pair[] = { 0xFF, 0xFE, 'a', 0, 0x3D, 0xD8, 0x00, 0xDE, '\n', 0 }; /* U+1F600 */
        unsigned char utf32[] = { 0xFF, 0xFE, 0, 0, 'a', 0, 0, 0 };
        expect_verdict(bad, sizeof bad, CSV_ENC_AUTO, -1, 0, "UTF-16LE (line 1");
        expect_verdict(bad2, sizeof bad2, CSV_ENC_AUTO, -1, 0, "UTF-16LE (line 2");
        expect_verdict(pair, sizeof pair, CSV_ENC_AUTO, 0, CSV_ENC_UTF16LE, NULL);
        expect_verdict(utf32, sizeof utf32, CSV_ENC_AUTO, -1, 0, "UTF-32");
    }
    /* a pipe judged by its start: a character cut at the end is no error */
    {
        csv_sniffer s;
        csv_encoding enc;
        char msg[600];
        csv_sniff_init(&s, CSV_ENC_AUTO);
        csv_sniff_feed(&s, "a;J\xC3", 4);
        s.more = 1;
        assert_int_equal(csv_sniff_end(&s, &enc, msg, sizeof msg), 0);
        assert_int_equal(enc, CSV_ENC_UTF8);
    }
}

static void cp1252_table(void **state)
{
    /* 0x80..0x9F: the 27 characters, and the five undefined bytes */
    static const unsigned want[32] = {
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
        0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0, 0x017E, 0x0178,
    };
    unsigned b;
    (void)state;

    for (b = 0; b < 256; b++) {
        unsigned cp = csv_cp1252_char((unsigned char)b);
        if (b >= 0x80 && b < 0xA0)
            assert_int_equal(cp, want[b - 0x80]);
        else
            assert_int_equal(cp, b); /* ASCII, and Latin-1 above */
        if (cp)
            assert_int_equal(csv_cp1252_byte(cp), (int)b);
    }
    assert_int_equal(csv_cp1252_byte(0x81), -1); /* C1 controls are not in it */
    assert_int_equal(csv_cp1252_byte(0x011F), -1); /* ğ */
    assert_int_equal(csv_cp1252_byte(0x1F600), -1);
}

static void decoding(void **state)
{
    /* "Ä€😀\n" in UTF-16 LE, fed one byte at a time: the surrogate pair and
     * the code units cut by every chunk's end come out whole */
    static const unsigned char le[] = { 0xC4, 0x00, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE, '\n', 0 };
    static const unsigned char be[] = { 0x00, 0xC4, 0x20, 0xAC, 0xD8, 0x3D, 0xDE, 0x00, 0, '\n' };
    static const char want[] = "\xC3\x84\xE2\x82\xAC\xF0\x9F\x98\x80\n";
    char out[CSV_DECODE_MAX(sizeof le) * 4];
    csv_decoder d;
    size_t o, i, chunk;
    (void)state;

    for (chunk = 1; chunk <= sizeof le; chunk++) {
        csv_decoder_init(&d, CSV_ENC_UTF16LE);
        for (o = 0, i = 0; i < sizeof le; i += chunk)
            o += csv_decode(&d, le + i, sizeof le - i < chunk ? sizeof le - i : chunk, 0, out + o);
        o += csv_decode(&d, NULL, 0, 1, out + o);
        assert_int_equal(o, sizeof want - 1);
        assert_memory_equal(out, want, o);
        csv_decoder_init(&d, CSV_ENC_UTF16BE);
        for (o = 0, i = 0; i < sizeof be; i += chunk)
            o += csv_decode(&d, be + i, sizeof be - i < chunk ? sizeof be - i : chunk, 0, out + o);
        o += csv_decode(&d, NULL, 0, 1, out + o);
        assert_int_equal(o, sizeof want - 1);
        assert_memory_equal(out, want, o);
    }
    /* a cut character at the end, and a lone surrogate: U+FFFD */
    csv_decoder_init(&d, CSV_ENC_UTF16LE);
    o = csv_decode(&d, "a\0\x3D", 3, 1, out);
    assert_int_equal(o, 4);
    assert_memory_equal(out, "a\xEF\xBF\xBD", 4);
    csv_decoder_init(&d, CSV_ENC_UTF16LE);
    o = csv_decode(&d, "\x00\xDC" "b\0", 4, 1, out);
    assert_memory_equal(out, "\xEF\xBF\xBD" "b", o);
    /* Windows-1252: „Müller“ €, and an undefined byte as its C1 control */
    csv_decoder_init(&d, CSV_ENC_CP1252);
    o = csv_decode(&d, "\x84M\xFCller\x93 \x80\x81", 11, 1, out);
    assert_int_equal(o, 19);
    assert_memory_equal(out, "\xE2\x80\x9EM\xC3\xBCller\xE2\x80\x9C \xE2\x82\xAC\xC2\x81", o);
}

static void encoding_writer(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    csv_dialect d = { ';', CSV_ENC_UTF16LE, 1, 1 };
    (void)state;

    f = open_memstream(&buf, &len);
    assert_int_equal(csv_write_encoded(f, CSV_ENC_CP1252, "„Weiß“ € ğ \xFF", 20), 2); /* ğ and 0xFF: '?' */
    fclose(f);
    assert_int_equal(len, 12);
    assert_memory_equal(buf, "\x84Wei\xDF\x93 \x80 ? ?", 12);
    free(buf);

    f = open_memstream(&buf, &len);
    csv_write_bom(f, &d);
    assert_int_equal(csv_write_encoded(f, CSV_ENC_UTF16LE, "Ä😀", 6), 0);
    csv_write_eol(f, &d);
    fclose(f);
    assert_int_equal(len, 2 + 2 + 4 + 4);
    assert_memory_equal(buf, "\xFF\xFE\xC4\x00\x3D\xD8\x00\xDE\r\0\n\0", len);
    free(buf);

    d.enc = CSV_ENC_UTF16BE;
    d.crlf = 0;
    f = open_memstream(&buf, &len);
    csv_write_bom(f, &d);
    csv_write_eol(f, &d);
    fclose(f);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "\xFE\xFF\0\n", 4);
    free(buf);

    d.enc = CSV_ENC_UTF8; /* a UTF-8 mark only when asked; none for Windows-1252 */
    d.bom = 0;
    f = open_memstream(&buf, &len);
    csv_write_bom(f, &d);
    d.bom = 1;
    d.enc = CSV_ENC_CP1252;
    csv_write_bom(f, &d);
    d.enc = CSV_ENC_UTF8;
    csv_write_bom(f, &d);
    fclose(f);
    assert_int_equal(len, 3);
    free(buf);
}

static void reader_transcodes(void **state)
{
    /* Windows-1252 with ';' and CR LF, and a field longer than the reader's
     * raw chunk so that transcoding goes across chunks */
    size_t big = 100000, i, n;
    char *data = malloc(big + 64), *want = malloc(2 * big + 1);
    input in;
    csv_record rec;
    csv_dialect d;
    (void)state;

    assert_non_null(data);
    assert_non_null(want);
    n = (size_t)sprintf(data, "Ort;Text\r\nK\xF6ln;");
    for (i = 0; i < big; i++) {
        data[n++] = (char)(i % 2 ? 0xE4 : 'x'); /* ä */
        memcpy(want + (i / 2) * 3, "x\xC3\xA4", 3);
    }
    want[big / 2 * 3] = '\0';
    memcpy(data + n, "\r\n", 2);
    n += 2;
    in.f = fmemopen(data, n, "rb");
    assert_non_null(in.f);
    assert_int_equal(csv_reader_open_enc(&in.r, in.f, 0, CSV_ENC_CP1252), 0);
    assert_int_equal(csv_reader_sep(in.r), ';');
    expect_record(&in, 1, 2, "Ort", "Text");
    csv_reader_dialect(in.r, &d);
    assert_int_equal(d.enc, CSV_ENC_CP1252);
    assert_int_equal(d.crlf, 1);
    assert_int_equal(d.bom, 0);
    assert_int_equal(csv_read(in.r, &rec), 1);
    assert_string_equal(rec.fields[0], "K\xC3\xB6ln");
    assert_string_equal(rec.fields[1], want);
    expect_end(&in);
    assert_int_equal(csv_reader_offset(in.r), n);
    close_input(&in);

    /* UTF-16 LE with its mark and TABs, a prefix read before (a pipe) */
    {
        static const unsigned char u16[] = { 0xFF, 0xFE, 'a', 0, '\t', 0, 'b', 0, '\n', 0, 0xC4, 0, '\t', 0,
                                             0x3D, 0xD8, 0x00, 0xDE, '\n', 0 };
        in.f = fmemopen((void *)(u16 + 5), sizeof u16 - 5, "rb");
        assert_non_null(in.f);
        assert_int_equal(csv_reader_open_prefixed(&in.r, in.f, 0, CSV_ENC_UTF16LE, u16, 5), 0);
        assert_int_equal(csv_reader_sep(in.r), '\t');
        expect_record(&in, 1, 2, "a", "b");
        expect_record(&in, 2, 2, "\xC3\x84", "\xF0\x9F\x98\x80");
        expect_end(&in);
        csv_reader_dialect(in.r, &d);
        assert_int_equal(d.bom, 1);
        assert_int_equal(d.crlf, 0);
        assert_int_equal(d.enc, CSV_ENC_UTF16LE);
        close_input(&in);
    }
    free(data);
    free(want);
}

static void tab_separator_detected(void **state)
{
    input in;
    (void)state;
    open_text(&in, "id\tname;x\tcity,y\n1\tA;B\tC,D\n");
    assert_int_equal(csv_reader_sep(in.r), '\t');
    expect_record(&in, 1, 3, "id", "name;x", "city,y");
    close_input(&in);
    open_text(&in, "a\tb;c;d\n");
    assert_int_equal(csv_reader_sep(in.r), ';'); /* more ';' than TABs */
    close_input(&in);
    open_text(&in, "\"a\tb\tc\";d\n");
    assert_int_equal(csv_reader_sep(in.r), ';'); /* TABs inside quotes do not count */
    close_input(&in);
}

/* Random bytes: the sniffer's verdict and the decoders' output do not
 * depend on how the input is cut into chunks (a small deterministic fuzz;
 * under ASan it also checks the bounds of CSV_DECODE_MAX). */
static void chunking_does_not_matter(void **state)
{
    unsigned long seed = 12345;
    unsigned char data[600];
    char *whole = malloc(CSV_DECODE_MAX(sizeof data)), *parts = malloc(CSV_DECODE_MAX(sizeof data) + 64);
    int round;
    (void)state;

    assert_non_null(whole);
    assert_non_null(parts);
    for (round = 0; round < 400; round++) {
        size_t n = 1 + round % sizeof data, i, o1, o2, at, step;
        csv_encoding encs[] = { CSV_ENC_UTF16LE, CSV_ENC_UTF16BE, CSV_ENC_CP1252 };
        csv_encoding e1, e2;
        char m1[600], m2[600];
        int r1, r2, k;

        for (i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            /* mostly text, with high bytes, zeros and surrogate halves */
            data[i] = (unsigned char)((seed >> 33) % 5 == 0 ? (seed >> 41) : (seed >> 45) % 4 == 0 ? 0xD8
                                                                                                  : 'a' + (seed >> 50) % 26);
        }
        step = 1 + (seed >> 20) % 13;
        r1 = sniff(data, n, n, CSV_ENC_AUTO, &e1, m1, sizeof m1);
        r2 = sniff(data, n, step, CSV_ENC_AUTO, &e2, m2, sizeof m2);
        assert_int_equal(r1, r2);
        if (r1 == 0)
            assert_int_equal(e1, e2);
        else
            assert_string_equal(m1, m2);
        for (k = 0; k < 3; k++) {
            csv_decoder d;
            csv_decoder_init(&d, encs[k]);
            o1 = csv_decode(&d, data, n, 1, whole);
            assert_true(o1 <= CSV_DECODE_MAX(n));
            csv_decoder_init(&d, encs[k]);
            for (o2 = 0, at = 0; at < n; at += step) {
                size_t len = n - at < step ? n - at : step;
                size_t w = csv_decode(&d, data + at, len, 0, parts + o2);
                assert_true(w <= CSV_DECODE_MAX(len));
                o2 += w;
            }
            o2 += csv_decode(&d, NULL, 0, 1, parts + o2);
            assert_int_equal(o1, o2);
            assert_memory_equal(whole, parts, o1);
        }
    }
    free(whole);
    free(parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_lines),
        cmocka_unit_test(crlf_and_no_final_newline),
        cmocka_unit_test(byte_order_mark),
        cmocka_unit_test(rfc4180_quoting),
        cmocka_unit_test(separator_detection),
        cmocka_unit_test(blank_lines_and_empty_input),
        cmocka_unit_test(malformed_lines),
        cmocka_unit_test(nul_byte_is_visible),
        cmocka_unit_test(nul_byte_flagged),
        cmocka_unit_test(long_field_across_buffers),
        cmocka_unit_test(writer_round_trip),
        cmocka_unit_test(formulas_neutralised_and_read_back),
        cmocka_unit_test(encoding_detection),
        cmocka_unit_test(cp1252_table),
        cmocka_unit_test(decoding),
        cmocka_unit_test(encoding_writer),
        cmocka_unit_test(reader_transcodes),
        cmocka_unit_test(tab_separator_detected),
        cmocka_unit_test(chunking_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
