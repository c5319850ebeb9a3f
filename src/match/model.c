/*
 * The evidence model as text for the store's meta (model.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *patron__match_model_format(const patron__match_model *m)
{
    size_t cap = 8192, n = 0;
    char *out = PATRON_MALLOC(cap);
    int f, l, w;

    if (!out)
        return NULL;
    w = snprintf(out, cap, "v=%d;lambda=%.17g;tfup=%.17g;tfpow=%.17g;tfpown=%.17g;namax=%.17g;",
                 PATRON__MODEL_VERSION, m->lambda, m->tf_up_max, m->tf_power, m->tf_power_name,
                 m->name_address_max);
    n = (size_t)w;
    for (f = 0; f < PATRON__MF_COUNT; f++) {
        for (l = 0; l < PATRON__ML_COUNT; l++) {
            if (m->m[f][l] <= 0 && m->u[f][l] <= 0)
                continue;
            if (cap - n < 128) {
                char *nb = PATRON_REALLOC(out, cap * 2);
                if (!nb) {
                    PATRON_FREE(out);
                    return NULL;
                }
                out = nb;
                cap *= 2;
            }
            n += (size_t)snprintf(out + n, cap - n, "%s.%s=%.17g,%.17g;", patron__match_field_name(f),
                                  patron__match_level_name(l), m->m[f][l], m->u[f][l]);
        }
        if (m->tf_ref[f] > 0 || m->tf_share[f] > 0) {
            if (cap - n < 128) {
                char *nb = PATRON_REALLOC(out, cap * 2);
                if (!nb) {
                    PATRON_FREE(out);
                    return NULL;
                }
                out = nb;
                cap *= 2;
            }
            n += (size_t)snprintf(out + n, cap - n, "tf.%s=%.17g,%.17g;", patron__match_field_name(f),
                                  m->tf_ref[f], m->tf_share[f]);
        }
    }
    return out;
}

static int field_of(const char *s, size_t len)
{
    for (int f = 0; f < PATRON__MF_COUNT; f++) {
        const char *nm = patron__match_field_name(f);
        if (strlen(nm) == len && memcmp(nm, s, len) == 0)
            return f;
    }
    return -1;
}

static int level_of(const char *s, size_t len)
{
    for (int l = 0; l < PATRON__ML_COUNT; l++) {
        const char *nm = patron__match_level_name(l);
        if (strlen(nm) == len && memcmp(nm, s, len) == 0)
            return l;
    }
    return -1;
}

/* a finite number in [lo, hi] from s..end */
static int num(double *out, const char *s, const char *end, double lo, double hi)
{
    char buf[64], *e;
    size_t len = (size_t)(end - s);
    double v;

    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = strtod(buf, &e);
    if (*e || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int patron__match_model_parse(patron__match_model *out, const char *text)
{
    patron__match_model m = *out;
    const char *p = text;
    int version = 0;

    if (!text)
        return -1;
    while (*p) {
        const char *end = strchr(p, ';'), *eq, *dot, *comma;
        if (!end)
            return -1;
        eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return -1;
        if (eq - p == 1 && p[0] == 'v') {
            double v;
            if (num(&v, eq + 1, end, 1, 1000))
                return -1;
            version = (int)v;
            if (version != PATRON__MODEL_VERSION)
                return -1;
        } else if (eq - p == 6 && memcmp(p, "lambda", 6) == 0) {
            if (num(&m.lambda, eq + 1, end, 1e-9, 1 - 1e-9))
                return -1;
        } else if (eq - p == 5 && memcmp(p, "tfpow", 5) == 0) {
            if (num(&m.tf_power, eq + 1, end, 0, 10))
                return -1;
        } else if (eq - p == 6 && memcmp(p, "tfpown", 6) == 0) {
            if (num(&m.tf_power_name, eq + 1, end, 0, 10))
                return -1;
        } else if (eq - p == 5 && memcmp(p, "namax", 5) == 0) {
            if (num(&m.name_address_max, eq + 1, end, -1, 1000))
                return -1;
        } else if (eq - p == 4 && memcmp(p, "tfup", 4) == 0) {
            if (num(&m.tf_up_max, eq + 1, end, 0, 20))
                return -1;
        } else {
            int f, l = -1, tf = 0;
            dot = memchr(p, '.', (size_t)(eq - p));
            comma = memchr(eq, ',', (size_t)(end - eq));
            if (!dot || !comma)
                return -1;
            if (dot - p == 2 && memcmp(p, "tf", 2) == 0) {
                tf = 1;
                f = field_of(dot + 1, (size_t)(eq - dot - 1));
            } else {
                f = field_of(p, (size_t)(dot - p));
                l = level_of(dot + 1, (size_t)(eq - dot - 1));
            }
            if (f < 0 || (!tf && l < 0))
                return -1;
            if (tf) {
                if (num(&m.tf_ref[f], eq + 1, comma, 0, 1e9) || num(&m.tf_share[f], comma + 1, end, 0, 1))
                    return -1;
            } else if (num(&m.m[f][l], eq + 1, comma, 1e-12, 1) || num(&m.u[f][l], comma + 1, end, 1e-12, 1)) {
                return -1;
            }
        }
        p = end + 1;
    }
    if (version != PATRON__MODEL_VERSION)
        return -1;
    *out = m;
    return 0;
}
