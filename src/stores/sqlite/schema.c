/* libpatron-sqlite — the schema and its migrations.
 * SPDX-License-Identifier: MIT
 *
 * The schema version lives in PRAGMA user_version.  Each migration step
 * takes a file from version N-1 to N; opening a file runs every step it is
 * missing, all in one transaction, so a file is never left half-migrated.
 * A step, once released, never changes: a later version adds a new step
 * (ALTER TABLE ADD COLUMN, new tables, moving values out of customer_extra
 * into new columns) at the end of `migrations`.
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_internal.h"

/* "PTRN": marks a file as patron's, so that another program's database is
 * never taken for ours. */
#define PSQ_APPLICATION_ID 0x5054524E

static const char schema_v2[] =
    "CREATE TABLE @customers (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  number TEXT,\n"
    "  state TEXT,\n"
    "  salutation TEXT,\n"
    "  title TEXT,\n"
    "  first_name TEXT,\n"
    "  last_name TEXT,\n"
    "  company TEXT,\n"
    "  email TEXT,\n"
    "  phone TEXT,\n"
    "  mobile TEXT,\n"
    "  fax TEXT,\n"
    "  birth_date TEXT,\n"
    "  language TEXT,\n"
    "  b2b INTEGER,\n"
    "  vat_id TEXT,\n"
    "  payment_terms TEXT,\n"
    "  price_category TEXT,\n"
    "  customer_group TEXT,\n"
    "  newsletter INTEGER,\n"
    "  notes TEXT,\n"
    "  order_text TEXT,\n"
    "  login_user TEXT,\n"
    "  login_hash TEXT,\n"
    "  external_source TEXT,\n"
    "  external_id TEXT,\n"
    "  locked INTEGER,\n"
    "  lock_reason TEXT,\n"
    "  locked_at INTEGER,\n"
    "  created_at INTEGER,\n"
    "  updated_at INTEGER,\n"
    "  revision INTEGER,\n"
    "  merged_into INTEGER\n"
    ");\n"
    "CREATE INDEX @customers_number ON @customers(number);\n"
    "CREATE INDEX @customers_external ON @customers(external_source, external_id);\n"
    "CREATE TABLE @customer_addresses (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  label TEXT,\n"
    "  salutation TEXT,\n"
    "  first_name TEXT,\n"
    "  last_name TEXT,\n"
    "  company TEXT,\n"
    "  street TEXT,\n"
    "  house_number TEXT,\n"
    "  address_addition TEXT,\n"
    "  postal_code TEXT,\n"
    "  city TEXT,\n"
    "  state TEXT,\n"
    "  country TEXT,\n"
    "  phone TEXT,\n"
    "  is_default INTEGER,\n"
    "  billing TEXT,\n"
    "  vat_id TEXT,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE @customer_tags (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  tag TEXT NOT NULL,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX @customer_tags_tag ON @customer_tags(tag);\n"
    "CREATE TABLE @customer_properties (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE @customer_extra (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  address_position INTEGER NOT NULL,\n"
    "  field INTEGER NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  PRIMARY KEY (customer_id, address_position, field)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE @customer_keys (\n"
    "  kind INTEGER NOT NULL,\n"
    "  value NOT NULL,\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (kind, value, customer_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX @customer_keys_customer ON @customer_keys(customer_id);\n"
    "CREATE TABLE @used_numbers (\n"
    "  number TEXT PRIMARY KEY NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE @counters (\n"
    "  name TEXT PRIMARY KEY NOT NULL,\n"
    "  value INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO @counters(name, value) VALUES ('customer_number', 0);\n"
    "CREATE TABLE @journal (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  time INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  undone_by INTEGER NOT NULL DEFAULT 0,\n"
    "  payload TEXT\n"
    ");\n"
    "CREATE INDEX @journal_customer ON @journal(customer_id);\n"
    "CREATE TABLE @schema (\n"
    "  name TEXT PRIMARY KEY NOT NULL,\n"
    "  value INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO @schema(name, value) VALUES ('version', 2);\n"
    "CREATE TABLE @meta (\n"
    "  key TEXT PRIMARY KEY NOT NULL,\n"
    "  value TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n";

/* Version 3: how many customers hold a key, kept beside the keys so that
 * the store's count callback (the matcher's value frequencies) is one row
 * read instead of an index range.  The store changes a count with every
 * key of a counted kind (PSQ_COUNTED_KINDS) it writes or deletes, in the
 * same transaction (store.c: write_keys, update_keys, delete_children_ex);
 * the other kinds cost nothing more.  The migration fills it from the keys
 * already there.  (Triggers did the same at about twice the CPU of an
 * import: a trigger program per key row.) */
static const char step_v3[] =
    "CREATE TABLE @key_counts (\n"
    "  kind INTEGER NOT NULL,\n"
    "  value NOT NULL,\n"
    "  n INTEGER NOT NULL,\n"
    "  PRIMARY KEY (kind, value)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO @key_counts(kind, value, n)\n"
    "  SELECT kind, value, count(*) FROM @customer_keys\n"
    "  WHERE kind IN (" PSQ_COUNTED_KINDS ") GROUP BY kind, value;\n"
    "UPDATE @schema SET value = 3 WHERE name = 'version';\n";

/* steps[i] takes the tables of one prefix from version i + 2 to i + 3.
 * Version 2 is created in one go by schema_v2, a new file then takes every
 * step like an old one.  (Version 1 was the pre-release schema without
 * prefixes; it is refused, see below.) */
static const char *const steps[] = { step_v3 };
#define LATEST PATRON_SQLITE_SCHEMA_VERSION
#define FIRST 2

int psq_schema_latest(void)
{
    return LATEST;
}

static int query_int(sqlite3 *db, const char *sql, const char *bind, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && bind)
        rc = sqlite3_bind_text(st, 1, bind, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    return query_int(db, sql, NULL, out);
}

static int table_exists(sqlite3 *db, const char *prefix, const char *name, int *out)
{
    char full[PATRON_SQLITE_PREFIX_MAX + 32];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                     full, out);
}

/* The schema version of the tables under `prefix`: 0 if there are none. */
static int read_version(sqlite3 *db, const char *prefix, int *version, int *others)
{
    static const char *const ours[] = { "customers", "customer_keys", "used_numbers",
                                        "counters", "journal", "meta" };
    char sql[128];
    int rc, n = 0, has;
    size_t i;

    *version = 0;
    *others = 0;
    rc = table_exists(db, prefix, "schema", &has);
    if (rc == SQLITE_OK && has) {
        snprintf(sql, sizeof sql, "SELECT value FROM \"%sschema\" WHERE name = 'version'", prefix);
        return pragma_int(db, sql, version);
    }
    for (i = 0; rc == SQLITE_OK && i < sizeof ours / sizeof ours[0]; i++) {
        rc = table_exists(db, prefix, ours[i], &has);
        n += has;
    }
    *others = n;
    return rc;
}

patron_status psq_schema_prepare(sqlite3 *db, unsigned flags, const char *prefix,
                                 const char *path, char *msg, size_t msgsz)
{
    int version = 0, file_version = 0, app_id = 0, others = 0, n_tables = 0, rc, step;
    char sql[64], *ddl;

    rc = pragma_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA user_version", &file_version);
    if (rc == SQLITE_OK)
        rc = read_version(db, prefix, &version, &others);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot read %s: %s", path, sqlite3_errmsg(db));
        return psq_status_of(rc);
    }
    /* The pre-release layout: tables without prefix, a demo table orders,
     * the version in PRAGMA user_version.  No release ever wrote it, so it
     * is refused rather than migrated. */
    if (app_id == PSQ_APPLICATION_ID && file_version == 1) {
        snprintf(msg, msgsz,
                 "%s was written by a pre-release libpatron-sqlite (schema 1: tables without a "
                 "prefix and a demo table orders); this library keeps its tables under a prefix "
                 "(schema %d) and cannot open it: export the customers with the old library and "
                 "import them into a new file",
                 path, LATEST);
        return PATRON_E_STORE;
    }

    /* Tables at this library's version need nothing: return without the
     * write transaction below, so that opening a file while another process
     * writes to it (a long import) never waits for that writer's lock. */
    if (version == LATEST)
        return PATRON_OK;
    if (flags & PATRON_SQLITE_READONLY) {
        if (version > LATEST)
            goto too_new;
        if (version == 0)
            snprintf(msg, msgsz, "%s has no patron tables with prefix \"%s\"", path, prefix);
        else
            snprintf(msg, msgsz,
                     "the patron tables \"%s*\" of %s have schema version %d, older than this "
                     "library's %d, and were opened read-only: open them once read-write to "
                     "migrate them",
                     prefix, path, version, LATEST);
        return PATRON_E_STORE;
    }

    /* Read the version again inside the write transaction: another process
     * may be migrating the same tables right now. */
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = read_version(db, prefix, &version, &others);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "SELECT count(*) FROM sqlite_master", &n_tables);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot prepare %s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    if (version > LATEST) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto too_new;
    }
    if (version == 0 && others > 0) {
        snprintf(msg, msgsz,
                 "%s has tables named like patron's (%scustomers, %sjournal, ...) but no patron "
                 "schema version: refusing to touch them (choose another table prefix)",
                 path, prefix, prefix);
        rc = SQLITE_ERROR;
        goto fail;
    }
    if (version == 0) {
        if (!(ddl = psq_expand(schema_v2, prefix))) {
            snprintf(msg, msgsz, "out of memory");
            rc = SQLITE_NOMEM;
            goto fail;
        }
        rc = sqlite3_exec(db, ddl, NULL, NULL, NULL);
        patron_free(ddl);
        if (rc != SQLITE_OK) {
            snprintf(msg, msgsz, "cannot create the patron tables \"%s*\" in %s: %s", prefix,
                     path, sqlite3_errmsg(db));
            goto fail;
        }
        version = FIRST;
        /* A file that was empty is patron's: mark it, so that an older
         * library (which read the version from user_version) refuses it
         * and tools can tell what it is.  A host's file keeps its header. */
        if (n_tables == 0 && app_id == 0) {
            snprintf(sql, sizeof sql, "PRAGMA application_id = %d", PSQ_APPLICATION_ID);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
            if (rc == SQLITE_OK) {
                snprintf(sql, sizeof sql, "PRAGMA user_version = %d", LATEST);
                rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
            }
            if (rc != SQLITE_OK) {
                snprintf(msg, msgsz, "cannot mark %s as patron's: %s", path, sqlite3_errmsg(db));
                goto fail;
            }
        }
    }
    for (step = version; step < LATEST; step++) {
        if (!(ddl = psq_expand(steps[step - FIRST], prefix))) {
            snprintf(msg, msgsz, "out of memory");
            rc = SQLITE_NOMEM;
            goto fail;
        }
        rc = sqlite3_exec(db, ddl, NULL, NULL, NULL);
        patron_free(ddl);
        if (rc != SQLITE_OK) {
            snprintf(msg, msgsz, "cannot migrate the patron tables \"%s*\" of %s from schema "
                     "version %d to %d: %s", prefix, path, step, step + 1, sqlite3_errmsg(db));
            goto fail;
        }
    }
    /* a file that is patron's carries the version in its header too */
    if (app_id == PSQ_APPLICATION_ID || (n_tables == 0 && app_id == 0)) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", LATEST);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            snprintf(msg, msgsz, "cannot mark %s as patron's: %s", path, sqlite3_errmsg(db));
            goto fail;
        }
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot commit the schema of %s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    return PATRON_OK;

fail:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return psq_status_of(rc);

too_new:
    snprintf(msg, msgsz,
             "the patron tables \"%s*\" of %s have schema version %d, written by a newer "
             "libpatron-sqlite; this one knows versions up to %d: use a newer library",
             prefix, path, version, LATEST);
    return PATRON_E_ABI;
}
