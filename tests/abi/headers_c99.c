/* The public headers compile as strict C99 (-std=c99 -pedantic -Werror). */
#include <patron/patron.h>
#include <patron/store.h>
#include <patron/memory.h>
#include <stdio.h>

int main(void)
{
    patron_store_ops ops = PATRON_STORE_OPS_INIT;
    patron_filter f = PATRON_FILTER_INIT;
    if (ops.version != PATRON_STORE_VERSION || f.locked != PATRON_FILTER_ANY)
        return 1;
    if (patron_version() != PATRON_VERSION_NUMBER) {
        printf("header %d, library %d\n", PATRON_VERSION_NUMBER, patron_version());
        return 1;
    }
    return 0;
}
