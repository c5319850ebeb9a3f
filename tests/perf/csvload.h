/* Benchmarks: load a customer CSV (the generator's layout) into a patron_db.
 * Minimal RFC 4180 reading; columns by header name. */
#ifndef PATRON_PERF_CSVLOAD_H
#define PATRON_PERF_CSVLOAD_H
#include <patron/memory.h>
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

/* Split one line into fields in place; returns the count. */
static inline int perf_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *s = p;
        if (*p == '"') {
            char *w = ++p;
            s = p;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                p++;
        }
        f[n++] = s;
        if (*p != ',') {
            *p = '\0';
            break;
        }
        *p++ = '\0';
    }
    return n;
}

enum { PC_ID, PC_FIRST, PC_LAST, PC_COMPANY, PC_STREET, PC_POSTAL, PC_CITY, PC_COUNTRY, PC_EMAIL,
       PC_PHONE, PC_BIRTH, PC_N };

/* Load `path` into `db`; returns the number of customers, -1 on error.
 * Rows the library refuses are counted in *refused. */
static inline long perf_load(patron_db *db, const char *path, long *refused)
{
    static const char *const names[PC_N] = { "id", "first_name", "last_name", "company", "street",
                                             "postal_code", "city", "country", "email", "phone",
                                             "birth_date" };
    FILE *fp = fopen(path, "r");
    char line[8192], *h[64];
    int col[PC_N], nh;
    long n = 0;
    *refused = 0;
    if (!fp || !fgets(line, sizeof line, fp)) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    nh = perf_split(line, h, 64);
    for (int i = 0; i < PC_N; i++) {
        col[i] = -1;
        for (int j = 0; j < nh; j++)
            if (strcmp(h[j], names[i]) == 0)
                col[i] = j;
    }
    while (fgets(line, sizeof line, fp)) {
        char *f[64];
        int nf = perf_split(line, f, 64);
        patron_customer *c;
        size_t a;
#define PV(i) (col[i] >= 0 && col[i] < nf ? f[col[i]] : "")
        if (patron_customer_new(&c) != PATRON_OK)
            return -1;
        patron_customer_address_add(c, &a);
        if (patron_customer_set(c, PATRON_F_EXTERNAL_ID, PV(PC_ID)) ||
            patron_customer_set(c, PATRON_F_FIRST_NAME, PV(PC_FIRST)) ||
            patron_customer_set(c, PATRON_F_LAST_NAME, PV(PC_LAST)) ||
            patron_customer_set(c, PATRON_F_COMPANY, PV(PC_COMPANY)) ||
            patron_customer_set(c, PATRON_F_EMAIL, PV(PC_EMAIL)) ||
            patron_customer_set(c, PATRON_F_PHONE, PV(PC_PHONE)) ||
            patron_customer_set(c, PATRON_F_BIRTH_DATE, PV(PC_BIRTH)) ||
            patron_customer_address_set(c, a, PATRON_A_STREET, PV(PC_STREET)) ||
            patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, PV(PC_POSTAL)) ||
            patron_customer_address_set(c, a, PATRON_A_CITY, PV(PC_CITY)) ||
            (*PV(PC_COUNTRY) && patron_customer_address_set(c, a, PATRON_A_COUNTRY, PV(PC_COUNTRY))) ||
            patron_db_create(db, c) != PATRON_OK)
            (*refused)++;
        else
            n++;
        patron_customer_free(c);
#undef PV
    }
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
