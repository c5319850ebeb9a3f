/* libpatron-pg — the schema and its migrations.
 * SPDX-License-Identifier: MIT
 *
 * The version of the tables under a (schema, prefix) is the row 'version'
 * of <prefix>schema.  Each step takes the tables from version N-1 to N;
 * opening runs every missing step in one transaction (DDL is
 * transactional in PostgreSQL), under the store's advisory lock, so that
 * two processes opening a new database at once never both create it and a
 * database is never left half-migrated.  Tables already at the newest
 * version are opened without the lock (no writer is waited for).  A released step never changes; a
 * later version appends one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

/* Version 1: the tables of the SQLite store's version 3, with PostgreSQL
 * types, plus the match forms.  `value` of the keys is text in the C
 * collation (byte order, and the cheapest comparison). */
static const char schema_v1[] =
    "CREATE TABLE @customers (\n"
    "  id bigserial PRIMARY KEY,\n"
    "  number text, state text, salutation text, title text,\n"
    "  first_name text, last_name text, company text, email text,\n"
    "  phone text, mobile text, fax text, birth_date text, language text,\n"
    "  b2b bigint, vat_id text, payment_terms text, price_category text,\n"
    "  customer_group text, newsletter bigint, notes text, order_text text,\n"
    "  login_user text, login_hash text, external_source text, external_id text,\n"
    "  locked bigint, lock_reason text, locked_at bigint,\n"
    "  created_at bigint, updated_at bigint, revision numeric(20, 0),\n"
    "  merged_into bigint\n"
    ");\n"
    "CREATE INDEX %customers_number ON @customers(number);\n"
    "CREATE INDEX %customers_external ON @customers(external_source, external_id);\n"
    "CREATE TABLE @customer_addresses (\n"
    "  customer_id bigint NOT NULL, position integer NOT NULL,\n"
    "  label text, salutation text, first_name text, last_name text, company text,\n"
    "  street text, house_number text, address_addition text, postal_code text,\n"
    "  city text, state text, country text, phone text, is_default bigint,\n"
    "  billing text, vat_id text,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ");\n"
    "CREATE TABLE @customer_tags (\n"
    "  customer_id bigint NOT NULL, position integer NOT NULL, tag text NOT NULL,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ");\n"
    "CREATE INDEX %customer_tags_tag ON @customer_tags(tag);\n"
    "CREATE TABLE @customer_properties (\n"
    "  customer_id bigint NOT NULL, position integer NOT NULL,\n"
    "  key text NOT NULL, value text,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ");\n"
    "CREATE TABLE @customer_extra (\n"
    "  customer_id bigint NOT NULL, address_position integer NOT NULL,\n"
    "  field integer NOT NULL, value text NOT NULL,\n"
    "  PRIMARY KEY (customer_id, address_position, field)\n"
    ");\n"
    "CREATE TABLE @customer_keys (\n"
    "  kind integer NOT NULL,\n"
    "  value text COLLATE \"C\" NOT NULL,\n"
    "  customer_id bigint NOT NULL,\n"
    "  PRIMARY KEY (kind, value, customer_id)\n"
    ");\n"
    "CREATE INDEX %customer_keys_customer ON @customer_keys(customer_id);\n"
    "CREATE TABLE @key_counts (\n"
    "  kind integer NOT NULL,\n"
    "  value text COLLATE \"C\" NOT NULL,\n"
    "  n bigint NOT NULL,\n"
    "  PRIMARY KEY (kind, value)\n"
    ");\n"
    "CREATE TABLE @match_forms (\n"
    "  customer_id bigint PRIMARY KEY,\n"
    "  form bytea NOT NULL\n"
    ");\n"
    "CREATE TABLE @used_numbers (\n"
    "  number text COLLATE \"C\" PRIMARY KEY\n"
    ");\n"
    "CREATE TABLE @counters (\n"
    "  name text PRIMARY KEY,\n"
    "  value bigint NOT NULL\n"
    ");\n"
    "INSERT INTO @counters(name, value) VALUES ('customer_number', 0);\n"
    "CREATE TABLE @journal (\n"
    "  id bigserial PRIMARY KEY,\n"
    "  time bigint NOT NULL,\n"
    "  kind text NOT NULL,\n"
    "  customer_id bigint NOT NULL,\n"
    "  undone_by bigint NOT NULL DEFAULT 0,\n"
    "  payload text\n"
    ");\n"
    "CREATE INDEX %journal_customer ON @journal(customer_id);\n"
    "CREATE TABLE @meta (\n"
    "  key text COLLATE \"C\" PRIMARY KEY,\n"
    "  value text NOT NULL\n"
    ");\n"
    "CREATE TABLE @schema (\n"
    "  name text PRIMARY KEY,\n"
    "  value integer NOT NULL\n"
    ");\n"
    "INSERT INTO @schema(name, value) VALUES ('version', 1);\n";

/* steps[i] takes the tables from version i + 1 to i + 2 (none yet). */
static const char *const steps[] = { NULL };
#define N_STEPS 0
#define LATEST PATRON_PG_SCHEMA_VERSION

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char *ppg_expand(const struct patron_pg *s, const char *tmpl)
{
    const char *schema = s->schema;
    const char *prefix = s->prefix;
    size_t n = 0, cap, at = 0;
    char *out;
    const char *p;

    for (p = tmpl; *p; p++)
        if (*p == '@' || *p == '%')
            n++;
    cap = strlen(tmpl) + n * (strlen(schema) + strlen(prefix) + 8) + 1;
    if (!(out = patron_malloc(cap)))
        return NULL;
    for (p = tmpl; *p;) {
        if (*p == '@' || *p == '%') {
            int with_schema = *p == '@';
            p++;
            if (with_schema)
                at += (size_t)snprintf(out + at, cap - at, "\"%s\".", schema);
            at += (size_t)snprintf(out + at, cap - at, "\"%s", prefix);
            while (*p && ident_char(*p))
                out[at++] = *p++;
            out[at++] = '"';
        } else {
            out[at++] = *p++;
        }
    }
    out[at] = '\0';
    return out;
}

/* Run `sql` (one or more statements without parameters: DDL of this file,
 * names from checked identifiers).  0 or -1 with a message. */
static int run_sql(struct patron_pg *s, const char *sql, char *msg, size_t msgsz, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        snprintf(msg, msgsz, "%s: %s%s%s%s", what, m ? m : PQerrorMessage(s->conn),
                 code ? " (SQLSTATE " : "", code ? code : "", code ? ")" : "");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

/* The schema version of the tables, 0 if there are none, -1 on error. */
static int current_version(struct patron_pg *s, char *msg, size_t msgsz)
{
    char *reg = ppg_expand(s, "@schema"), *sel = NULL;
    const char *params[1];
    PGresult *r;
    int v = -1;

    if (!reg) {
        snprintf(msg, msgsz, "out of memory");
        return -1;
    }
    params[0] = reg;
    r = PQexecParams(s->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL,
                     NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(msg, msgsz, "cannot read the schema version: %s", PQerrorMessage(s->conn));
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        v = 0;
        goto out;
    }
    PQclear(r);
    if (!(sel = ppg_expand(s, "SELECT value FROM @schema WHERE name = 'version'"))) {
        r = NULL;
        snprintf(msg, msgsz, "out of memory");
        goto out;
    }
    r = PQexec(s->conn, sel);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(msg, msgsz, "cannot read the schema version (table %s): %s", reg,
                 r && PQresultStatus(r) == PGRES_TUPLES_OK ? "no row 'version'"
                                                           : PQerrorMessage(s->conn));
        goto out;
    }
    v = atoi(PQgetvalue(r, 0, 0));
    if (v <= 0) {
        snprintf(msg, msgsz, "table %s holds an invalid version", reg);
        v = -1;
    }
out:
    PQclear(r);
    patron_free(reg);
    patron_free(sel);
    return v;
}

patron_status ppg_schema_prepare(struct patron_pg *s, char *msg, size_t msgsz)
{
    PGconn *c = s->conn;
    unsigned flags = s->flags;
    int host_tx = PQtransactionStatus(c) == PQTRANS_INTRANS;
    patron_status st = PATRON_E_STORE;
    char lock_sql[96], *sql = NULL;
    int v;

    if (PQtransactionStatus(c) == PQTRANS_INERROR) {
        snprintf(msg, msgsz, "the connection's transaction has failed: roll it back first");
        return PATRON_E_STORE;
    }
    if (run_sql(s, host_tx ? "SAVEPOINT patron_open" : "BEGIN", msg, msgsz, "open") != 0)
        return PATRON_E_STORE;
    /* Tables of the newest version (or newer) are final: the version only
     * ever moves forward, under the lock, and what is committed is read
     * here without it.  So a store that needs no migration opens without
     * waiting for the lock — which a writer (an import's host transaction)
     * may hold for seconds.  Otherwise: the lock, and the version read again
     * (another process may have just created or migrated the tables). */
    v = current_version(s, msg, msgsz);
    if (v < 0)
        goto fail;
    if (v < LATEST && !(flags & PATRON_PG_READONLY)) {
        snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_xact_lock(%lld)",
                 (long long)s->lock_key);
        if (run_sql(s, lock_sql, msg, msgsz, "open (advisory lock)") != 0)
            goto fail;
        v = current_version(s, msg, msgsz);
        if (v < 0)
            goto fail;
    }
    if (v > LATEST) {
        snprintf(msg, msgsz,
                 "the tables of schema \"%s\" have version %d, newer than this library knows "
                 "(%d): use a newer libpatron-pg",
                 s->schema, v, LATEST);
        st = PATRON_E_ABI;
        goto fail;
    }
    if (v == 0 && (flags & (PATRON_PG_READONLY | PATRON_PG_NOCREATE))) {
        snprintf(msg, msgsz, "no patron tables in schema \"%s\" (and the store may not create them)",
                 s->schema);
        st = PATRON_E_NOT_FOUND;
        goto fail;
    }
    if (v < LATEST && (flags & PATRON_PG_READONLY)) {
        snprintf(msg, msgsz,
                 "the tables have version %d; open the store read-write once to migrate them to %d",
                 v, LATEST);
        goto fail;
    }
    if (v == 0) {
        char head[PATRON_PG_SCHEMA_MAX + 48];
        snprintf(head, sizeof head, "CREATE SCHEMA IF NOT EXISTS \"%s\"", s->schema);
        if (run_sql(s, head, msg, msgsz, "create schema") != 0)
            goto fail;
        if (!(sql = ppg_expand(s, schema_v1))) {
            snprintf(msg, msgsz, "out of memory");
            st = PATRON_E_NOMEM;
            goto fail;
        }
        if (run_sql(s, sql, msg, msgsz, "create tables") != 0)
            goto fail;
        patron_free(sql);
        sql = NULL;
        v = 1;
    }
    for (; v < LATEST; v++) {
        if (v - 1 >= N_STEPS || !steps[v - 1])
            break;
        if (!(sql = ppg_expand(s, steps[v - 1]))) {
            snprintf(msg, msgsz, "out of memory");
            st = PATRON_E_NOMEM;
            goto fail;
        }
        if (run_sql(s, sql, msg, msgsz, "migrate") != 0)
            goto fail;
        patron_free(sql);
        sql = NULL;
    }
    if (run_sql(s, host_tx ? "RELEASE patron_open" : "COMMIT", msg, msgsz, "open (commit)") != 0)
        goto fail;
    return PATRON_OK;
fail:
    patron_free(sql);
    {
        PGresult *r = PQexec(c, host_tx ? "ROLLBACK TO patron_open; RELEASE patron_open" : "ROLLBACK");
        PQclear(r);
    }
    return st;
}
