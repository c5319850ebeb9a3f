/* patron — the customer record in memory.  SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

patron_status patron__cust_error(patron_customer *c, patron_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

static patron_status cust_ok(patron_customer *c)
{
    c->errmsg[0] = '\0';
    return PATRON_OK;
}

patron_status patron_customer_new(patron_customer **out)
{
    patron_customer *c;
    if (!out)
        return PATRON_E_INVALID;
    *out = NULL;
    c = patron__calloc(1, sizeof *c);
    if (!c)
        return PATRON_E_NOMEM;
    *out = c;
    return PATRON_OK;
}

static void addr_clear(patron__address *a)
{
    for (int f = 0; f < PATRON_A__END; f++) {
        patron__free(a->f[f]);
        a->f[f] = NULL;
    }
}

void patron__cust_clear(patron_customer *c)
{
    for (int f = 0; f < PATRON_F__END; f++) {
        patron__free(c->f[f]);
        c->f[f] = NULL;
    }
    for (size_t i = 0; i < c->n_addr; i++)
        addr_clear(&c->addr[i]);
    patron__free(c->addr);
    for (size_t i = 0; i < c->n_tags; i++)
        patron__free(c->tags[i]);
    patron__free(c->tags);
    for (size_t i = 0; i < c->n_props; i++) {
        patron__free(c->prop_k[i]);
        patron__free(c->prop_v[i]);
    }
    patron__free(c->prop_k);
    patron__free(c->prop_v);
    c->addr = NULL;
    c->tags = NULL;
    c->prop_k = c->prop_v = NULL;
    c->n_addr = c->cap_addr = c->n_tags = c->cap_tags = c->n_props = c->cap_props = 0;
    c->checked = false;
    c->ok = 0;
    c->consent_carried = false;
    c->errmsg[0] = '\0';
}

void patron_customer_free(patron_customer *c)
{
    if (!c)
        return;
    patron__cust_clear(c);
    patron__free(c);
}

void patron__cust_move(patron_customer *dst, patron_customer *src)
{
    patron__cust_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
    dst->errmsg[0] = '\0';
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t nc;
    void *na;
    if (need <= *cap)
        return true;
    nc = *cap ? *cap * 2 : 4;
    while (nc < need)
        nc *= 2;
    na = patron__realloc(*arr, nc * elem);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

patron_status patron__cust_copy(patron_customer *dst, const patron_customer *src)
{
    patron_customer tmp;
    memset(&tmp, 0, sizeof tmp);
    for (int f = 0; f < PATRON_F__END; f++)
        if (src->f[f] && !(tmp.f[f] = patron__strdup(src->f[f])))
            goto oom;
    if (src->n_addr) {
        tmp.addr = patron__calloc(src->n_addr, sizeof *tmp.addr);
        if (!tmp.addr)
            goto oom;
        tmp.cap_addr = src->n_addr;
        for (size_t i = 0; i < src->n_addr; i++) {
            tmp.n_addr = i + 1;
            for (int f = 0; f < PATRON_A__END; f++)
                if (src->addr[i].f[f] && !(tmp.addr[i].f[f] = patron__strdup(src->addr[i].f[f])))
                    goto oom;
        }
    }
    if (src->n_tags) {
        tmp.tags = patron__calloc(src->n_tags, sizeof *tmp.tags);
        if (!tmp.tags)
            goto oom;
        tmp.cap_tags = src->n_tags;
        for (size_t i = 0; i < src->n_tags; i++) {
            if (!(tmp.tags[i] = patron__strdup(src->tags[i])))
                goto oom;
            tmp.n_tags = i + 1;
        }
    }
    if (src->n_props) {
        tmp.prop_k = patron__calloc(src->n_props, sizeof *tmp.prop_k);
        tmp.prop_v = patron__calloc(src->n_props, sizeof *tmp.prop_v);
        if (!tmp.prop_k || !tmp.prop_v) {
            tmp.n_props = 0;
            goto oom;
        }
        tmp.cap_props = src->n_props;
        tmp.n_props = src->n_props;
        for (size_t i = 0; i < src->n_props; i++)
            if (!(tmp.prop_k[i] = patron__strdup(src->prop_k[i])) ||
                !(tmp.prop_v[i] = patron__strdup(src->prop_v[i])))
                goto oom;
    }
    patron__cust_move(dst, &tmp);
    return PATRON_OK;
oom:
    patron__cust_clear(&tmp); /* frees both property arrays, NULL or not */
    return PATRON_E_NOMEM;
}

patron_status patron_customer_clone(const patron_customer *c, patron_customer **out)
{
    patron_customer *n;
    patron_status st;
    if (!out || !c)
        return PATRON_E_INVALID;
    *out = NULL;
    st = patron_customer_new(&n);
    if (st)
        return st;
    st = patron__cust_copy(n, c);
    if (st) {
        patron_customer_free(n);
        return st;
    }
    *out = n;
    return PATRON_OK;
}

static bool streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool patron__cust_equal(const patron_customer *a, const patron_customer *b)
{
    for (int f = 0; f < PATRON_F__END; f++)
        if (!streq(a->f[f], b->f[f]))
            return false;
    if (a->n_addr != b->n_addr || a->n_tags != b->n_tags || a->n_props != b->n_props)
        return false;
    for (size_t i = 0; i < a->n_addr; i++)
        for (int f = 0; f < PATRON_A__END; f++)
            if (!streq(a->addr[i].f[f], b->addr[i].f[f]))
                return false;
    for (size_t i = 0; i < a->n_tags; i++)
        if (!streq(a->tags[i], b->tags[i]))
            return false;
    for (size_t i = 0; i < a->n_props; i++)
        if (!streq(a->prop_k[i], b->prop_k[i]) || !streq(a->prop_v[i], b->prop_v[i]))
            return false;
    return true;
}

const char *patron_customer_errmsg(const patron_customer *c)
{
    return c ? c->errmsg : "no record (NULL)";
}

const char *patron_customer_get(const patron_customer *c, int field)
{
    if (!c || field <= 0 || field >= PATRON_F__END)
        return NULL;
    return c->f[field];
}

patron_status patron__cust_put(patron_customer *c, int field, const char *value)
{
    char *copy = NULL;
    if (value && *value && !(copy = patron__strdup(value)))
        return PATRON_E_NOMEM;
    patron__free(c->f[field]);
    c->f[field] = copy;
    c->checked = false;
    c->ok &= ~(UINT64_C(1) << field);
    return PATRON_OK;
}

patron_status patron__cust_put_i64(patron_customer *c, int field, int64_t v)
{
    /* by hand: snprintf was a tenth of an import's time (four per record) */
    char b[24], *p = b + sizeof b - 1;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return patron__cust_put(c, field, p);
}

/* An address value checked; the message names it "address N field", a
 * name made only when the value is refused (the check is pure, so it runs
 * again with the name). */
static patron_status check_addr_value(patron_customer *c, size_t index, const patron__field_info *fi,
                                      const char *value, char *name, size_t name_size, const char **canon,
                                      char *cbuf, size_t cbuf_size)
{
    patron_status st = patron__check_value(fi->name, fi, value, c->errmsg, sizeof c->errmsg, canon, cbuf,
                                           cbuf_size);
    if (st == PATRON_OK)
        return st;
    snprintf(name, name_size, "address %zu %s", index + 1, fi->name);
    return patron__check_value(name, fi, value, c->errmsg, sizeof c->errmsg, canon, cbuf, cbuf_size);
}

bool patron__is_numeric_field(int f)
{
    return f == PATRON_F_ID || f == PATRON_F_REVISION || f == PATRON_F_CREATED_AT ||
           f == PATRON_F_UPDATED_AT || f == PATRON_F_LOCKED_AT || f == PATRON_F_MERGED_INTO ||
           f == PATRON_F_NEWSLETTER_AT || f == PATRON_F_ERASED_AT;
}

const char *patron__state_name(int state)
{
    switch (state) {
    case PATRON_STATE_PENDING: return "pending";
    case PATRON_STATE_ACTIVE: return "active";
    case PATRON_STATE_MERGED: return "merged";
    case PATRON_STATE_ERASED: return "erased";
    default: return NULL;
    }
}

int patron__state_from_name(const char *s)
{
    if (!s)
        return PATRON_STATE_NONE;
    if (strcmp(s, "pending") == 0)
        return PATRON_STATE_PENDING;
    if (strcmp(s, "active") == 0)
        return PATRON_STATE_ACTIVE;
    if (strcmp(s, "merged") == 0)
        return PATRON_STATE_MERGED;
    if (strcmp(s, "erased") == 0)
        return PATRON_STATE_ERASED;
    return -1;
}

patron_status patron_customer_set(patron_customer *c, int field, const char *value)
{
    const patron__field_info *fi;
    const char *canon;
    char cbuf[256];
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    fi = patron__field(field);
    if (!fi)
        return patron__cust_error(c, PATRON_E_INVALID, "unknown field id %d", field);
    if (fi->kind == PK_SYSTEM)
        return patron__cust_error(c, PATRON_E_INVALID,
                                  "%s is maintained by the library and cannot be set", fi->name);
    if (field == PATRON_F_NUMBER && patron_customer_state(c) != PATRON_STATE_NONE &&
        !streq(c->f[field], (value && *value) ? value : NULL))
        return patron__cust_error(c, PATRON_E_STATE,
                                  c->f[field] ? "the customer number is assigned and never changes"
                                              : "a saved customer gets its number when activated");
    if (value && *value) {
        st = patron__check_value(fi->name, fi, value, c->errmsg, sizeof c->errmsg, &canon, cbuf,
                                 sizeof cbuf);
        if (st)
            return st;
        if (canon)
            value = canon;
    }
    st = patron__cust_put(c, field, value);
    if (st)
        return patron__cust_error(c, st, "out of memory");
    if (value && *value)
        c->ok |= UINT64_C(1) << field; /* checked above, canonical */
    return cust_ok(c);
}

/* ---- a consent time carried in (patron_customer_set_consent_time) ------- */

patron_status patron__consent_time_parse(const char *value, int64_t now, char *msg, size_t cap, int64_t *out)
{
    uint64_t t = 0;
    size_t i = 0;
    for (; value[i] >= '0' && value[i] <= '9'; i++) {
        if (t > (uint64_t)INT64_MAX / 10 - 1) {
            i = 0; /* too large for a time: not a timestamp */
            break;
        }
        t = t * 10 + (uint64_t)(value[i] - '0');
    }
    if (i == 0 || value[i] != '\0') {
        snprintf(msg, cap, "newsletter_at must be a timestamp, seconds since 1970 in decimal, not '%.40s%s'", value,
                 strlen(value) > 40 ? "..." : "");
        return PATRON_E_INVALID;
    }
    if ((int64_t)t < PATRON_CONSENT_TIME_MIN) {
        snprintf(msg, cap, "newsletter_at %lld is before 1990 (%d): no consent proof is that old", (long long)t,
                 PATRON_CONSENT_TIME_MIN);
        return PATRON_E_INVALID;
    }
    if ((int64_t)t > now + PATRON_CONSENT_TIME_SKEW) {
        snprintf(msg, cap,
                 "newsletter_at %lld is in the future (now is %lld; at most %d seconds of clock skew are taken)",
                 (long long)t, (long long)now, PATRON_CONSENT_TIME_SKEW);
        return PATRON_E_INVALID;
    }
    *out = (int64_t)t;
    return PATRON_OK;
}

/* A record never saved that carries a consent time: the time is one
 * patron__consent_time_parse() takes, and the consent comes with it.
 * Records saved before keep the time the library stamped (not checked). */
static patron_status check_carried_consent(const patron_customer *c, char *msg, size_t cap)
{
    int64_t t;
    if (!c->f[PATRON_F_NEWSLETTER_AT] || c->f[PATRON_F_STATE] || c->f[PATRON_F_ID])
        return PATRON_OK;
    if (!c->f[PATRON_F_NEWSLETTER]) {
        snprintf(msg, cap, "newsletter_at (the time of the newsletter consent) is given without the consent: "
                           "give newsletter with it, or leave newsletter_at out");
        return PATRON_E_INVALID;
    }
    return patron__consent_time_parse(c->f[PATRON_F_NEWSLETTER_AT], (int64_t)time(NULL), msg, cap, &t);
}

patron_status patron_customer_set_consent_time(patron_customer *c, const char *value)
{
    int64_t t;
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    if (patron_customer_state(c) != PATRON_STATE_NONE || patron_customer_id(c) != 0)
        return patron__cust_error(c, PATRON_E_STATE,
                                  "the consent time is carried only into a customer never saved (an import); "
                                  "a saved customer's consent time is stamped by the library");
    if (!value || !*value) {
        if (patron__cust_put(c, PATRON_F_NEWSLETTER_AT, NULL))
            return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
        return cust_ok(c);
    }
    if ((st = patron__consent_time_parse(value, (int64_t)time(NULL), c->errmsg, sizeof c->errmsg, &t)) != 0)
        return st;
    if (patron__cust_put_i64(c, PATRON_F_NEWSLETTER_AT, t))
        return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    return cust_ok(c);
}

patron_status patron_record_set(patron_customer *c, int field, const char *value)
{
    const patron__field_info *fi;
    size_t n;
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    fi = patron__field(field);
    if (!fi)
        return patron__cust_error(c, PATRON_E_INVALID, "unknown field id %d", field);
    if (value && *value) {
        n = strlen(value);
        if (n > fi->max_len)
            return patron__cust_error(c, PATRON_E_INVALID, "%s is too long (%zu bytes)", fi->name, n);
        if (patron__utf8_check(value, n))
            return patron__cust_error(c, PATRON_E_INVALID, "%s is not valid UTF-8", fi->name);
        if (field == PATRON_F_STATE && patron__state_from_name(value) <= 0)
            return patron__cust_error(c, PATRON_E_INVALID, "state must be pending, active, merged or erased");
        if (patron__is_numeric_field(field)) {
            /* canonical decimal, as the library writes them: the JSON shows
             * them as numbers, and ids and revisions must fit int64_t */
            for (size_t i = 0; i < n; i++)
                if (value[i] < '0' || value[i] > '9')
                    return patron__cust_error(c, PATRON_E_INVALID, "%s must be a whole number >= 0",
                                              fi->name);
            const char *max = field == PATRON_F_REVISION ? "18446744073709551615" /* uint64_t */
                                                         : "9223372036854775807"; /* int64_t */
            size_t max_n = strlen(max);
            if ((n > 1 && value[0] == '0') || n > max_n || (n == max_n && strcmp(value, max) > 0))
                return patron__cust_error(c, PATRON_E_INVALID,
                                          "%s must be a whole number from 0 to %s without leading zeros",
                                          fi->name, max);
        }
        if (field == PATRON_F_LOCKED && strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return patron__cust_error(c, PATRON_E_INVALID, "locked must be 0 or 1");
    }
    st = patron__cust_put(c, field, value);
    if (st)
        return patron__cust_error(c, st, "out of memory");
    return cust_ok(c);
}

static int64_t get_i64(const patron_customer *c, int field)
{
    const char *v = c ? c->f[field] : NULL;
    return v ? strtoll(v, NULL, 10) : 0;
}

int64_t patron_customer_id(const patron_customer *c)
{
    return get_i64(c, PATRON_F_ID);
}

uint64_t patron_customer_revision(const patron_customer *c)
{
    const char *v = c ? c->f[PATRON_F_REVISION] : NULL;
    return v ? strtoull(v, NULL, 10) : 0;
}

const char *patron_state_name(patron_state state)
{
    switch (state) {
    case PATRON_STATE_NONE: return "none";
    case PATRON_STATE_PENDING: return "pending";
    case PATRON_STATE_ACTIVE: return "active";
    case PATRON_STATE_MERGED: return "merged";
    case PATRON_STATE_ERASED: return "erased";
    default: return NULL;
    }
}

patron_state patron_customer_state(const patron_customer *c)
{
    int s = c ? patron__state_from_name(c->f[PATRON_F_STATE]) : 0;
    return s > 0 ? (patron_state)s : PATRON_STATE_NONE;
}

int patron_customer_locked(const patron_customer *c)
{
    return c && c->f[PATRON_F_LOCKED] && strcmp(c->f[PATRON_F_LOCKED], "1") == 0;
}

/* ---- addresses ------------------------------------------------------- */

size_t patron_customer_address_count(const patron_customer *c)
{
    return c ? c->n_addr : 0;
}

patron_status patron_customer_address_add(patron_customer *c, size_t *index_out)
{
    patron__address *a;
    char *country, *billing;
    if (!c)
        return PATRON_E_INVALID;
    if (c->n_addr >= 1000)
        return patron__cust_error(c, PATRON_E_INVALID, "a customer has at most 1000 addresses");
    if (!grow((void **)&c->addr, &c->cap_addr, c->n_addr + 1, sizeof *c->addr))
        return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    country = patron__strdup("DE");
    billing = patron__strdup("private");
    if (!country || !billing) {
        patron__free(country);
        patron__free(billing);
        return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    }
    a = &c->addr[c->n_addr];
    memset(a, 0, sizeof *a);
    a->f[PATRON_A_COUNTRY] = country;
    a->f[PATRON_A_BILLING] = billing;
    a->ok = (UINT32_C(1) << PATRON_A_COUNTRY) | (UINT32_C(1) << PATRON_A_BILLING); /* "DE", "private" */
    c->checked = false;
    if (index_out)
        *index_out = c->n_addr;
    c->n_addr++;
    return cust_ok(c);
}

patron_status patron_customer_address_remove(patron_customer *c, size_t index)
{
    if (!c)
        return PATRON_E_INVALID;
    if (index >= c->n_addr)
        return patron__cust_error(c, PATRON_E_RANGE, "no address at index %zu", index);
    addr_clear(&c->addr[index]);
    memmove(&c->addr[index], &c->addr[index + 1], (c->n_addr - index - 1) * sizeof *c->addr);
    c->n_addr--;
    c->checked = false;
    return cust_ok(c);
}

const char *patron_customer_address_get(const patron_customer *c, size_t index, int field)
{
    if (!c || index >= c->n_addr || field <= 0 || field >= PATRON_A__END)
        return NULL;
    return c->addr[index].f[field];
}

patron_status patron_customer_address_set(patron_customer *c, size_t index, int field,
                                          const char *value)
{
    const patron__field_info *fi;
    const char *canon = NULL;
    char cbuf[256], name[64], *copy = NULL;
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    if (index >= c->n_addr)
        return patron__cust_error(c, PATRON_E_RANGE, "no address at index %zu", index);
    fi = patron__address_field(field);
    if (!fi)
        return patron__cust_error(c, PATRON_E_INVALID, "unknown address field id %d", field);
    if (value && *value) {
        st = check_addr_value(c, index, fi, value, name, sizeof name, &canon, cbuf, sizeof cbuf);
        if (st)
            return st;
        if (canon)
            value = canon;
        if (c->addr[index].f[field] && strcmp(c->addr[index].f[field], value) == 0) {
            c->addr[index].ok |= UINT32_C(1) << field; /* checked above, canonical */
            return cust_ok(c); /* the same (as a country over the default "DE"): kept */
        }
        if (!(copy = patron__strdup(value)))
            return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    }
    patron__free(c->addr[index].f[field]);
    c->addr[index].f[field] = copy;
    if (copy)
        c->addr[index].ok |= UINT32_C(1) << field; /* checked above, canonical */
    else
        c->addr[index].ok &= ~(UINT32_C(1) << field);
    c->checked = false;
    return cust_ok(c);
}

patron_status patron__cust_put_addr(patron_customer *c, size_t index, int field, const char *value)
{
    char *copy = NULL;
    if (value && *value && !(copy = patron__strdup(value)))
        return PATRON_E_NOMEM;
    patron__free(c->addr[index].f[field]);
    c->addr[index].f[field] = copy;
    c->addr[index].ok &= ~(UINT32_C(1) << field);
    c->checked = false;
    return PATRON_OK;
}

/* ---- tags -------------------------------------------------------------- */

size_t patron_customer_tag_count(const patron_customer *c)
{
    return c ? c->n_tags : 0;
}

const char *patron_customer_tag_get(const patron_customer *c, size_t index)
{
    return (c && index < c->n_tags) ? c->tags[index] : NULL;
}

patron_status patron_customer_tag_add(patron_customer *c, const char *tag)
{
    static const patron__field_info tag_info = { "tag", PK_TEXT, 100 };
    const char *canon;
    char cbuf[4], *copy;
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    if (!tag || !*tag)
        return patron__cust_error(c, PATRON_E_INVALID, "a tag must not be empty");
    st = patron__check_value("tag", &tag_info, tag, c->errmsg, sizeof c->errmsg, &canon, cbuf,
                             sizeof cbuf);
    if (st)
        return st;
    for (size_t i = 0; i < c->n_tags; i++)
        if (strcmp(c->tags[i], tag) == 0)
            return cust_ok(c);
    if (c->n_tags >= 1000)
        return patron__cust_error(c, PATRON_E_INVALID, "a customer has at most 1000 tags");
    if (!grow((void **)&c->tags, &c->cap_tags, c->n_tags + 1, sizeof *c->tags) ||
        !(copy = patron__strdup(tag)))
        return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    c->tags[c->n_tags++] = copy;
    return cust_ok(c);
}

patron_status patron_customer_tag_remove(patron_customer *c, const char *tag)
{
    if (!c || !tag)
        return PATRON_E_INVALID;
    for (size_t i = 0; i < c->n_tags; i++)
        if (strcmp(c->tags[i], tag) == 0) {
            patron__free(c->tags[i]);
            memmove(&c->tags[i], &c->tags[i + 1], (c->n_tags - i - 1) * sizeof *c->tags);
            c->n_tags--;
            return cust_ok(c);
        }
    return patron__cust_error(c, PATRON_E_NOT_FOUND, "the customer has no such tag");
}

/* ---- custom properties ----------------------------------------------- */

size_t patron_customer_prop_count(const patron_customer *c)
{
    return c ? c->n_props : 0;
}

patron_status patron_customer_prop_at(const patron_customer *c, const char **key, const char **value,
                                      size_t index)
{
    if (key)
        *key = NULL;
    if (value)
        *value = NULL;
    if (!c)
        return PATRON_E_INVALID;
    if (index >= c->n_props)
        return PATRON_E_RANGE;
    if (key)
        *key = c->prop_k[index];
    if (value)
        *value = c->prop_v[index];
    return PATRON_OK;
}

const char *patron_customer_prop_get(const patron_customer *c, const char *key)
{
    if (!c || !key)
        return NULL;
    for (size_t i = 0; i < c->n_props; i++)
        if (strcmp(c->prop_k[i], key) == 0)
            return c->prop_v[i];
    return NULL;
}

patron_status patron_customer_prop_set(patron_customer *c, const char *key, const char *value)
{
    static const patron__field_info val_info = { "property value", PK_MULTILINE, 4000 };
    const char *canon;
    char cbuf[4], *kc, *vc;
    size_t kn;
    patron_status st;
    if (!c)
        return PATRON_E_INVALID;
    kn = key ? strlen(key) : 0;
    if (kn == 0 || kn > 64)
        return patron__cust_error(c, PATRON_E_INVALID, "a property key must be 1 to 64 bytes long");
    for (size_t i = 0; i < kn; i++) {
        char ch = key[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return patron__cust_error(c, PATRON_E_INVALID,
                                      "a property key may hold only letters, digits, '_', '-' and '.'");
    }
    for (size_t i = 0; i < c->n_props; i++) {
        if (strcmp(c->prop_k[i], key) != 0)
            continue;
        if (!value) {
            patron__free(c->prop_k[i]);
            patron__free(c->prop_v[i]);
            memmove(&c->prop_k[i], &c->prop_k[i + 1], (c->n_props - i - 1) * sizeof *c->prop_k);
            memmove(&c->prop_v[i], &c->prop_v[i + 1], (c->n_props - i - 1) * sizeof *c->prop_v);
            c->n_props--;
            return cust_ok(c);
        }
        st = patron__check_value(key, &val_info, value, c->errmsg, sizeof c->errmsg, &canon, cbuf,
                                 sizeof cbuf);
        if (st)
            return st;
        if (!(vc = patron__strdup(value)))
            return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
        patron__free(c->prop_v[i]);
        c->prop_v[i] = vc;
        return cust_ok(c);
    }
    if (!value)
        return cust_ok(c);
    st = patron__check_value(key, &val_info, value, c->errmsg, sizeof c->errmsg, &canon, cbuf,
                             sizeof cbuf);
    if (st)
        return st;
    if (c->n_props >= 1000)
        return patron__cust_error(c, PATRON_E_INVALID, "a customer has at most 1000 properties");
    {
        size_t cap_k = c->cap_props, cap_v = c->cap_props;
        if (!grow((void **)&c->prop_k, &cap_k, c->n_props + 1, sizeof *c->prop_k))
            return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
        if (!grow((void **)&c->prop_v, &cap_v, c->n_props + 1, sizeof *c->prop_v)) {
            /* prop_k grew but prop_v did not: keep the smaller capacity */
            return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
        }
        c->cap_props = cap_k < cap_v ? cap_k : cap_v;
    }
    kc = patron__strdup(key);
    vc = patron__strdup(value);
    if (!kc || !vc) {
        patron__free(kc);
        patron__free(vc);
        return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
    }
    c->prop_k[c->n_props] = kc;
    c->prop_v[c->n_props] = vc;
    c->n_props++;
    return cust_ok(c);
}

/* ---- whole-record checks ---------------------------------------------- */

/* Check everything; with `canonicalize`, also store each value in its
 * canonical form (country "de" -> "DE", booleans "true" -> "1") — values may
 * have come in through patron_record_set() or a store's blob unchecked. */
patron_status patron__cust_validate(patron_customer *c, bool canonicalize)
{
    const char *canon;
    char cbuf[256], name[64];
    size_t defaults = 0;
    bool canonical = true; /* every value in its canonical form */
    patron_status st;
    for (int f = 1; f < PATRON_F__END; f++) {
        const patron__field_info *fi = patron__field(f);
        if (!c->f[f] || fi->kind == PK_SYSTEM || (c->ok >> f & 1))
            continue; /* (ok: checked when set) */
        st = patron__check_value(fi->name, fi, c->f[f], c->errmsg, sizeof c->errmsg, &canon, cbuf,
                                 sizeof cbuf);
        if (st)
            return st;
        if (canon && strcmp(canon, c->f[f]) != 0) {
            if (!canonicalize)
                canonical = false;
            else if (patron__cust_put(c, f, canon))
                return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < c->n_addr; i++) {
        patron__address *a = &c->addr[i];
        for (int f = 1; f < PATRON_A__END; f++) {
            const patron__field_info *fi = patron__address_field(f);
            if (!a->f[f] || (a->ok >> f & 1))
                continue; /* (ok: checked when set) */
            st = check_addr_value(c, i, fi, a->f[f], name, sizeof name, &canon, cbuf, sizeof cbuf);
            if (st)
                return st;
            if (canon && strcmp(canon, a->f[f]) != 0) {
                if (!canonicalize)
                    canonical = false;
                else if (patron__cust_put_addr(c, i, f, canon))
                    return patron__cust_error(c, PATRON_E_NOMEM, "out of memory");
            }
        }
        if (!a->f[PATRON_A_COUNTRY])
            return patron__cust_error(c, PATRON_E_INVALID, "address %zu has no country", i + 1);
        if (a->f[PATRON_A_BILLING] && strcmp(a->f[PATRON_A_BILLING], "company") == 0) {
            if (!a->f[PATRON_A_COMPANY] && !c->f[PATRON_F_COMPANY])
                return patron__cust_error(c, PATRON_E_INVALID,
                                          "address %zu bills a company but no company name is given",
                                          i + 1);
            if (!a->f[PATRON_A_VAT_ID] && !c->f[PATRON_F_VAT_ID])
                return patron__cust_error(c, PATRON_E_INVALID,
                                          "address %zu bills a company but no VAT ID is given", i + 1);
        }
        if (a->f[PATRON_A_DEFAULT] && strcmp(a->f[PATRON_A_DEFAULT], "1") == 0)
            defaults++;
    }
    if (defaults > 1)
        return patron__cust_error(c, PATRON_E_INVALID,
                                  "%zu addresses are marked as default; at most one may be", defaults);
    if ((st = check_carried_consent(c, c->errmsg, sizeof c->errmsg)) != 0)
        return st;
    c->checked = canonical;
    return cust_ok(c);
}

bool patron__cust_valid_canonical(const patron_customer *c)
{
    const char *canon;
    char cbuf[256], msg[256];
    size_t defaults = 0;
    if (c->checked) /* validated, canonical, and unchanged since */
        return true;
    for (int f = 1; f < PATRON_F__END; f++) {
        const patron__field_info *fi = patron__field(f);
        if (!c->f[f] || fi->kind == PK_SYSTEM)
            continue;
        if (patron__check_value(fi->name, fi, c->f[f], msg, sizeof msg, &canon, cbuf, sizeof cbuf) ||
            (canon && strcmp(canon, c->f[f]) != 0))
            return false;
    }
    for (size_t i = 0; i < c->n_addr; i++) {
        const patron__address *a = &c->addr[i];
        for (int f = 1; f < PATRON_A__END; f++) {
            const patron__field_info *fi = patron__address_field(f);
            if (!a->f[f])
                continue;
            if (patron__check_value(fi->name, fi, a->f[f], msg, sizeof msg, &canon, cbuf, sizeof cbuf) ||
                (canon && strcmp(canon, a->f[f]) != 0))
                return false;
        }
        if (!a->f[PATRON_A_COUNTRY])
            return false;
        if (a->f[PATRON_A_BILLING] && strcmp(a->f[PATRON_A_BILLING], "company") == 0 &&
            ((!a->f[PATRON_A_COMPANY] && !c->f[PATRON_F_COMPANY]) || (!a->f[PATRON_A_VAT_ID] && !c->f[PATRON_F_VAT_ID])))
            return false;
        if (a->f[PATRON_A_DEFAULT] && strcmp(a->f[PATRON_A_DEFAULT], "1") == 0)
            defaults++;
    }
    return defaults <= 1 && check_carried_consent(c, msg, sizeof msg) == PATRON_OK;
}

patron_status patron_customer_validate(patron_customer *c)
{
    if (!c)
        return PATRON_E_INVALID;
    return patron__cust_validate(c, false);
}
