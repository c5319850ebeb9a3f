/* Test builders shared by the suites: customers with a name, an email and
 * an address, made and saved in one call.  They assert with cmocka. */
#ifndef PATRON_TEST_FIXTURE_H
#define PATRON_TEST_FIXTURE_H

#include <patron/patron.h>
#include <stdint.h>

#include "backend.h"

/* `call` must answer `want` (with the library's message if not). */
#define EXPECT(db, want, call) \
    do { \
        patron_status st_ = (call); \
        if (st_ != (want)) \
            fail_msg("%s: got %d %s (%s), want %d %s", #call, st_, patron_status_message(st_), \
                     patron_db_errmsg(db), (int)(want), patron_status_message(want)); \
    } while (0)

/* `hay` must contain `needle`. */
#define CONTAINS(hay, needle) \
    do { \
        const char *h_ = (hay); \
        if (!h_ || !strstr(h_, (needle))) \
            fail_msg("'%s' does not contain '%s'", h_ ? h_ : "(null)", (needle)); \
    } while (0)

/* A new (unsaved) customer.  Any argument may be NULL: that field stays
 * unset; without `street` the customer has no address, with it one address
 * of street, house number, postal code and city.  Free with
 * patron_customer_free(). */
patron_customer *fx_person(const char *first, const char *last, const char *email, const char *street,
                           const char *number, const char *plz, const char *city);

/* Create `c` on `db` (failing the test with the library's message if that
 * fails); its id. */
int64_t fx_create(patron_db *db, patron_customer *c);

/* fx_person() saved with fx_create() and freed: the new customer's id. */
int64_t fx_add(patron_db *db, const char *first, const char *last, const char *email, const char *street,
               const char *number, const char *plz, const char *city);

/* fx_create() and free `c` (the caller's record is consumed): the id. */
int64_t fx_save(patron_db *db, patron_customer *c);

/* Load customer `id` (failing the test if that fails). */
patron_customer *fx_load(patron_db *db, int64_t id);

/* Register `c` as a pending customer and free it: the id. */
int64_t fx_register(patron_db *db, patron_customer *c);

/* The state of stored customer `id`. */
int fx_state_of(patron_db *db, int64_t id);

/* A field of stored customer `id`, copied (free()), NULL if unset. */
char *fx_field_of(patron_db *db, int64_t id, int field);

/* Stored customer `id`'s field must be `want` (NULL: unset). */
void fx_assert_field(patron_db *db, int64_t id, int field, const char *want);

/* store_fingerprint() of the fixture's store, with the keys and numbers the
 * lifecycle and group suites use as probes.  Free with free(). */
char *fx_fingerprint(tb_fx *f);

/* Two fingerprints must be equal: `what` changed the store otherwise. */
void fx_assert_same_store(const char *before, const char *after, const char *what);

#endif
