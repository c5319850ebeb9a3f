/*
 * patron — the tool's database: a SQLite file, or a PostgreSQL database
 * when --db is a postgresql:// (or postgres://) URI.  The commands see one
 * patron_db and use the few things that differ through this file: opening
 * (with the tool's demo orders table as the store's ref table), host
 * transactions for batches, and the orders table itself.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#ifdef CLI_HAVE_PG
#include <dlfcn.h>
#include <libpq-fe.h>
#include <patron/postgres.h>

/* The PostgreSQL store is loaded (dlopen) when a postgresql:// database
 * is opened, not linked: libpatron-pg brings libpq and some twenty
 * libraries with it (ssl, krb5, ldap, gnutls...), and loading them was
 * most of the tool's start on every run (patron --version: 4 ms and
 * 13.6 M instructions, 1.3 ms and 1.4 M without them), though most runs
 * use a SQLite file or no database at all.  CLI_PG_LIB is libpatron-pg's
 * soname (meson.build), looked up by the dynamic loader (LD_LIBRARY_PATH,
 * the tool's rpath where the loader reads it, the system's directories);
 * when it is not found so, CLI_PG_INSTALLED, where the build installs it
 * (a sanitizer's dlopen does not read the tool's rpath, nor macOS's for a
 * bare name).  The calls
 * go through pgl, one pointer of each function's own type per function
 * the tool calls; loaded once, never unloaded. */
#define CLI_PG_FUNCS(X)                                                                                             \
    X(patron_db_open_postgres) X(patron_pg_handle) X(patron_pg_lock_key) X(patron_pg_begin) X(patron_pg_commit)     \
    X(patron_pg_rollback) X(patron_pg_errmsg) X(PQexec) X(PQexecParams) X(PQprepare) X(PQexecPrepared)             \
    X(PQresultStatus) X(PQntuples) X(PQcmdTuples) X(PQgetvalue) X(PQgetisnull) X(PQclear) X(PQerrorMessage)
#define CLI_PG_MEMBER(f) __typeof__(f) *f;
static struct {
    void *lib; /* NULL: not loaded (yet) */
    CLI_PG_FUNCS(CLI_PG_MEMBER)
} pgl;
#endif

int cli_db_is_pg(const char *path)
{
    return path && (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11));
}

/* ctx->db_path for messages: a URI's password is replaced by "***" (a
 * password is never printed, also not in an error message). */
static const char *shown_path(cli *ctx)
{
    const char *p = ctx->db_path, *auth, *at, *colon;
    size_t n;

    if (!cli_db_is_pg(p))
        return p;
    auth = strstr(p, "://") + 3;
    at = strchr(auth, '@');
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    n = strlen(p);
    if (colon) {
        if (n + 4 > sizeof ctx->shown_path)
            return "the PostgreSQL URI given";
        snprintf(ctx->shown_path, sizeof ctx->shown_path, "%.*s:***%s", (int)(colon - p), p, at);
    } else {
        snprintf(ctx->shown_path, sizeof ctx->shown_path, "%s", n < sizeof ctx->shown_path ? p : "the PostgreSQL URI given");
    }
    /* a password in the query (?password=...) too */
    {
        char *q = strstr(ctx->shown_path, "password=");
        if (q) {
            char *end = q + 9;
            while (*end && *end != '&')
                end++;
            memmove(q + 12, end, strlen(end) + 1);
            memcpy(q + 9, "***", 3);
        }
    }
    return ctx->shown_path;
}

const char *cli_db_name(cli *ctx)
{
    return shown_path(ctx);
}

/* ---- opening ------------------------------------------------------------- */

/* The tool is a host like a shop: it keeps its own demo table of orders in
 * the same database, beside patron's tables (prefix "patron_"), and tells
 * the store to re-link it on merges and move rows back on undo. */
static const patron_sqlite_ref_table cli_ref_tables[] = {
    { "order", CLI_ORDERS_TABLE, "customer_id", "order_id", 0 },
};

static int open_sqlite(cli *ctx, int create)
{
    patron_status st;
    patron_sqlite_options opts = PATRON_SQLITE_OPTIONS_INIT;
    char *msg = NULL;

    opts.flags = create ? 0 : PATRON_SQLITE_NOCREATE;
    opts.ref_tables = cli_ref_tables;
    opts.n_ref_tables = sizeof cli_ref_tables / sizeof cli_ref_tables[0];
    st = patron_db_open_sqlite(&ctx->db, &ctx->store, &msg, ctx->db_path, &opts);
    if (st == PATRON_OK) {
        sqlite3 *h = patron_sqlite_handle(ctx->store);
        /* Every patron call inside an import batch is a savepoint, and
         * SQLite keeps a savepoint's journal in a temporary file by default:
         * a write system call per touched page and row.  In memory, an
         * import runs about twice as fast.  (A store default would be the
         * better place; until then the tool sets it on its connection.) */
        sqlite3_exec(h, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
        /* Created once, when missing (a check that takes no write lock, so
         * a reader never waits for a writer here). */
        if (sqlite3_table_column_metadata(h, NULL, CLI_ORDERS_TABLE, NULL, NULL, NULL, NULL, NULL, NULL) ==
                SQLITE_OK ||
            sqlite3_exec(h,
                         "CREATE TABLE IF NOT EXISTS " CLI_ORDERS_TABLE " (order_id TEXT PRIMARY KEY NOT NULL,"
                         " customer_id INTEGER NOT NULL, total TEXT);"
                         "CREATE INDEX IF NOT EXISTS " CLI_ORDERS_TABLE "_customer ON " CLI_ORDERS_TABLE
                         "(customer_id);",
                         NULL, NULL, NULL) == SQLITE_OK)
            return CLI_OK;
        cli_fail(ctx, "cannot create the table %s in '%s': %s", CLI_ORDERS_TABLE, ctx->db_path,
                 sqlite3_errmsg(h));
        patron_db_close(ctx->db);
        ctx->db = NULL;
        ctx->store = NULL;
        return CLI_ERR;
    }
    ctx->db = NULL;
    ctx->store = NULL;
    if (st == PATRON_E_NOT_FOUND && !create)
        cli_fail(ctx, "no database at '%s' (give one with --db PATH or PATRON_DB)", ctx->db_path);
    else
        cli_fail(ctx, "cannot open database '%s': %s", ctx->db_path, msg ? msg : patron_status_message(st));
    patron_free(msg);
    return CLI_ERR;
}

#ifdef CLI_HAVE_PG
static const patron_pg_ref_table cli_pg_ref_tables[] = {
    { "order", CLI_ORDERS_TABLE, "customer_id", "order_id", 0 },
};

/* pgl loaded (once); -1 with the reason told when it cannot be. */
static int load_pg(cli *ctx)
{
    void *lib, *sym;
    if (pgl.lib)
        return 0;
    if (!(lib = dlopen(CLI_PG_LIB, RTLD_NOW | RTLD_LOCAL))) {
        /* (the first reason is told: the installed path is the fallback) */
        char why[512];
        snprintf(why, sizeof why, "%s", dlerror());
        if (!(lib = dlopen(CLI_PG_INSTALLED, RTLD_NOW | RTLD_LOCAL))) {
            cli_fail(ctx, "'%s': cannot load the PostgreSQL store: %s", shown_path(ctx), why);
            return -1;
        }
    }
    /* (through memcpy: ISO C has no conversion of dlsym's void * to a
     * function pointer) */
#define CLI_PG_LOAD(f)                                                                                              \
    if (!(sym = dlsym(lib, #f)))                                                                                    \
        goto missing;                                                                                               \
    memcpy(&pgl.f, &sym, sizeof sym);
    CLI_PG_FUNCS(CLI_PG_LOAD)
#undef CLI_PG_LOAD
    pgl.lib = lib;
    return 0;
missing:
    cli_fail(ctx, "'%s': cannot load the PostgreSQL store: %s", shown_path(ctx), dlerror());
    dlclose(lib);
    return -1;
}

static int open_pg(cli *ctx, int create)
{
    patron_status st;
    patron_pg_options opts = PATRON_PG_OPTIONS_INIT;
    char *msg = NULL;
    PGconn *conn;
    PGresult *r;

    /* The orders table first (the store checks its ref tables): in the
     * connection's default schema, like the store's own tables ("public"),
     * created once when missing.  IF NOT EXISTS is safe when several
     * processes start at once only under a lock: the store's open takes
     * its advisory lock, so the table goes in after the store is open. */
    if (load_pg(ctx) < 0)
        return CLI_ERR;
    opts.flags = create ? 0 : PATRON_PG_NOCREATE;
    opts.ref_tables = cli_pg_ref_tables;
    opts.n_ref_tables = sizeof cli_pg_ref_tables / sizeof cli_pg_ref_tables[0];
    st = pgl.patron_db_open_postgres(&ctx->db, &ctx->pg, &msg, ctx->db_path, &opts);
    if (st != PATRON_OK) {
        ctx->db = NULL;
        ctx->pg = NULL;
        if (st == PATRON_E_NOT_FOUND && !create)
            cli_fail(ctx, "no database of patron at '%s': it has no patron tables (a command that adds"
                     " customers creates them)", shown_path(ctx));
        else {
            /* libpq's messages come in lines ("\n\tIs the server running ..."):
             * one line here, as every message of the tool */
            char what[600];
            snprintf(what, sizeof what, "cannot open database '%s'", shown_path(ctx));
            for (char *t = msg; t && *t; t++)
                if (*t == '\t')
                    *t = ' ';
            cli_fail_msg(ctx, what, msg && msg[0] ? msg : patron_status_message(st));
        }
        patron_free(msg);
        return CLI_ERR;
    }
    conn = (PGconn *)pgl.patron_pg_handle(ctx->pg);
    r = pgl.PQexec(conn, "SELECT to_regclass('" CLI_ORDERS_TABLE "') IS NOT NULL");
    if (pgl.PQresultStatus(r) == PGRES_TUPLES_OK && pgl.PQntuples(r) == 1 && !strcmp(pgl.PQgetvalue(r, 0, 0), "t")) {
        pgl.PQclear(r);
        return CLI_OK;
    }
    pgl.PQclear(r);
    /* Created under the store's advisory lock, so that two processes that
     * start on a new database at once do not race on the catalog. */
    {
        char sql[600];
        snprintf(sql, sizeof sql,
                 "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
                 " CREATE TABLE IF NOT EXISTS " CLI_ORDERS_TABLE " (order_id text PRIMARY KEY,"
                 " customer_id bigint NOT NULL, total text);"
                 " CREATE INDEX IF NOT EXISTS " CLI_ORDERS_TABLE "_customer ON " CLI_ORDERS_TABLE
                 " (customer_id); COMMIT",
                 (long long)pgl.patron_pg_lock_key(ctx->pg));
        r = pgl.PQexec(conn, sql);
        if (pgl.PQresultStatus(r) == PGRES_COMMAND_OK) {
            pgl.PQclear(r);
            return CLI_OK;
        }
        cli_fail(ctx, "cannot create the table %s in '%s': %s", CLI_ORDERS_TABLE, shown_path(ctx),
                 pgl.PQerrorMessage(conn));
        pgl.PQclear(r);
        r = pgl.PQexec(conn, "ROLLBACK");
        pgl.PQclear(r);
    }
    patron_db_close(ctx->db);
    ctx->db = NULL;
    ctx->pg = NULL;
    return CLI_ERR;
}
#endif

int cli_open_db(cli *ctx, int create)
{
    if (ctx->db)
        return CLI_OK;
    if (cli_db_is_pg(ctx->db_path)) {
#ifdef CLI_HAVE_PG
        return open_pg(ctx, create);
#else
        return cli_fail(ctx, "'%s': this patron was built without the PostgreSQL store (libpatron-pg)",
                        shown_path(ctx));
#endif
    }
    return open_sqlite(ctx, create);
}

/* ---- host transactions ----------------------------------------------------- */

patron_status cli_begin(cli *ctx)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg)
        return pgl.patron_pg_begin(ctx->pg);
#endif
    return patron_sqlite_begin(ctx->store);
}

patron_status cli_commit(cli *ctx)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg)
        return pgl.patron_pg_commit(ctx->pg);
#endif
    return patron_sqlite_commit(ctx->store);
}

patron_status cli_rollback(cli *ctx)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg)
        return pgl.patron_pg_rollback(ctx->pg);
#endif
    return patron_sqlite_rollback(ctx->store);
}

const char *cli_store_errmsg(cli *ctx)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg)
        return pgl.patron_pg_errmsg(ctx->pg);
#endif
    return ctx->store ? patron_sqlite_errmsg(ctx->store) : "";
}

/* ---- the demo orders table ------------------------------------------------- */

int cli_orders_insert(cli *ctx, const char *order_id, int64_t customer_id, const char *total, char *reason,
                      size_t cap)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg) {
        PGconn *conn = (PGconn *)pgl.patron_pg_handle(ctx->pg);
        char idbuf[24];
        const char *params[3];
        PGresult *r;
        int rc;

        if (!ctx->orders_prepared) {
            /* ON CONFLICT: a duplicate order id must not abort the batch's
             * transaction (PostgreSQL ends a transaction at any error) */
            r = pgl.PQprepare(conn, "cli_orders_insert",
                          "INSERT INTO " CLI_ORDERS_TABLE " (order_id, customer_id, total) VALUES ($1, $2, $3)"
                          " ON CONFLICT (order_id) DO NOTHING",
                          3, NULL);
            if (pgl.PQresultStatus(r) != PGRES_COMMAND_OK) {
                snprintf(reason, cap, "%s", pgl.PQerrorMessage(conn));
                pgl.PQclear(r);
                return -1;
            }
            pgl.PQclear(r);
            ctx->orders_prepared = 1;
        }
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)customer_id);
        params[0] = order_id;
        params[1] = idbuf;
        params[2] = total;
        r = pgl.PQexecPrepared(conn, "cli_orders_insert", 3, params, NULL, NULL, 0);
        if (pgl.PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(reason, cap, "%s", pgl.PQerrorMessage(conn));
            rc = -1;
        } else if (!strcmp(pgl.PQcmdTuples(r), "0")) {
            snprintf(reason, cap, "order '%s' is there already", order_id);
            rc = 0;
        } else {
            rc = 1;
        }
        pgl.PQclear(r);
        return rc;
    }
#endif
    {
        sqlite3 *h = patron_sqlite_handle(ctx->store);
        sqlite3_stmt *ins = ctx->orders_stmt;
        int src;

        if (!ins) {
            if (sqlite3_prepare_v2(h,
                                   "INSERT INTO " CLI_ORDERS_TABLE "(order_id, customer_id, total) VALUES (?1, ?2, ?3)",
                                   -1, &ins, NULL) != SQLITE_OK) {
                snprintf(reason, cap, "%s", sqlite3_errmsg(h));
                return -1;
            }
            ctx->orders_stmt = ins;
        }
        sqlite3_bind_text(ins, 1, order_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 2, customer_id);
        if (total)
            sqlite3_bind_text(ins, 3, total, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(ins, 3);
        src = sqlite3_step(ins);
        if (src == SQLITE_CONSTRAINT)
            snprintf(reason, cap, "order '%s' is there already", order_id);
        else if (src != SQLITE_DONE)
            snprintf(reason, cap, "%s", sqlite3_errmsg(h));
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        return src == SQLITE_DONE ? 1 : src == SQLITE_CONSTRAINT ? 0 : -1;
    }
}

void cli_orders_done(cli *ctx)
{
    if (ctx->orders_stmt) {
        sqlite3_finalize(ctx->orders_stmt);
        ctx->orders_stmt = NULL;
    }
}

int cli_orders_list(cli *ctx, int64_t customer_id)
{
#ifdef CLI_HAVE_PG
    if (ctx->pg) {
        PGconn *conn = (PGconn *)pgl.patron_pg_handle(ctx->pg);
        char idbuf[24];
        const char *params[1] = { idbuf };
        PGresult *r;
        int rc = CLI_OK;

        snprintf(idbuf, sizeof idbuf, "%lld", (long long)customer_id);
        /* order ids sorted by byte value, as SQLite does */
        r = pgl.PQexecParams(conn,
                         "SELECT order_id, total FROM " CLI_ORDERS_TABLE
                         " WHERE customer_id = $1 ORDER BY order_id COLLATE \"C\"",
                         1, NULL, params, NULL, NULL, 0);
        if (pgl.PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = cli_fail(ctx, "orders: %s", pgl.PQerrorMessage(conn));
        } else {
            for (int i = 0; i < pgl.PQntuples(r); i++)
                printf("%s\t%s\n", pgl.PQgetvalue(r, i, 0), pgl.PQgetisnull(r, i, 1) ? "" : pgl.PQgetvalue(r, i, 1));
        }
        pgl.PQclear(r);
        return rc;
    }
#endif
    {
        sqlite3 *h = patron_sqlite_handle(ctx->store);
        sqlite3_stmt *q = NULL;
        int src, rc = CLI_OK;

        if (sqlite3_prepare_v2(h,
                               "SELECT order_id, total FROM " CLI_ORDERS_TABLE " WHERE customer_id = ?1 ORDER BY order_id",
                               -1, &q, NULL) != SQLITE_OK)
            return cli_fail(ctx, "orders: %s", sqlite3_errmsg(h));
        sqlite3_bind_int64(q, 1, customer_id);
        while ((src = sqlite3_step(q)) == SQLITE_ROW) {
            const unsigned char *total = sqlite3_column_text(q, 1);
            printf("%s\t%s\n", (const char *)sqlite3_column_text(q, 0), total ? (const char *)total : "");
        }
        if (src != SQLITE_DONE)
            rc = cli_fail(ctx, "orders: %s", sqlite3_errmsg(h));
        sqlite3_finalize(q);
        return rc;
    }
}
