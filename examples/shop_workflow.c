/* The shop workflow: a customer registers in the online shop (pending, no
 * customer number), the merchant activates the registration (a new number,
 * or a merge into the customer who already exists), locks a customer, and
 * the shop asks the login gate before every login.
 */
#include <patron/memory.h> /* the embedded memory store; includes patron.h */
#include <stdio.h>
#include <stdlib.h>

#define CHECK(db, call) \
    do { \
        if ((call) != PATRON_OK) { \
            fprintf(stderr, "%s: %s\n", #call, patron_db_errmsg(db)); \
            exit(1); \
        } \
    } while (0)

static patron_customer *shop_customer(const char *first, const char *last, const char *email,
                                      const char *login)
{
    patron_customer *c;
    if (patron_customer_new(&c) != PATRON_OK)
        exit(1);
    if (patron_customer_set(c, PATRON_F_FIRST_NAME, first) != PATRON_OK
        || patron_customer_set(c, PATRON_F_LAST_NAME, last) != PATRON_OK
        || patron_customer_set(c, PATRON_F_EMAIL, email) != PATRON_OK
        || (login && patron_customer_set(c, PATRON_F_LOGIN_USER, login) != PATRON_OK)) {
        fprintf(stderr, "%s\n", patron_customer_errmsg(c));
        exit(1);
    }
    return c;
}

/* Ask the login gate; exit if the answer is not the one this example expects. */
static void gate(patron_db *db, const char *login, patron_gate expected)
{
    patron_gate verdict;
    int64_t id;
    CHECK(db, patron_db_can_login(db, &verdict, &id, login));
    printf("  can %-10s log in? %-8s (customer #%lld)\n", login, patron_gate_name(verdict), (long long)id);
    if (verdict != expected)
        exit(1);
}

static void activate(patron_db *db, int64_t id, patron_outcome expected)
{
    patron_activation *a;
    CHECK(db, patron_db_activate(db, &a, id, PATRON_ACTIVATE_AUTO, 0));
    printf("  activate #%lld: %s — %s\n", (long long)id, patron_outcome_name(patron_activation_outcome(a)),
           patron_activation_message(a));
    if (patron_activation_outcome(a) != expected)
        exit(1);
    patron_activation_free(a);
}

int main(void)
{
    patron_db *db;
    patron_customer *known, *jonas, *erika;
    patron_gate verdict;

    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;
    /* a customer the merchant created by hand (no shop login): active, with a number */
    known = shop_customer("Erika", "Mustermann", "erika@example.de", NULL);
    CHECK(db, patron_db_create(db, known));

    printf("Registrations arrive pending, without a number:\n");
    jonas = shop_customer("Jonas", "Becker", "jonas@example.de", "jonas");
    CHECK(db, patron_db_register(db, NULL, jonas));
    erika = shop_customer("Erika", "Mustermann", "Erika@Example.de", "erika");
    CHECK(db, patron_db_register(db, NULL, erika));
    gate(db, "jonas", PATRON_GATE_PENDING);

    printf("Activation (automatic mode): a new number, or a merge into the existing customer:\n");
    activate(db, patron_customer_id(jonas), PATRON_OUTCOME_ACTIVATED);
    activate(db, patron_customer_id(erika), PATRON_OUTCOME_MERGED);
    gate(db, "jonas", PATRON_GATE_ALLOWED);
    gate(db, "erika", PATRON_GATE_ALLOWED);   /* the login moved to the existing customer */

    printf("Locking Jonas: no login, no orders, no new registration with his email:\n");
    CHECK(db, patron_db_lock(db, patron_customer_id(jonas), "unpaid invoices"));
    gate(db, "jonas", PATRON_GATE_LOCKED);
    CHECK(db, patron_db_can_order(db, &verdict, NULL, patron_customer_id(jonas)));
    printf("  can #%lld order? %s\n", (long long)patron_customer_id(jonas), patron_gate_name(verdict));
    if (verdict != PATRON_GATE_LOCKED)
        return 1;
    CHECK(db, patron_db_unlock(db, patron_customer_id(jonas)));
    gate(db, "jonas", PATRON_GATE_ALLOWED);

    patron_customer_free(known);
    patron_customer_free(jonas);
    patron_customer_free(erika);
    patron_db_close(db);
    return 0;
}
