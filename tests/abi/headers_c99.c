/* The public headers compile as strict C99 (-std=c99 -pedantic -Werror). */
#include <patron/patron.h>
#include <patron/store.h>
#include <patron/memory.h>
#include <patron/batch.h>
#ifdef PATRON_TEST_HAVE_SQLITE
#include <patron/sqlite.h>
#endif
#ifdef PATRON_TEST_HAVE_PG
#include <patron/postgres.h>
#endif
#include <stdio.h>

int main(void)
{
    patron_store_ops ops = PATRON_STORE_OPS_INIT;
    patron_filter f = PATRON_FILTER_INIT;
#ifdef PATRON_TEST_HAVE_SQLITE
    patron_sqlite_options so = PATRON_SQLITE_OPTIONS_INIT;
    patron_sqlite_options si;
    patron_sqlite_ref_table rt = { "order", "orders", "customer_id", "order_id", 0 };
    patron_sqlite_options_init(&si);
    so.ref_tables = &rt;
    so.n_ref_tables = 1;
    if (so.version != PATRON_SQLITE_OPTIONS_VERSION || si.version != so.version || si.table_prefix ||
        si.n_ref_tables || patron_sqlite_handle(NULL) != NULL)
        return 1;
#endif
#ifdef PATRON_TEST_HAVE_PG
    {
        patron_pg_options po = PATRON_PG_OPTIONS_INIT;
        patron_pg_options pi;
        patron_pg_ref_table prt = { "order", "shop.orders", "customer_id", "order_id", PATRON_PG_REF_PINNED };
        patron_pg_options_init(&pi);
        po.ref_tables = &prt;
        po.n_ref_tables = 1;
        if (po.version != PATRON_PG_OPTIONS_VERSION || pi.version != po.version || pi.schema ||
            pi.table_prefix || pi.n_ref_tables || pi.retry_budget || patron_pg_handle(NULL) != NULL)
            return 1;
    }
#endif
    if (ops.version != PATRON_STORE_VERSION || f.locked != PATRON_FILTER_ANY)
        return 1;
    if (patron_version() != PATRON_VERSION_NUMBER) {
        printf("header %d, library %d\n", PATRON_VERSION_NUMBER, patron_version());
        return 1;
    }
    return 0;
}
