/* Duplicate matching: which stored customers might be this new one, and why.
 *
 * Three customers are stored; a new registration "M. Mueller, Hauptstr. 12a"
 * is matched against them.  Each candidate comes with its score, the
 * decision (merge / review) and one line per compared field: both
 * normalised values, the comparison level and the weight it added.
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

static patron_customer *person(const char *first, const char *last, const char *email,
                               const char *street, const char *no, const char *plz, const char *city)
{
    patron_customer *c;
    size_t a;
    if (patron_customer_new(&c) != PATRON_OK || patron_customer_address_add(c, &a) != PATRON_OK)
        exit(1);
    if (patron_customer_set(c, PATRON_F_FIRST_NAME, first) != PATRON_OK
        || patron_customer_set(c, PATRON_F_LAST_NAME, last) != PATRON_OK
        || patron_customer_set(c, PATRON_F_EMAIL, email) != PATRON_OK
        || patron_customer_address_set(c, a, PATRON_A_STREET, street) != PATRON_OK
        || patron_customer_address_set(c, a, PATRON_A_HOUSE_NUMBER, no) != PATRON_OK
        || patron_customer_address_set(c, a, PATRON_A_POSTAL_CODE, plz) != PATRON_OK
        || patron_customer_address_set(c, a, PATRON_A_CITY, city) != PATRON_OK) {
        fprintf(stderr, "%s\n", patron_customer_errmsg(c));
        exit(1);
    }
    return c;
}

int main(void)
{
    patron_db *db;
    patron_matches *m;
    patron_customer *stored[3], *incoming;
    size_t n;

    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;
    stored[0] = person("Max", "Müller", "max.mueller@example.de", "Hauptstraße", "12a", "10115", "Berlin");
    stored[1] = person("Erika", "Müller", "erika@example.de", "Hauptstraße", "12a", "10115", "Berlin");
    stored[2] = person("Bernd", "Schmidt", "bernd@example.de", "Lindenweg", "3", "80331", "München");
    for (int i = 0; i < 3; i++)
        CHECK(db, patron_db_create(db, stored[i]));

    incoming = person("M.", "Mueller", "Max.Mueller@Example.DE", "Hauptstr.", "12 a", "10115", "Berlin");
    CHECK(db, patron_db_match(db, &m, incoming, PATRON_MATCH_FIELDS));
    n = patron_matches_count(m);
    printf("%zu candidate(s) for M. Mueller, Hauptstr. 12 a:\n", n);
    for (size_t i = 0; i < n; i++) {
        int64_t id;
        double score;
        patron_decision decision;
        if (patron_matches_get(m, &id, &score, &decision, i) != PATRON_OK)
            return 1;
        printf("\n#%lld  score %.2f  %s\n", (long long)id, score, patron_decision_name(decision));
        for (size_t k = 0; k < patron_matches_field_count(m); k++) {
            const char *field, *a, *b, *level;
            double weight;
            if (patron_matches_explain(m, &field, &a, &b, &level, &weight, i, k) != PATRON_OK)
                return 1;
            printf("  %-12s %-22s %-22s %-10s %+6.2f\n", field, a, b, level, weight);
        }
    }
    /* the record of Max (stored first) is the best candidate: same email */
    int64_t best = 0;
    if (n == 0 || patron_matches_get(m, &best, NULL, NULL, 0) != PATRON_OK
        || best != patron_customer_id(stored[0])) {
        fprintf(stderr, "expected Max Müller as the best candidate\n");
        return 1;
    }
    patron_matches_free(m);
    patron_customer_free(incoming);
    for (int i = 0; i < 3; i++)
        patron_customer_free(stored[i]);
    patron_db_close(db);
    return 0;
}
