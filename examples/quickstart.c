/* The README's quick start: one customer on the embedded memory store. */
#include <patron/memory.h> /* the embedded memory store; includes patron.h */
#include <stdio.h>

int main(void)
{
    patron_db *db;
    patron_customer *c;
    int rc = 1;

    if (patron_db_open_memory(&db, NULL) != PATRON_OK)   /* the embedded store */
        return 1;
    if (patron_customer_new(&c) != PATRON_OK) {
        patron_db_close(db);
        return 1;
    }
    patron_customer_set(c, PATRON_F_FIRST_NAME, "Anna");
    patron_customer_set(c, PATRON_F_LAST_NAME, "Müller");
    if (patron_customer_set(c, PATRON_F_EMAIL, "anna@example") != PATRON_OK)
        printf("refused: %s\n", patron_customer_errmsg(c));   /* says what is wrong */
    patron_customer_set(c, PATRON_F_EMAIL, "anna@example.de");
    if (patron_db_create(db, c) != PATRON_OK)             /* assigns id and number */
        fprintf(stderr, "create: %s\n", patron_db_errmsg(db));
    else {
        printf("created %s, id %lld\n", patron_customer_get(c, PATRON_F_NUMBER),
               (long long)patron_customer_id(c));
        rc = 0;
    }
    patron_customer_free(c);
    patron_db_close(db);
    return rc;
}
