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
    assert_int_equal(rec.line, line);
    assert_int_equal(rec.n, n);
    va_start(ap, n);
    for (i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        assert_string_equal(rec.fields[i], want);
        assert_int_equal(rec.lens[i], strlen(want));
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
        cmocka_unit_test(long_field_across_buffers),
        cmocka_unit_test(writer_round_trip),
        cmocka_unit_test(formulas_neutralised_and_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
