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

static const char schema_v1[] =
    "CREATE TABLE customers (\n"
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
    "CREATE INDEX customers_number ON customers(number);\n"
    "CREATE INDEX customers_external ON customers(external_source, external_id);\n"
    "CREATE TABLE customer_addresses (\n"
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
    "CREATE TABLE customer_tags (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  tag TEXT NOT NULL,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX customer_tags_tag ON customer_tags(tag);\n"
    "CREATE TABLE customer_properties (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT,\n"
    "  PRIMARY KEY (customer_id, position)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE customer_extra (\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  address_position INTEGER NOT NULL,\n"
    "  field INTEGER NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  PRIMARY KEY (customer_id, address_position, field)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE customer_keys (\n"
    "  kind INTEGER NOT NULL,\n"
    "  value NOT NULL,\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (kind, value, customer_id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX customer_keys_customer ON customer_keys(customer_id);\n"
    "CREATE TABLE used_numbers (\n"
    "  number TEXT PRIMARY KEY NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE counters (\n"
    "  name TEXT PRIMARY KEY NOT NULL,\n"
    "  value INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO counters(name, value) VALUES ('customer_number', 0);\n"
    "CREATE TABLE journal (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  time INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  customer_id INTEGER NOT NULL,\n"
    "  undone_by INTEGER NOT NULL DEFAULT 0,\n"
    "  payload TEXT\n"
    ");\n"
    "CREATE INDEX journal_customer ON journal(customer_id);\n"
    "CREATE TABLE orders (\n"
    "  order_id TEXT PRIMARY KEY NOT NULL,\n"
    "  customer_id INTEGER,\n"
    "  total TEXT\n"
    ");\n"
    "CREATE INDEX orders_customer ON orders(customer_id);\n"
    "CREATE TABLE meta (\n"
    "  key TEXT PRIMARY KEY NOT NULL,\n"
    "  value TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n";

/* migrations[i] takes a file from version i to version i + 1. */
static const char *const migrations[] = {
    schema_v1,
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int psq_schema_latest(void)
{
    return N_MIGRATIONS;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
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

static int has_user_tables(sqlite3 *db, int *out)
{
    return pragma_int(db,
                      "SELECT count(*) FROM sqlite_master WHERE name IN "
                      "('customers','customer_keys','used_numbers','counters','journal')",
                      out);
}

patron_status psq_schema_prepare(sqlite3 *db, unsigned flags, const char *path, char *msg,
                                 size_t msgsz)
{
    int version = 0, app_id = 0, ours = 0, rc, step;
    char sql[64];

    rc = pragma_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot read %s: %s", path, sqlite3_errmsg(db));
        return psq_status_of(rc);
    }
    if (app_id != 0 && app_id != PSQ_APPLICATION_ID) {
        snprintf(msg, msgsz,
                 "%s is not a patron database: it belongs to another program "
                 "(application_id 0x%08X)",
                 path, (unsigned)app_id);
        return PATRON_E_STORE;
    }

    if (flags & PATRON_SQLITE_READONLY) {
        if (version == N_MIGRATIONS && app_id == PSQ_APPLICATION_ID)
            return PATRON_OK;
        if (version > N_MIGRATIONS)
            goto too_new;
        if (version == 0 || app_id == 0)
            snprintf(msg, msgsz, "%s is not a patron database (it has no patron schema)", path);
        else
            snprintf(msg, msgsz,
                     "%s has schema version %d, older than this library's %d, and was opened "
                     "read-only: open it once read-write to migrate it",
                     path, version, N_MIGRATIONS);
        return PATRON_E_STORE;
    }

    /* Read the version again inside the write transaction: another process
     * may be migrating the same file right now. */
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = pragma_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK && version == 0)
        rc = has_user_tables(db, &ours);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot prepare %s: %s", path, sqlite3_errmsg(db));
        goto fail;
    }
    if (version > N_MIGRATIONS) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto too_new;
    }
    if (version == 0 && ours > 0) {
        snprintf(msg, msgsz,
                 "%s has tables named like patron's (customers, journal, ...) but no patron "
                 "schema version: refusing to touch them",
                 path);
        rc = SQLITE_ERROR;
        goto fail_msg;
    }
    for (step = version; step < N_MIGRATIONS; step++) {
        rc = sqlite3_exec(db, migrations[step], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            snprintf(msg, msgsz, "cannot migrate %s from schema version %d to %d: %s", path, step,
                     step + 1, sqlite3_errmsg(db));
            goto fail_msg;
        }
    }
    if (version != N_MIGRATIONS) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", N_MIGRATIONS);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK && app_id == 0) {
            snprintf(sql, sizeof sql, "PRAGMA application_id = %d", PSQ_APPLICATION_ID);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        if (rc != SQLITE_OK) {
            snprintf(msg, msgsz, "cannot set the schema version of %s: %s", path,
                     sqlite3_errmsg(db));
            goto fail_msg;
        }
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, msgsz, "cannot commit the schema of %s: %s", path, sqlite3_errmsg(db));
        goto fail_msg;
    }
    return PATRON_OK;

fail:
fail_msg:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return psq_status_of(rc);

too_new:
    snprintf(msg, msgsz,
             "%s has schema version %d, written by a newer libpatron-sqlite; this one knows "
             "versions up to %d: use a newer library",
             path, version, N_MIGRATIONS);
    return PATRON_E_ABI;
}
