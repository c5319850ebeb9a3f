/* Test builders shared by the suites: customers with a name, an email and
 * an address, made and saved in one call.  They assert with cmocka. */
#ifndef PATRON_TEST_FIXTURE_H
#define PATRON_TEST_FIXTURE_H

#include <patron/patron.h>
#include <stdint.h>

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

#endif
