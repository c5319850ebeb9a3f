/* patron — the matcher's configuration: thresholds, prior, default country,
 * m/u per field and level, identifiers; kept in the store's meta so that
 * every process on one store uses the same model (issue 11).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CONFIG_META_KEY "patron.match.config"
#define CONFIG_VERSION 1

static bool has_meta(const patron_db *db)
{
    return patron__st_has(db, PATRON__CAP_META);
}

typedef struct meta_val {
    char *v;
    bool oom;
} meta_val;

static int take_val(void *ctx, const char *key, const char *value)
{
    meta_val *m = ctx;
    (void)key;
    patron__free(m->v);
    m->v = patron__strdup(value ? value : "");
    m->oom = !m->v;
    return 0;
}

static patron_status meta_read(patron_db *db, const char *key, char **out)
{
    meta_val m = { NULL, false };
    patron_status st = patron__st_meta_get(db, key, take_val, &m, PASS_NOT_FOUND);
    *out = NULL;
    if (st == PATRON_E_NOT_FOUND) {
        patron__free(m.v);
        return PATRON_OK;
    }
    if (st) {
        patron__free(m.v);
        return st;
    }
    if (m.oom)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    *out = m.v;
    return PATRON_OK;
}

/* "v=1;merge=0.98;review=0.6;country=DE;id=kundenkarte;" over cfg; -1 when
 * it is not such a text (cfg unchanged). */
static int config_parse(patron__match_config *cfg, const char *text)
{
    patron__match_config c = *cfg;
    const char *p = text;
    int version = 0;
    c.n_ident = 0;
    while (*p) {
        const char *end = strchr(p, ';'), *eq;
        char val[80];
        size_t kl, vl;
        if (!end || !(eq = memchr(p, '=', (size_t)(end - p))))
            return -1;
        kl = (size_t)(eq - p);
        vl = (size_t)(end - eq - 1);
        if (vl >= sizeof val)
            return -1;
        memcpy(val, eq + 1, vl);
        val[vl] = '\0';
        if (kl == 1 && *p == 'v') {
            version = atoi(val);
            if (version != CONFIG_VERSION)
                return -1;
        } else if (kl == 5 && memcmp(p, "merge", 5) == 0) {
            char *e;
            c.merge_threshold = strtod(val, &e);
            if (*e || !(c.merge_threshold > 0 && c.merge_threshold < 1))
                return -1;
        } else if (kl == 6 && memcmp(p, "review", 6) == 0) {
            char *e;
            c.review_threshold = strtod(val, &e);
            if (*e || !(c.review_threshold > 0 && c.review_threshold < 1))
                return -1;
        } else if (kl == 7 && memcmp(p, "country", 7) == 0) {
            if (vl != 2 || val[0] < 'A' || val[0] > 'Z' || val[1] < 'A' || val[1] > 'Z')
                return -1;
            memcpy(c.default_country, val, 3);
        } else if (kl == 2 && memcmp(p, "id", 2) == 0) {
            if (!vl || vl >= sizeof c.ident[0] || c.n_ident >= PATRON__MATCH_IDENT_MAX - 1)
                return -1;
            memcpy(c.ident[c.n_ident++], val, vl + 1);
        } else {
            return -1;
        }
        p = end + 1;
    }
    if (version != CONFIG_VERSION || c.review_threshold > c.merge_threshold)
        return -1;
    *cfg = c;
    return 0;
}

static char *config_format(const patron__match_config *cfg)
{
    patron_strbuf sb;
    patron__sb_init(&sb);
    patron__sb_printf(&sb, "v=%d;merge=%.17g;review=%.17g;country=%s;", CONFIG_VERSION, cfg->merge_threshold,
                      cfg->review_threshold, cfg->default_country);
    for (size_t i = 0; i < cfg->n_ident; i++)
        patron__sb_printf(&sb, "id=%s;", cfg->ident[i]);
    return patron__sb_detach(&sb, NULL);
}

static uint64_t text_hash(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff; /* the end of one text */
    h *= 0x100000001b3ULL;
    return h;
}

patron_status patron__match_config_load(patron_db *db)
{
    char *conf = NULL, *model = NULL;
    patron_status st;
    uint64_t seen;
    if (!has_meta(db))
        return PATRON_OK;
    if ((st = meta_read(db, CONFIG_META_KEY, &conf)) != 0)
        return st;
    if ((st = meta_read(db, PATRON__MODEL_META_KEY, &model)) != 0) {
        patron__free(conf);
        return st;
    }
    seen = text_hash(text_hash(0xcbf29ce484222325ULL, conf), model) | 1;
    if (seen != db->match_meta_seen) {
        /* another process (or this handle) changed it: start from the
         * defaults, then what the store says; text that is not ours is left
         * out with the defaults in its place (bytes from a store are
         * untrusted) */
        patron__match_config c;
        patron__match_config_default(&c);
        if (model)
            patron__match_model_parse(&c.model, model);
        if (conf)
            config_parse(&c, conf);
        patron__match_config_update(&c);
        if (c.address_max > 0)
            c.address_max += c.address_max_shift; /* an estimated model's prior */
        /* ... and the full name's lift: a rare name alone reaches REVIEW
         * under an estimated prior as under the default one */
        if (c.full_name_max > 0)
            c.full_name_max += c.address_max_shift;
        *db->match_cfg = c;
        db->match_meta_seen = seen;
    }
    patron__free(conf);
    patron__free(model);
    return PATRON_OK;
}

/* Inside the transaction of a configuration change: the default country
 * decides how the keys of a customer without an address are built (the
 * dialling plan of its phone), so a change of it with customers in the
 * store leaves their keys built under the old one: recorded as "-" (mixed)
 * under the index's country, and patron_db_index_state() says stale until
 * patron_db_reindex().  An empty store is built under the new one. */
static patron_status index_follow_country(patron_db *db, const char *country)
{
    patron_status st;
    bool any = false;
    if ((st = patron__match_config_load(db)) != 0)
        return st;
    if (strcmp(db->match_cfg->default_country, country) == 0)
        return PATRON_OK;
    if ((st = patron__st_any(db, &any)) != 0)
        return st;
    return patron__st_meta_put(db, PATRON__INDEX_COUNTRY_META_KEY, any ? "-" : country);
}

/* Write cfg to the store's meta (one transaction) and make it the handle's;
 * with `estimate` non-NULL also what patron_db_estimate() estimated ("" when
 * nothing: the model is the defaults again). */
patron_status patron__match_config_save(patron_db *db, const patron__match_config *cfg, const char *estimate)
{
    patron_status st;
    char *conf, *model;
    if (!has_meta(db)) {
        /* a store without meta: this handle only */
        *db->match_cfg = *cfg;
        if (estimate) {
            patron__free(db->match_estimate);
            db->match_estimate = estimate[0] ? patron__strdup(estimate) : NULL;
        }
        return patron__db_ok(db);
    }
    conf = config_format(cfg);
    model = patron__match_model_format(&cfg->model);
    if (!conf || !model) {
        patron__free(conf);
        patron__free(model);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    if ((st = patron__tx_begin(db)) == 0) {
        st = index_follow_country(db, cfg->default_country);
        if (!st)
            st = patron__st_meta_put(db, CONFIG_META_KEY, conf);
        if (!st)
            st = patron__st_meta_put(db, PATRON__MODEL_META_KEY, model);
        if (!st && estimate)
            st = patron__st_meta_put(db, PATRON__ESTIMATE_META_KEY, estimate);
        st = patron__tx_end(db, st);
    }
    patron__free(conf);
    patron__free(model);
    if (st)
        return st;
    *db->match_cfg = *cfg;
    db->match_meta_seen = 0; /* reload on the next read */
    return patron__db_ok(db);
}

patron_status patron__match_config_fingerprint(patron_db *db, char out[17])
{
    char *conf = config_format(db->match_cfg);
    char *model = patron__match_model_format(&db->match_cfg->model);
    uint64_t h;
    if (!conf || !model) {
        patron__free(conf);
        patron__free(model);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    h = text_hash(text_hash(text_hash(0xcbf29ce484222325ULL, PATRON_VERSION_STRING), conf), model);
    patron__free(conf);
    patron__free(model);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return PATRON_OK;
}

/* The current configuration, freshly from the store. */
static patron_status config_store(patron_db *db, const patron__match_config *cfg)
{
    return patron__match_config_save(db, cfg, NULL);
}

static patron_status config_current(patron_db *db, patron__match_config *out)
{
    /* only reads: no write lock (SQLite: a deferred BEGIN, which never
     * waits for a writer) */
    patron_status st = patron__tx_begin_read(db);
    if (st)
        return st;
    st = patron__tx_end(db, patron__match_config_load(db));
    if (!st)
        *out = *db->match_cfg;
    return st;
}

patron_status patron_db_match_config_get(patron_db *db, patron_match_settings *out)
{
    patron__match_config c;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the settings (NULL)");
    if (out->version < 1 || out->version > PATRON_MATCH_SETTINGS_VERSION)
        return patron__db_error(db, PATRON_E_ABI, "patron_match_settings version %u (this library knows 1..%d)",
                                out->version, PATRON_MATCH_SETTINGS_VERSION);
    if ((st = config_current(db, &c)) != 0)
        return st;
    out->merge_probability = c.merge_threshold;
    out->review_probability = c.review_threshold;
    out->prior = c.lambda;
    memcpy(out->default_country, c.default_country, 3);
    return patron__db_ok(db);
}

patron_status patron_db_match_config_set(patron_db *db, const patron_match_settings *s)
{
    patron__match_config c;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!s)
        return patron__db_error(db, PATRON_E_INVALID, "no settings (NULL)");
    if (s->version < 1 || s->version > PATRON_MATCH_SETTINGS_VERSION)
        return patron__db_error(db, PATRON_E_ABI, "patron_match_settings version %u (this library knows 1..%d)",
                                s->version, PATRON_MATCH_SETTINGS_VERSION);
    if (!(s->merge_probability > 0 && s->merge_probability < 1) ||
        !(s->review_probability > 0 && s->review_probability <= s->merge_probability))
        return patron__db_error(db, PATRON_E_INVALID,
                                "thresholds must be probabilities with 0 < review <= merge < 1 (got %g, %g)",
                                s->review_probability, s->merge_probability);
    if (!(s->prior > 0 && s->prior < 1))
        return patron__db_error(db, PATRON_E_INVALID, "the prior must lie between 0 and 1 (got %g)", s->prior);
    if (!(s->default_country[0] >= 'A' && s->default_country[0] <= 'Z' && s->default_country[1] >= 'A' &&
          s->default_country[1] <= 'Z' && s->default_country[2] == '\0'))
        return patron__db_error(db, PATRON_E_INVALID, "the default country must be an ISO 3166 code such as \"DE\"");
    if ((st = config_current(db, &c)) != 0)
        return st;
    c.merge_threshold = s->merge_probability;
    c.review_threshold = s->review_probability;
    c.lambda = s->prior;
    memcpy(c.default_country, s->default_country, 3);
    patron__match_config_update(&c);
    return config_store(db, &c);
}

static int field_named(const char *name)
{
    for (int f = 0; f < PATRON__MF_COUNT; f++)
        if (name && strcmp(patron__match_field_name(f), name) == 0)
            return f;
    return -1;
}

static int level_named(const char *name)
{
    for (int l = 1; l < PATRON__ML_COUNT; l++) /* "missing" weighs nothing */
        if (name && strcmp(patron__match_level_name(l), name) == 0)
            return l;
    return -1;
}

patron_status patron_db_match_config_probability(patron_db *db, double *m_out, double *u_out, const char *field,
                                                 const char *level)
{
    patron__match_config c;
    patron_status st;
    int f, l;
    if (m_out)
        *m_out = 0;
    if (u_out)
        *u_out = 0;
    if (!db)
        return PATRON_E_INVALID;
    f = field_named(field);
    l = level_named(level);
    if (f < 0 || l < 0)
        return patron__db_error(db, PATRON_E_RANGE, "no comparison level '%s' of field '%s'", level ? level : "(null)",
                                field ? field : "(null)");
    if ((st = config_current(db, &c)) != 0)
        return st;
    if (m_out)
        *m_out = c.m[f][l];
    if (u_out)
        *u_out = c.u[f][l];
    return patron__db_ok(db);
}

patron_status patron_db_match_config_set_probability(patron_db *db, const char *field, const char *level, double m,
                                                     double u)
{
    patron__match_config c;
    patron_status st;
    int f, l;
    if (!db)
        return PATRON_E_INVALID;
    f = field_named(field);
    l = level_named(level);
    if (f < 0 || l < 0)
        return patron__db_error(db, PATRON_E_RANGE, "no comparison level '%s' of field '%s'", level ? level : "(null)",
                                field ? field : "(null)");
    if (!(m > 0 && m <= 1) || !(u > 0 && u <= 1))
        return patron__db_error(db, PATRON_E_INVALID, "m and u must be probabilities in (0, 1] (got %g, %g)", m, u);
    if ((st = config_current(db, &c)) != 0)
        return st;
    c.m[f][l] = m;
    c.u[f][l] = u;
    patron__match_config_update(&c);
    return config_store(db, &c);
}

patron_status patron_db_match_config_identifier_add(patron_db *db, const char *property)
{
    patron__match_config c;
    patron_status st;
    size_t len;
    if (!db)
        return PATRON_E_INVALID;
    len = property ? strlen(property) : 0;
    if (!len || len >= sizeof c.ident[0] || strchr(property, ';') || strchr(property, '=') ||
        patron__utf8_check(property, len) != 0)
        return patron__db_error(db, PATRON_E_INVALID,
                                "an identifier is the name of a custom property: 1 to %zu bytes of UTF-8, no ';' or '='",
                                sizeof c.ident[0] - 1);
    if ((st = config_current(db, &c)) != 0)
        return st;
    for (size_t i = 0; i < c.n_ident; i++)
        if (strcmp(c.ident[i], property) == 0)
            return patron__db_ok(db); /* declared already */
    if (c.n_ident >= PATRON__MATCH_IDENT_MAX - 1)
        return patron__db_error(db, PATRON_E_RANGE, "at most %d identifiers", PATRON__MATCH_IDENT_MAX - 1);
    memcpy(c.ident[c.n_ident++], property, len + 1);
    return config_store(db, &c);
}

patron_status patron_db_match_config_identifier_remove(patron_db *db, const char *property)
{
    patron__match_config c;
    patron_status st;
    size_t i;
    if (!db)
        return PATRON_E_INVALID;
    if (!property)
        return patron__db_error(db, PATRON_E_INVALID, "no identifier (NULL)");
    if ((st = config_current(db, &c)) != 0)
        return st;
    for (i = 0; i < c.n_ident && strcmp(c.ident[i], property) != 0; i++)
        ;
    if (i == c.n_ident)
        return patron__db_error(db, PATRON_E_NOT_FOUND, "'%s' is not declared as an identifier", property);
    memmove(c.ident[i], c.ident[i + 1], (c.n_ident - i - 1) * sizeof c.ident[0]);
    c.n_ident--;
    return config_store(db, &c);
}

patron_status patron_db_match_config_identifiers(patron_db *db, char **out)
{
    patron__match_config c;
    patron_status st;
    patron_strbuf sb;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if ((st = config_current(db, &c)) != 0)
        return st;
    patron__sb_init(&sb);
    for (size_t i = 0; i < c.n_ident; i++)
        patron__sb_printf(&sb, "%s%s", i ? "\n" : "", c.ident[i]);
    *out = patron__sb_detach(&sb, NULL);
    return *out ? patron__db_ok(db) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
}

patron_status patron_db_match_config_reset(patron_db *db)
{
    patron__match_config c;
    if (!db)
        return PATRON_E_INVALID;
    patron__match_config_default(&c);
    return patron__match_config_save(db, &c, "");
}

/* Which fields the stored estimate covers: the "fields=" part of the text
 * patron_db_estimate() wrote ("v=1;fields=first_name,email;...").  Untrusted
 * bytes: only a name found whole between ',' '=' or ';' counts. */
static bool estimate_covers(const char *text, const char *field)
{
    const char *p = text ? strstr(text, "fields=") : NULL;
    size_t fl = strlen(field);
    if (!p)
        return false;
    p += 7;
    while (*p && *p != ';') {
        const char *e = p;
        while (*e && *e != ',' && *e != ';')
            e++;
        if ((size_t)(e - p) == fl && memcmp(p, field, fl) == 0)
            return true;
        p = *e == ',' ? e + 1 : e;
    }
    return false;
}

/* The share of the way from the defaults to its estimate that the stored
 * model went: the "shrink=" part of the estimate's text (the guard pulled an
 * estimate back when it changed too many decisions of the defaults); 1 when
 * there is none.  Untrusted bytes: anything but a number in [0, 1] is 1. */
static double estimate_shrink(const char *text)
{
    const char *p = text ? strstr(text, ";shrink=") : NULL;
    char buf[32], *e;
    size_t n = 0;
    double v;
    if (!p)
        return 1;
    p += 8;
    while (p[n] && p[n] != ';' && n < sizeof buf - 1) {
        buf[n] = p[n];
        n++;
    }
    buf[n] = '\0';
    v = strtod(buf, &e);
    return n && !*e && v >= 0 && v <= 1 ? v : 1;
}

patron_status patron_db_match_config_origin(patron_db *db, const char **out, const char *field, const char *level)
{
    patron__match_config c, d;
    patron_status st;
    char *est = NULL;
    int f, l;
    if (out)
        *out = "default";
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    f = field_named(field);
    l = level_named(level);
    if (f < 0 || l < 0)
        return patron__db_error(db, PATRON_E_RANGE, "no comparison level '%s' of field '%s'", level ? level : "(null)",
                                field ? field : "(null)");
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__match_config_load(db);
    if (!st && has_meta(db))
        st = meta_read(db, PATRON__ESTIMATE_META_KEY, &est);
    else if (!st && db->match_estimate && !(est = patron__strdup(db->match_estimate)))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__tx_end(db, st)) != 0) {
        patron__free(est);
        return st;
    }
    c = *db->match_cfg;
    patron__match_config_default(&d);
    if (c.m[f][l] != d.m[f][l] || c.u[f][l] != d.u[f][l])
        *out = !estimate_covers(est, field) ? "set" : estimate_shrink(est) < 1 ? "shrunk" : "estimated";
    patron__free(est);
    return patron__db_ok(db);
}
