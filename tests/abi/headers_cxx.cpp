// The public headers compile as C++ (-pedantic -Werror) and link.
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
#include <cstdio>
#include <cstring>

int main()
{
    patron_store_ops ops = PATRON_STORE_OPS_INIT;
    patron_filter f = PATRON_FILTER_INIT;
    patron_customer *c = nullptr;
#ifdef PATRON_TEST_HAVE_SQLITE
    patron_sqlite_options so = PATRON_SQLITE_OPTIONS_INIT;
    patron_sqlite_options si;
    patron_sqlite_options_init(&si);
    if (so.version != PATRON_SQLITE_OPTIONS_VERSION || si.version != so.version ||
        patron_sqlite_handle(nullptr) != nullptr)
        return 1;
#endif
#ifdef PATRON_TEST_HAVE_PG
    patron_pg_options po = PATRON_PG_OPTIONS_INIT;
    patron_pg_options pi;
    patron_pg_options_init(&pi);
    if (po.version != PATRON_PG_OPTIONS_VERSION || pi.version != po.version ||
        patron_pg_handle(nullptr) != nullptr)
        return 1;
#endif
    if (ops.version != PATRON_STORE_VERSION || f.locked != PATRON_FILTER_ANY)
        return 1;
    if (std::strcmp(patron_version_string(), PATRON_VERSION_STRING) != 0)
        return 1;
    if (patron_customer_new(&c) != PATRON_OK)
        return 1;
    patron_customer_free(c);
    return 0;
}
