/* Benchmarks: load a customer CSV (the generator's layout) into a patron_db.
 * Read with the command-line tool's CSV reader (examples/patron/csv.c,
 * RFC 4180); columns by header name. */
#ifndef PATRON_BENCH_CSVLOAD_H
#define PATRON_BENCH_CSVLOAD_H
#include <patron/memory.h>

#include "csv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double perf_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of the whole process (all threads), in seconds. */
static inline double perf_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum { PC_ID, PC_FIRST, PC_LAST, PC_COMPANY, PC_STREET, PC_POSTAL, PC_CITY, PC_COUNTRY, PC_EMAIL,
       PC_PHONE, PC_BIRTH, PC_N };

/* col[PC_...]: where each column is in the header record `hdr`, -1 if absent. */
static inline void perf_columns(int col[PC_N], const csv_record *hdr)
{
    static const char *const names[PC_N] = { "id", "first_name", "last_name", "company", "street",
                                             "postal_code", "city", "country", "email", "phone",
                                             "birth_date" };
    for (int i = 0; i < PC_N; i++) {
        col[i] = -1;
        for (size_t j = 0; j < hdr->n; j++)
            if (strcmp(hdr->fields[j], names[i]) == 0)
                col[i] = (int)j;
    }
}

/* The value of column PC_... `i` in `rec`, "" if the file has no such column. */
static inline const char *perf_value(const csv_record *rec, const int col[PC_N], int i)
{
    return col[i] >= 0 && (size_t)col[i] < rec->n ? rec->fields[col[i]] : "";
}

/* A customer of one row's values v[PC_...] (one address); NULL if the
 * library refuses a value. */
static inline patron_customer *perf_customer(const char *const v[PC_N])
{
    patron_customer *c;
    size_t a;
    if (patron_customer_new(&c) != PATRON_OK)
        return NULL;
    if (patron_customer_address_add(c, &a) ||
        patron_customer_set(c, PATRON_F_EXTERNAL_ID, v[PC_ID]) ||
        patron_customer_set(c, PATRON_F_FIRST_NAME, v[PC_FIRST]) ||
        patron_customer_set(c, PATRON_F_LAST_NAME, v[PC_LAST]) ||
        patron_customer_set(c, PATRON_F_COMPANY, v[PC_COMPANY]) ||
        patron_customer_set(c, PATRON_F_EMAIL, v[PC_EMAIL]) ||
        patron_customer_set(c, PATRON_F_PHONE, v[PC_PHONE]) ||
        patron_customer_set(c, PATRON_F_BIRTH_DATE, v[PC_BIRTH]) ||
        patron_customer_address_set(c, a, PATRON_A_STREET, v[PC_STREET]) ||
        patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, v[PC_POSTAL]) ||
        patron_customer_address_set(c, a, PATRON_A_CITY, v[PC_CITY]) ||
        (*v[PC_COUNTRY] && patron_customer_address_set(c, a, PATRON_A_COUNTRY, v[PC_COUNTRY]))) {
        patron_customer_free(c);
        return NULL;
    }
    return c;
}

/* Load `path` into `db`; returns the number of customers, -1 on error.
 * Rows the library refuses are counted in *refused. */
static inline long perf_load(patron_db *db, const char *path, long *refused)
{
    FILE *fp = fopen(path, "rb");
    csv_reader *r = NULL;
    csv_record rec;
    int col[PC_N];
    long n = 0;
    *refused = 0;
    if (!fp || csv_reader_open(&r, fp, ',') < 0 || csv_read(r, &rec) <= 0) {
        fprintf(stderr, "cannot read %s\n", path);
        if (fp)
            fclose(fp);
        csv_reader_free(r);
        return -1;
    }
    perf_columns(col, &rec);
    for (;;) {
        int k = csv_read(r, &rec);
        const char *v[PC_N];
        patron_customer *c;
        if (k < 0) {
            fprintf(stderr, "cannot read %s at line %lu\n", path, csv_reader_line(r));
            n = -1;
            break;
        }
        if (k == 0)
            break;
        if (rec.error) {
            fprintf(stderr, "%s, line %lu: %s\n", path, rec.line, rec.error);
            (*refused)++;
            continue;
        }
        for (int i = 0; i < PC_N; i++)
            v[i] = perf_value(&rec, col, i);
        c = perf_customer(v);
        if (!c || patron_db_create(db, c) != PATRON_OK)
            (*refused)++;
        else
            n++;
        patron_customer_free(c);
    }
    csv_reader_free(r);
    fclose(fp);
    return n;
}

/* Peak resident memory of this process in MiB (Linux), or -1. */
static inline double perf_peak_mib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = atof(line + 6);
    fclose(fp);
    return kib < 0 ? -1 : kib / 1024.0;
}
#endif
