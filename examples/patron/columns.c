/*
 * patron — the CSV column layout of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_SEP '|'
#define DEFAULT_SOURCE "import"
#define DEFAULT_COUNTRY "DE"

static const struct {
    const char *name;
    int id;
} address_columns[] = {
    { "street", PATRON_A_STREET },
    { "house_number", PATRON_A_HOUSE_NUMBER },
    { "address_addition", PATRON_A_ADDITION },
    { "postal_code", PATRON_A_POSTAL_CODE },
    { "city", PATRON_A_CITY },
    { "state", PATRON_A_STATE },
    { "country", PATRON_A_COUNTRY },
};

static const char *const export_names[] = {
    "number", "id", "external_source",
    "salutation", "title", "first_name", "last_name", "company",
    "street", "house_number", "address_addition", "postal_code", "city", "state", "country",
    "email", "phone", "birth_date",
    "mobile", "fax", "language", "b2b", "vat_id", "payment_terms", "price_category", "group",
    "newsletter", "notes", "order_text", "login_user", "tags",
    NULL
};

const char *const *layout_export_names(void)
{
    return export_names;
}

static int is_system_field(int f)
{
    switch (f) {
    case PATRON_F_ID:
    case PATRON_F_STATE:
    case PATRON_F_LOCKED:
    case PATRON_F_LOCK_REASON:
    case PATRON_F_LOCKED_AT:
    case PATRON_F_CREATED_AT:
    case PATRON_F_UPDATED_AT:
    case PATRON_F_REVISION:
    case PATRON_F_MERGED_INTO:
        return 1;
    default:
        return 0;
    }
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int valid_property_key(const char *k)
{
    size_t n = strlen(k), i;

    if (n < 1 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)k[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.')
            return 0;
    }
    return 1;
}

static const char *skip_spaces(const char *s)
{
    while (is_space((unsigned char)*s))
        s++;
    return s;
}

/* An optional single letter suffix: "12a", "12 a" (not "12 Apt"). */
static const char *letter_suffix(const char *s)
{
    const char *t = skip_spaces(s);
    if (is_alpha((unsigned char)t[0]) && !is_alpha((unsigned char)t[1]))
        return t + 1;
    return s;
}

/* Does s hold exactly a house number: 12, 12a, 12 a, 12-14, 12/1, 12a-12c? */
static int is_house_number(const char *s)
{
    if (!is_digit((unsigned char)*s))
        return 0;
    while (is_digit((unsigned char)*s))
        s++;
    s = letter_suffix(s);
    s = skip_spaces(s);
    if (*s == '-' || *s == '/') {
        s = skip_spaces(s + 1);
        if (!is_digit((unsigned char)*s))
            return 0;
        while (is_digit((unsigned char)*s))
            s++;
        s = letter_suffix(s);
    }
    return *skip_spaces(s) == '\0';
}

int split_street(const char *s, size_t *street_len, size_t *number_at, size_t *number_len)
{
    size_t i, n;

    for (i = 1; s[i]; i++) {
        if (is_space((unsigned char)s[i - 1]) && is_digit((unsigned char)s[i]) && is_house_number(s + i)) {
            size_t end = i;
            while (end > 0 && is_space((unsigned char)s[end - 1]))
                end--;
            if (end == 0)
                return 0;
            n = strlen(s + i);
            while (n > 0 && is_space((unsigned char)s[i + n - 1]))
                n--;
            *street_len = end;
            *number_at = i;
            *number_len = n;
            return 1;
        }
    }
    return 0;
}

static char *trimmed_copy(const char *s)
{
    size_t n;
    char *r;

    s = skip_spaces(s);
    n = strlen(s);
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        n--;
    r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

/* The columns seen so far, for the check that none is given twice in one
 * pass over the header (a header of 60 000 columns took 7.5 s when each was
 * compared with all before it): fields and address fields by kind and id,
 * properties by name in an open-addressing table of at least 2n slots. */
#define SEEN_IDS 256
typedef struct seen_cols {
    unsigned char fixed[COL_PROPERTY][SEEN_IDS];
    const char **names;
    size_t mask;
} seen_cols;

static size_t name_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* 1 if `col` was seen before (else it is noted), -1 if out of memory. */
static int seen_before(seen_cols *sc, const column *col, size_t n)
{
    if (col->kind != COL_PROPERTY) {
        unsigned id = col->id >= 0 && col->id < SEEN_IDS ? (unsigned)col->id : 0;
        if (sc->fixed[col->kind][id])
            return 1;
        sc->fixed[col->kind][id] = 1;
        return 0;
    }
    if (!sc->names) {
        size_t cap = 16;
        while (cap < 2 * n)
            cap *= 2;
        if (!(sc->names = calloc(cap, sizeof *sc->names)))
            return -1;
        sc->mask = cap - 1;
    }
    for (size_t h = name_hash(col->name) & sc->mask;; h = (h + 1) & sc->mask) {
        if (!sc->names[h]) {
            sc->names[h] = col->name;
            return 0;
        }
        if (strcmp(sc->names[h], col->name) == 0)
            return 1;
    }
}

int layout_init(layout *l, const char *const *names, size_t n, char *err, size_t errlen)
{
    size_t i, j, k;
    int dup;
    seen_cols *sc = calloc(1, sizeof *sc);

    memset(l, 0, sizeof *l);
    l->street = l->house_number = l->source = l->login_hash = l->external = -1;
    l->cols = calloc(n ? n : 1, sizeof *l->cols);
    if (!l->cols || !sc) {
        free(l->cols);
        l->cols = NULL;
        free(sc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        column *col = &l->cols[i];
        char lower[80];
        int f;

        col->name = trimmed_copy(names[i]);
        l->n = i + 1;
        if (!col->name) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (!col->name[0]) {
            snprintf(err, errlen, "column %zu has no name", i + 1);
            goto fail;
        }
        for (j = 0; col->name[j] && j < sizeof lower - 1; j++) {
            char c = col->name[j];
            lower[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        lower[j] = '\0';
        if (col->name[j])
            lower[0] = '\0'; /* too long for any known name */

        col->kind = COL_PROPERTY;
        if (!strcmp(lower, "id") || !strcmp(lower, "external_id")) {
            col->kind = COL_EXTERNAL;
        } else if (!strcmp(lower, "tags")) {
            col->kind = COL_TAGS;
        } else {
            for (k = 0; k < sizeof address_columns / sizeof address_columns[0]; k++) {
                if (!strcmp(lower, address_columns[k].name)) {
                    col->kind = COL_ADDRESS;
                    col->id = address_columns[k].id;
                    break;
                }
            }
            if (col->kind == COL_PROPERTY && lower[0] && (f = patron_field_from_name(lower)) != 0) {
                if (is_system_field(f)) {
                    snprintf(err, errlen, "column '%s' is kept by the library and cannot be set", col->name);
                    goto fail;
                }
                col->kind = COL_FIELD;
                col->id = f;
            }
        }
        if (col->kind == COL_PROPERTY && !valid_property_key(col->name)) {
            snprintf(err, errlen,
                     "column '%.64s' is no field, and not a valid property key "
                     "(1 to 64 letters, digits, '_', '-', '.')",
                     col->name);
            goto fail;
        }
        if ((dup = seen_before(sc, col, n)) != 0) {
            if (dup < 0)
                snprintf(err, errlen, "out of memory");
            else
                snprintf(err, errlen, "column '%s' is given twice", col->name);
            goto fail;
        }
        if (col->kind == COL_ADDRESS && col->id == PATRON_A_STREET)
            l->street = (long)i;
        else if (col->kind == COL_ADDRESS && col->id == PATRON_A_HOUSE_NUMBER)
            l->house_number = (long)i;
        else if (col->kind == COL_FIELD && col->id == PATRON_F_EXTERNAL_SOURCE)
            l->source = (long)i;
        else if (col->kind == COL_FIELD && col->id == PATRON_F_LOGIN_HASH)
            l->login_hash = (long)i;
        else if (col->kind == COL_EXTERNAL)
            l->external = (long)i;
    }
    free(sc->names);
    free(sc);
    return 0;

fail:
    free(sc->names);
    free(sc);
    layout_free(l);
    return -1;
}

void layout_free(layout *l)
{
    size_t i;

    if (l->cols) {
        for (i = 0; i < l->n; i++)
            free(l->cols[i].name);
        free(l->cols);
    }
    memset(l, 0, sizeof *l);
}

size_t layout_address(const patron_customer *c)
{
    size_t n = patron_customer_address_count(c), i;

    for (i = 0; i < n; i++) {
        const char *d = patron_customer_address_get(c, i, PATRON_A_DEFAULT);
        if (d && !strcmp(d, "1"))
            return i;
    }
    return n ? 0 : (size_t)-1;
}

static patron_status fail_col(const column *col, const patron_customer *c, patron_status st, char *err,
                              size_t errlen)
{
    const char *msg = patron_customer_errmsg(c);

    /* The library's messages name the field themselves. */
    if (msg && msg[0] && st != PATRON_E_NOMEM)
        snprintf(err, errlen, "%s", msg);
    else
        snprintf(err, errlen, "%s: %s", col->name, patron_status_message(st));
    return st;
}

static patron_status set_tags(const column *col, patron_customer *c, const char *v, char *err, size_t errlen)
{
    patron_status st;

    while (patron_customer_tag_count(c) > 0) {
        st = patron_customer_tag_remove(c, patron_customer_tag_get(c, 0));
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
    }
    while (v && *v) {
        const char *end = strchr(v, TAG_SEP);
        size_t len = end ? (size_t)(end - v) : strlen(v);
        char *tag = malloc(len + 1), *t;

        if (!tag)
            return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
        memcpy(tag, v, len);
        tag[len] = '\0';
        t = trimmed_copy(tag);
        free(tag);
        if (!t)
            return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
        st = t[0] ? patron_customer_tag_add(c, t) : PATRON_OK;
        free(t);
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
        v = end ? end + 1 : NULL;
    }
    return PATRON_OK;
}

patron_status layout_apply(const layout *l, patron_customer *c, const char *const *values, int update,
                           char *err, size_t errlen)
{
    patron_status st;
    size_t i, addr = layout_address(c);
    int want_address = 0;
    const char *house = l->house_number >= 0 ? values[l->house_number] : NULL;

    /* Does the row touch the address? */
    for (i = 0; i < l->n; i++) {
        if (l->cols[i].kind == COL_ADDRESS && values[i][0])
            want_address = 1;
    }
    if (want_address && addr == (size_t)-1) {
        st = patron_customer_address_add(c, &addr);
        if (st == PATRON_OK)
            st = patron_customer_address_set(c, addr, PATRON_A_DEFAULT, "1");
        if (st != PATRON_OK) {
            snprintf(err, errlen, "%s", patron_customer_errmsg(c));
            return st;
        }
    }

    for (i = 0; i < l->n; i++) {
        const column *col = &l->cols[i];
        const char *v = values[i];

        if (!v[0] && !update)
            continue;
        switch (col->kind) {
        case COL_FIELD:
            if (col->id == PATRON_F_EXTERNAL_SOURCE && l->external >= 0) {
                if (v[0] && !values[l->external][0]) {
                    snprintf(err, errlen, "%s: given without an id", col->name);
                    return PATRON_E_INVALID;
                }
                continue; /* set with the external id */
            }
            st = patron_customer_set(c, col->id, v);
            break;
        case COL_EXTERNAL: {
            const char *src = l->source >= 0 ? values[l->source] : NULL;
            if (!src || !src[0]) {
                const char *old = patron_customer_get(c, PATRON_F_EXTERNAL_SOURCE);
                src = (l->source < 0 && old) ? old : DEFAULT_SOURCE;
            }
            st = patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, v[0] ? src : NULL);
            if (st == PATRON_OK)
                st = patron_customer_set(c, PATRON_F_EXTERNAL_ID, v);
            break;
        }
        case COL_ADDRESS:
            if (addr == (size_t)-1)
                continue; /* update clearing an address that is not there */
            if (col->id == PATRON_A_HOUSE_NUMBER && !v[0] && l->street >= 0) {
                size_t sl, at, nl;
                if (split_street(values[l->street], &sl, &at, &nl))
                    continue; /* the street column gives the number */
            }
            if (col->id == PATRON_A_STREET && (!house || !house[0])) {
                size_t sl, at, nl;
                if (split_street(v, &sl, &at, &nl)) {
                    char *buf = malloc(sl + nl + 2);
                    if (!buf)
                        return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
                    memcpy(buf, v, sl);
                    buf[sl] = '\0';
                    memcpy(buf + sl + 1, v + at, nl);
                    buf[sl + 1 + nl] = '\0';
                    st = patron_customer_address_set(c, addr, PATRON_A_STREET, buf);
                    if (st == PATRON_OK)
                        st = patron_customer_address_set(c, addr, PATRON_A_HOUSE_NUMBER, buf + sl + 1);
                    free(buf);
                    break;
                }
            }
            if (col->id == PATRON_A_COUNTRY && !v[0])
                v = DEFAULT_COUNTRY;
            st = patron_customer_address_set(c, addr, col->id, v);
            break;
        case COL_TAGS:
            st = set_tags(col, c, v, err, errlen);
            if (st != PATRON_OK)
                return st;
            continue;
        case COL_PROPERTY:
            st = patron_customer_prop_set(c, col->name, v[0] ? v : NULL);
            if (st == PATRON_E_NOT_FOUND && !v[0])
                st = PATRON_OK;
            break;
        default:
            continue;
        }
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
    }
    return PATRON_OK;
}

int layout_value(const layout *l, size_t i, const patron_customer *c, const char **out, char **tmp)
{
    const column *col = &l->cols[i];

    *out = NULL;
    switch (col->kind) {
    case COL_FIELD:
        if (col->id != PATRON_F_LOGIN_HASH)
            *out = patron_customer_get(c, col->id);
        return 0;
    case COL_EXTERNAL:
        *out = patron_customer_get(c, PATRON_F_EXTERNAL_ID);
        return 0;
    case COL_ADDRESS: {
        size_t a = layout_address(c);
        if (a != (size_t)-1)
            *out = patron_customer_address_get(c, a, col->id);
        return 0;
    }
    case COL_TAGS: {
        size_t n = patron_customer_tag_count(c), k, len = 0;
        char *p;
        if (!n)
            return 0;
        for (k = 0; k < n; k++)
            len += strlen(patron_customer_tag_get(c, k)) + 1;
        free(*tmp);
        *tmp = p = malloc(len);
        if (!p)
            return -1;
        for (k = 0; k < n; k++) {
            const char *t = patron_customer_tag_get(c, k);
            size_t tl = strlen(t);
            memcpy(p, t, tl);
            p += tl;
            *p++ = k + 1 < n ? TAG_SEP : '\0';
        }
        *out = *tmp;
        return 0;
    }
    case COL_PROPERTY:
        *out = patron_customer_prop_get(c, col->name);
        return 0;
    default:
        return 0;
    }
}
