/*
 * Quality harness for the matcher: measures the product.  Reads a customer
 * CSV (the layout of ../shared/data/gen_customers.py and
 * febrl/to_customers.py) with the command-line tool's CSV reader, creates
 * every row as a customer in a memory store through the public API
 * (patron_db_open_memory, patron_db_create), runs patron_db_dedupe - the
 * very batch dedupe a host calls - and writes "id_a,id_b,score,decision"
 * for every pair judged merge or review, ids being the rows' 'id' column.
 * Score with ../shared/data/score_pairs.py (tests/match/run_quality.py).
 *
 *   quality [--mode fields|email] [--estimate] [--identifier COLUMN] [--out PAIRS.csv] CUSTOMERS.csv
 *
 * --identifier COLUMN: the column COLUMN is read as the custom property of
 * that name and declared an identifier (patron_db_match_config_identifier_add),
 * as `patron dedupe --identifier` does: FEBRL's soc_sec_id.
 *
 * --estimate: after loading, patron_db_estimate() on the store (its model
 * stored and in force), then the dedupe: the figures "after estimation".
 * The estimate's report goes to stderr.
 *
 * A value the library refuses (a birth date that is no real date) is left
 * out and the row takes part without it, as `patron dedupe` does; a row the
 * library refuses as a whole is left out.  Both are counted on stderr, with
 * the timings.
 *
 * SPDX-License-Identifier: MIT
 */
#include <patron/memory.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "quality: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

/* The columns read, and where each goes: a customer field (is_addr 0) or
 * a field of the one address (is_addr 1). */
static const struct {
    const char *name;
    int is_addr;
    int field;
} columns[] = {
    { "first_name", 0, PATRON_F_FIRST_NAME },
    { "last_name", 0, PATRON_F_LAST_NAME },
    { "company", 0, PATRON_F_COMPANY },
    { "email", 0, PATRON_F_EMAIL },
    { "phone", 0, PATRON_F_PHONE },
    { "birth_date", 0, PATRON_F_BIRTH_DATE },
    { "street", 1, PATRON_A_STREET },
    { "house_number", 1, PATRON_A_HOUSE_NUMBER },
    { "address_addition", 1, PATRON_A_ADDITION },
    { "postal_code", 1, PATRON_A_POSTAL_CODE },
    { "city", 1, PATRON_A_CITY },
    { "country", 1, PATRON_A_COUNTRY },
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

/* The rows' ids by internal id (the memory store numbers from 1). */
typedef struct idmap {
    char **id;
    size_t n;
} idmap;

static void idmap_put(idmap *m, int64_t internal, const char *id)
{
    size_t i = (size_t)internal, old = m->n;

    if (internal <= 0)
        return;
    if (i >= m->n) {
        size_t n = m->n ? m->n : 1024;
        while (n <= i)
            n *= 2;
        m->id = xrealloc(m->id, n * sizeof *m->id);
        memset(m->id + old, 0, (n - old) * sizeof *m->id);
        m->n = n;
    }
    m->id[i] = strdup(id);
    if (!m->id[i]) {
        fprintf(stderr, "quality: out of memory\n");
        exit(2);
    }
}

static const char *idmap_get(const idmap *m, int64_t internal)
{
    return internal > 0 && (size_t)internal < m->n && m->id[internal] ? m->id[internal] : "?";
}

static void usage(void)
{
    fprintf(stderr, "usage: quality [--mode fields|email] [--estimate] [--identifier COLUMN] [--out FILE] "
                    "CUSTOMERS.csv\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *out_path = NULL, *ident = NULL;
    int mode = PATRON_MATCH_FIELDS, i, k, estimate = 0;
    int col_id = -1, col_ident = -1, col[N_COLUMNS];
    FILE *in, *out = stdout;
    csv_reader *r = NULL;
    csv_record rec;
    patron_db *db = NULL;
    patron_pairs *pairs = NULL;
    idmap m = { NULL, 0 };
    size_t rows = 0, loaded = 0, values_refused = 0, rows_refused = 0, merges = 0, reviews = 0, n, p;
    double t0 = now(), t1, t2, te = 0;
    patron_status st;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "email") == 0)
                mode = PATRON_MATCH_EMAIL;
            else if (strcmp(v, "fields") == 0)
                mode = PATRON_MATCH_FIELDS;
            else
                usage();
        } else if (strcmp(argv[i], "--estimate") == 0) {
            estimate = 1;
        } else if (strcmp(argv[i], "--identifier") == 0 && i + 1 < argc) {
            ident = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            usage();
        } else if (!path) {
            path = argv[i];
        } else {
            usage();
        }
    }
    if (!path)
        usage();

    in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "quality: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (csv_reader_open(&r, in, ',') < 0 || (k = csv_read(r, &rec)) < 0) {
        fprintf(stderr, "quality: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (k == 0 || rec.error) {
        fprintf(stderr, "quality: %s, line 1 (header): %s\n", path, k == 0 ? "empty file" : rec.error);
        return 2;
    }
    for (i = 0; i < (int)N_COLUMNS; i++)
        col[i] = -1;
    for (p = 0; p < rec.n; p++) {
        if (strcmp(rec.fields[p], "id") == 0)
            col_id = (int)p;
        if (ident && strcmp(rec.fields[p], ident) == 0)
            col_ident = (int)p;
        for (i = 0; i < (int)N_COLUMNS; i++)
            if (strcmp(rec.fields[p], columns[i].name) == 0)
                col[i] = (int)p;
    }
    if (col_id < 0) {
        fprintf(stderr, "quality: %s has no id column\n", path);
        return 2;
    }
    if (ident && col_ident < 0) {
        fprintf(stderr, "quality: %s has no column %s (--identifier)\n", path, ident);
        return 2;
    }
    if (patron_db_open_memory(&db, NULL) != PATRON_OK) {
        fprintf(stderr, "quality: cannot open a memory store\n");
        return 2;
    }
    if (ident && patron_db_match_config_identifier_add(db, ident) != PATRON_OK) {
        fprintf(stderr, "quality: --identifier %s: %s\n", ident, patron_db_errmsg(db));
        return 2;
    }

    /* Load: one customer per row, through the public API. */
    for (;;) {
        patron_customer *c;
        size_t addr;

        k = csv_read(r, &rec);
        if (k < 0) {
            fprintf(stderr, "quality: cannot read %s at line %lu: %s\n", path, csv_reader_line(r),
                    strerror(errno));
            return 2;
        }
        if (k == 0)
            break;
        rows++;
        if (rec.error || (size_t)col_id >= rec.n) {
            fprintf(stderr, "quality: %s, line %lu: %s\n", path, rec.line, rec.error ? rec.error : "too few fields");
            rows_refused++;
            continue;
        }
        if (patron_customer_new(&c) != PATRON_OK || patron_customer_address_add(c, &addr) != PATRON_OK) {
            fprintf(stderr, "quality: out of memory\n");
            return 2;
        }
        if (patron_customer_set(c, PATRON_F_EXTERNAL_ID, rec.fields[col_id]) != PATRON_OK)
            values_refused++;
        for (i = 0; i < (int)N_COLUMNS; i++) {
            const char *v = col[i] >= 0 && (size_t)col[i] < rec.n ? rec.fields[col[i]] : "";
            if (!v[0])
                continue;
            st = columns[i].is_addr ? patron_customer_address_set(c, addr, columns[i].field, v)
                                    : patron_customer_set(c, columns[i].field, v);
            if (st == PATRON_E_NOMEM) {
                fprintf(stderr, "quality: out of memory\n");
                return 2;
            }
            if (st != PATRON_OK)
                values_refused++; /* the row takes part without it */
        }
        if (col_ident >= 0 && (size_t)col_ident < rec.n && rec.fields[col_ident][0]) {
            st = patron_customer_prop_set(c, ident, rec.fields[col_ident]);
            if (st == PATRON_E_NOMEM) {
                fprintf(stderr, "quality: out of memory\n");
                return 2;
            }
            if (st != PATRON_OK)
                values_refused++;
        }
        st = patron_db_create(db, c);
        if (st == PATRON_OK) {
            idmap_put(&m, patron_customer_id(c), rec.fields[col_id]);
            loaded++;
        } else if (st == PATRON_E_NOMEM || st == PATRON_E_STORE) {
            fprintf(stderr, "quality: line %lu: %s\n", rec.line, patron_db_errmsg(db));
            return 2;
        } else {
            rows_refused++;
        }
        patron_customer_free(c);
    }
    csv_reader_free(r);
    fclose(in);
    t1 = now();

    /* The model estimated from this store, then used by the dedupe. */
    if (estimate) {
        patron_estimate_report rep = PATRON_ESTIMATE_REPORT_INIT;
        st = patron_db_estimate(db, &rep, NULL);
        if (st != PATRON_OK) {
            fprintf(stderr, "quality: estimate: %s\n", patron_db_errmsg(db));
            return 2;
        }
        te = now() - t1;
        fprintf(stderr, "quality: estimate: %s (stored %d, flags %u, prior %.3g, %.2f s)\n", rep.message,
                rep.stored, rep.flags, rep.prior, te);
        t1 = now();
    }

    /* The product's batch dedupe. */
    st = patron_db_dedupe(db, &pairs, mode);
    if (st != PATRON_OK) {
        fprintf(stderr, "quality: dedupe: %s\n", patron_db_errmsg(db));
        return 2;
    }
    t2 = now();

    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "quality: cannot write %s: %s\n", out_path, strerror(errno));
        return 2;
    }
    fputs("id_a,id_b,score,decision\n", out);
    n = patron_pairs_count(pairs);
    for (p = 0; p < n; p++) {
        int64_t a, b;
        double score;
        patron_decision decision;
        if (patron_pairs_get(pairs, &a, &b, &score, &decision, p) != PATRON_OK ||
            decision == PATRON_DECISION_DISTINCT)
            continue;
        merges += decision == PATRON_DECISION_MERGE;
        reviews += decision == PATRON_DECISION_REVIEW;
        csv_write_str(out, ',', idmap_get(&m, a));
        putc(',', out);
        csv_write_str(out, ',', idmap_get(&m, b));
        fprintf(out, ",%.2f,%s\n", score, patron_decision_name(decision));
    }
    if ((ferror(out) | (out != stdout ? fclose(out) : fflush(out))) != 0) {
        fprintf(stderr, "quality: cannot write %s\n", out_path ? out_path : "the output");
        return 2;
    }

    fprintf(stderr,
            "quality: %zu rows, %zu customers (%zu rows refused, %zu values left out), %zu merge, %zu review\n",
            rows, loaded, rows_refused, values_refused, merges, reviews);
    fprintf(stderr, "quality: load %.2f s, patron_db_dedupe %.2f s\n", t1 - t0, t2 - t1);

    patron_pairs_free(pairs);
    patron_db_close(db);
    for (p = 0; p < m.n; p++)
        free(m.id[p]);
    free(m.id);
    return 0;
}
