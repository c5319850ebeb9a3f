/* Merging two records of one customer: build a plan, look at the fields in
 * conflict, choose a value, apply it in one transaction, then undo it from
 * the journal.
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

static int64_t save(patron_db *db, const char *first, const char *email, const char *phone)
{
    patron_customer *c;
    int64_t id;
    if (patron_customer_new(&c) != PATRON_OK)
        exit(1);
    if (patron_customer_set(c, PATRON_F_FIRST_NAME, first) != PATRON_OK
        || patron_customer_set(c, PATRON_F_LAST_NAME, "Müller") != PATRON_OK
        || patron_customer_set(c, PATRON_F_EMAIL, email) != PATRON_OK
        || patron_customer_set(c, PATRON_F_PHONE, phone) != PATRON_OK) {
        fprintf(stderr, "%s\n", patron_customer_errmsg(c));
        exit(1);
    }
    CHECK(db, patron_db_create(db, c));
    id = patron_customer_id(c);
    patron_customer_free(c);
    return id;
}

int main(void)
{
    patron_db *db;
    patron_merge_plan *plan;
    patron_customer *after;
    int64_t survivor, dup, journal_id, undo_id;

    if (patron_db_open_memory(&db, NULL) != PATRON_OK)
        return 1;
    survivor = save(db, "Anna", "anna@example.de", "030 1234567");
    dup = save(db, "A.", "anna.mueller@example.de", "+49 171 7654321");

    /* record 0 is the survivor, record 1 the duplicate */
    CHECK(db, patron_merge_plan_new(db, &plan, survivor, &dup, 1, PATRON_MERGE_SURVIVOR));
    printf("in conflict: first_name %s, email %s, phone %s\n",
           patron_merge_plan_conflict(plan, PATRON_F_FIRST_NAME) ? "yes" : "no",
           patron_merge_plan_conflict(plan, PATRON_F_EMAIL) ? "yes" : "no",
           patron_merge_plan_conflict(plan, PATRON_F_PHONE) ? "yes" : "no");
    if (patron_merge_plan_take(plan, PATRON_F_PHONE, 1) != PATRON_OK) {   /* the duplicate's mobile */
        fprintf(stderr, "%s\n", patron_merge_plan_errmsg(plan));
        return 1;
    }
    printf("the plan keeps: %s, %s, %s\n", patron_merge_plan_value(plan, PATRON_F_FIRST_NAME),
           patron_merge_plan_value(plan, PATRON_F_EMAIL), patron_merge_plan_value(plan, PATRON_F_PHONE));

    CHECK(db, patron_db_merge(db, &journal_id, plan));
    patron_merge_plan_free(plan);
    CHECK(db, patron_db_load(db, &after, survivor));
    printf("merged (journal %lld): %s %s, phone %s\n", (long long)journal_id,
           patron_customer_get(after, PATRON_F_FIRST_NAME), patron_customer_get(after, PATRON_F_EMAIL),
           patron_customer_get(after, PATRON_F_PHONE));
    patron_customer_free(after);

    CHECK(db, patron_db_undo(db, &undo_id, journal_id, 0));
    CHECK(db, patron_db_load(db, &after, dup));
    printf("undone (journal %lld): #%lld is back: %s\n", (long long)undo_id, (long long)dup,
           patron_customer_get(after, PATRON_F_EMAIL));
    patron_customer_free(after);
    patron_db_close(db);
    return 0;
}
