/* patron demo on the embedded memory store: create customers, find them by
 * number, email and the shop's own id, update one, see a stale update
 * refused, delete one and see that its number is never given again.
 *
 *   ./build/examples/patron-demo
 */
#include <patron/memory.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(db, call) \
    do { \
        patron_status st_ = (call); \
        if (st_ != PATRON_OK) { \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, patron_status_message(st_), \
                    patron_db_errmsg(db)); \
            exit(1); \
        } \
    } while (0)

static patron_customer *make(const char *first, const char *last, const char *email,
                             const char *street, const char *no, const char *plz, const char *city)
{
    patron_customer *c;
    size_t a;
    if (patron_customer_new(&c) != PATRON_OK)
        exit(1);
    patron_customer_set(c, PATRON_F_FIRST_NAME, first);
    patron_customer_set(c, PATRON_F_LAST_NAME, last);
    patron_customer_set(c, PATRON_F_EMAIL, email);
    patron_customer_address_add(c, &a);
    patron_customer_address_set(c, a, PATRON_A_STREET, street);
    patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, no);
    patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, plz);
    patron_customer_address_set(c, a, PATRON_A_CITY, city);
    patron_customer_address_set(c, a, PATRON_A_DEFAULT, "1");
    return c;
}

static void show(const patron_customer *c)
{
    printf("  %-8s %-10s %-12s %-28s %s %s, %s %s (rev %llu)\n",
           patron_customer_get(c, PATRON_F_NUMBER), patron_customer_get(c, PATRON_F_FIRST_NAME),
           patron_customer_get(c, PATRON_F_LAST_NAME), patron_customer_get(c, PATRON_F_EMAIL),
           patron_customer_address_get(c, 0, PATRON_A_STREET),
           patron_customer_address_get(c, 0, PATRON_A_HOUSE_NUMBER),
           patron_customer_address_get(c, 0, PATRON_A_POSTAL_CODE),
           patron_customer_address_get(c, 0, PATRON_A_CITY),
           (unsigned long long)patron_customer_revision(c));
}

int main(void)
{
    patron_db *db;
    patron_customer *anna, *bernd, *carla, *found, *clerk1, *clerk2;
    patron_status st;

    printf("patron %s — customer master data, demo on the memory store\n\n", patron_version_string());
    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;

    printf("Creating three customers; numbers come from the store's counter:\n");
    anna = make("Anna", "Müller", "anna.mueller@example.de", "Hauptstraße", "12a", "10115", "Berlin");
    patron_customer_set(anna, PATRON_F_EXTERNAL_SOURCE, "shop");
    patron_customer_set(anna, PATRON_F_EXTERNAL_ID, "4711");
    bernd = make("Bernd", "Schmidt", "b.schmidt@example.de", "Lindenweg", "3", "80331", "München");
    carla = make("Carla", "Weiß", "carla@example.at", "Ringstraße", "7", "1010", "Wien");
    patron_customer_address_set(carla, 0, PATRON_A_COUNTRY, "AT");
    CHECK(db, patron_db_create(db, anna));
    CHECK(db, patron_db_create(db, bernd));
    CHECK(db, patron_db_create(db, carla));
    show(anna);
    show(bernd);
    show(carla);

    printf("\nFinding customers by number, by email (any case) and by the shop's id:\n");
    CHECK(db, patron_db_find(db, &found, PATRON_KEY_NUMBER, "K000002"));
    show(found);
    patron_customer_free(found);
    CHECK(db, patron_db_find(db, &found, PATRON_KEY_EMAIL, "  Carla@Example.AT "));
    show(found);
    patron_customer_free(found);
    CHECK(db, patron_db_find(db, &found, PATRON_KEY_EXTERNAL, "shop\x1f" "4711"));
    show(found);
    patron_customer_free(found);

    printf("\nTwo clerks load Anna; the first saves a new address, the second's save is refused:\n");
    CHECK(db, patron_db_load(db, &clerk1, patron_customer_id(anna)));
    CHECK(db, patron_db_load(db, &clerk2, patron_customer_id(anna)));
    patron_customer_address_set(clerk1, 0, PATRON_A_STREET, "Gartenweg");
    patron_customer_address_set(clerk1, 0, PATRON_A_HOUSE_NUMBER, "5");
    CHECK(db, patron_db_update(db, clerk1));
    show(clerk1);
    patron_customer_set(clerk2, PATRON_F_PHONE, "030 1234567");
    st = patron_db_update(db, clerk2);
    printf("  second clerk: %s — %s\n", patron_status_message(st), patron_db_errmsg(db));

    printf("\nBad input is refused with a reason and changes nothing:\n");
    st = patron_customer_set(clerk2, PATRON_F_EMAIL, "anna at example");
    printf("  email \"anna at example\": %s\n", patron_customer_errmsg(clerk2));
    st = patron_customer_address_set(clerk2, 0, PATRON_A_COUNTRY, "XX");
    printf("  country \"XX\": %s\n", patron_customer_errmsg(clerk2));

    printf("\nDeleting Carla (K000003); her number is never given again:\n");
    CHECK(db, patron_db_delete(db, patron_customer_id(carla), 0));
    patron_customer_free(carla);
    carla = make("Carla", "Weiß", "carla@example.at", "Ringstraße", "7", "1010", "Wien");
    patron_customer_address_set(carla, 0, PATRON_A_COUNTRY, "AT");
    patron_customer_set(carla, PATRON_F_NUMBER, "K000003");
    st = patron_db_create(db, carla);
    printf("  manual K000003: %s — %s\n", patron_status_message(st), patron_db_errmsg(db));
    patron_customer_set(carla, PATRON_F_NUMBER, NULL);
    CHECK(db, patron_db_create(db, carla));
    show(carla);

    {
        int64_t ids[10];
        size_t n;
        patron_filter f = PATRON_FILTER_INIT;
        f.state = PATRON_STATE_ACTIVE;
        CHECK(db, patron_db_list(db, ids, &n, 10, &f, 0));
        printf("\n%zu active customers.\n", n);
    }

    patron_customer_free(anna);
    patron_customer_free(bernd);
    patron_customer_free(carla);
    patron_customer_free(clerk1);
    patron_customer_free(clerk2);
    patron_db_close(db);
    return 0;
}
