/* Fuzz target: the record's setters, then its JSON and its packed form.
 * The input is a list of operations (set a field, set a field as a store
 * does, add / set / remove an address, add / remove a tag, set a property,
 * validate, clone).  Invariants:
 *  - a refused change leaves the record exactly as it was (packed bytes);
 *  - an accepted value reads back, and setting what reads back is accepted
 *    and changes nothing (a value the library holds is one it accepts);
 *  - a clone packs to the same bytes; validate changes nothing;
 *  - pack -> unpack -> pack gives the same bytes, and the same JSON;
 *  - the JSON is well-formed UTF-8 without the password hash. */
#include "check.h"

#include <string.h>

static size_t count_in(const char *hay, size_t n, const char *needle)
{
    size_t k = 0, m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            k++;
    return k;
}

static void unchanged(const patron_customer *c, fz_blob before, const char *what)
{
    fz_blob after = fz_pack(c);
    FZ_CHECK(fz_blob_eq(before, after), "a refused %s leaves the record as it was", what);
    FZ_CHECK(patron_customer_errmsg(c)[0] != '\0', "a refused %s says why", what);
    patron_free(after.p);
}

static void stable(patron_customer *c, int field)
{
    const char *v = patron_customer_get(c, field);
    char *copy = v ? strdup(v) : NULL;
    fz_blob a = fz_pack(c), b;
    FZ_CHECK(!v || copy, "out of memory");
    FZ_CHECK(patron_customer_set(c, field, copy) == PATRON_OK,
             "the value field %d holds is accepted again: %s", field, patron_customer_errmsg(c));
    b = fz_pack(c);
    FZ_CHECK(fz_blob_eq(a, b), "setting field %d to its own value changes nothing", field);
    free(copy);
    patron_free(a.p);
    patron_free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    patron_customer *c = NULL, *u = NULL;
    fz_blob p1, p2;
    char *j1, *j2;
    fz_init(&in, data, size);
    FZ_OK(patron_customer_new(&c));
    for (int ops = 0; fz_left(&in) && ops < 64; ops++) {
        char buf[300], kbuf[80];
        unsigned op = fz_u8(&in) % 10;
        fz_blob before = fz_pack(c);
        patron_status st;
        switch (op) {
        case 0: { /* customer_set, fields 0 .. one past the last */
            int f = (int)fz_pick(&in, PATRON_F__END + 1);
            const char *v = fz_str(&in, buf, 290);
            st = patron_customer_set(c, f, v);
            if (st) {
                unchanged(c, before, "customer_set");
            } else {
                FZ_CHECK((patron_customer_get(c, f) != NULL) == (v[0] != '\0'),
                         "an accepted value of field %d reads back", f);
                stable(c, f);
            }
            break;
        }
        case 1: { /* record_set: what a store's load() does, system fields too */
            int f = (int)fz_pick(&in, PATRON_F__END + 1);
            const char *v = fz_str(&in, buf, 290);
            st = patron_record_set(c, f, v);
            if (st) {
                unchanged(c, before, "record_set");
            } else {
                const char *g = patron_customer_get(c, f);
                FZ_CHECK(v[0] ? g && strcmp(g, v) == 0 : g == NULL,
                         "record_set stores field %d as given", f);
            }
            break;
        }
        case 2:
            if (patron_customer_address_count(c) < 4) {
                size_t i = 99;
                FZ_OK(patron_customer_address_add(c, &i));
                FZ_CHECK(i + 1 == patron_customer_address_count(c), "the new address is the last");
                FZ_CHECK(strcmp(patron_customer_address_get(c, i, PATRON_A_COUNTRY), "DE") == 0,
                         "a new address is in DE");
            }
            break;
        case 3: { /* address_set, indexes and fields one past the end too */
            size_t i = fz_pick(&in, (unsigned)patron_customer_address_count(c) + 1);
            int f = (int)fz_pick(&in, PATRON_A__END + 1);
            const char *v = fz_str(&in, buf, 290);
            st = patron_customer_address_set(c, i, f, v);
            if (st) {
                unchanged(c, before, "address_set");
            } else {
                const char *g = patron_customer_address_get(c, i, f);
                char *copy = g ? strdup(g) : NULL;
                fz_blob a = fz_pack(c), b;
                FZ_CHECK((g != NULL) == (v[0] != '\0'), "an accepted address value reads back");
                FZ_CHECK(patron_customer_address_set(c, i, f, copy) == PATRON_OK,
                         "the value an address holds is accepted again: %s", patron_customer_errmsg(c));
                b = fz_pack(c);
                FZ_CHECK(fz_blob_eq(a, b), "setting an address field to its own value changes nothing");
                free(copy);
                patron_free(a.p);
                patron_free(b.p);
            }
            break;
        }
        case 4: {
            size_t n = patron_customer_address_count(c), i = fz_pick(&in, (unsigned)n + 1);
            st = patron_customer_address_remove(c, i);
            if (st)
                unchanged(c, before, "address_remove");
            else
                FZ_CHECK(patron_customer_address_count(c) + 1 == n, "one address fewer");
            break;
        }
        case 5: {
            const char *t = fz_str(&in, buf, 80);
            size_t n = patron_customer_tag_count(c);
            st = patron_customer_tag_add(c, t);
            if (st) {
                unchanged(c, before, "tag_add");
            } else {
                size_t k = 0;
                for (size_t i = 0; i < patron_customer_tag_count(c); i++)
                    k += strcmp(patron_customer_tag_get(c, i), t) == 0;
                FZ_CHECK(k == 1, "an added tag is there once");
                FZ_CHECK(patron_customer_tag_count(c) - n <= 1, "at most one tag more");
            }
            break;
        }
        case 6: {
            size_t n = patron_customer_tag_count(c);
            const char *t = n && (fz_u8(&in) & 1) ? patron_customer_tag_get(c, fz_pick(&in, (unsigned)n))
                                                  : fz_str(&in, buf, 80);
            snprintf(kbuf, sizeof kbuf, "%s", t);
            st = patron_customer_tag_remove(c, kbuf);
            if (st)
                unchanged(c, before, "tag_remove");
            else
                FZ_CHECK(patron_customer_tag_count(c) + 1 == n, "one tag fewer");
            break;
        }
        case 7: {
            const char *k = fz_str(&in, kbuf, 70);
            const char *v = (fz_u8(&in) & 3) ? fz_str(&in, buf, 290) : NULL;
            st = patron_customer_prop_set(c, k, v);
            if (st) {
                unchanged(c, before, "prop_set");
            } else {
                const char *g = patron_customer_prop_get(c, k);
                FZ_CHECK(v ? g && strcmp(g, v) == 0 : g == NULL, "a property reads back as set");
            }
            break;
        }
        case 8: {
            fz_blob after;
            (void)patron_customer_validate(c);
            after = fz_pack(c);
            FZ_CHECK(fz_blob_eq(before, after), "validate changes nothing");
            patron_free(after.p);
            break;
        }
        case 9: {
            patron_customer *k = NULL;
            fz_blob kb;
            FZ_OK(patron_customer_clone(c, &k));
            kb = fz_pack(k);
            FZ_CHECK(fz_blob_eq(before, kb), "a clone packs to the same bytes");
            patron_free(kb.p);
            patron_customer_free(k);
            break;
        }
        }
        patron_free(before.p);
    }

    /* pack -> unpack -> pack, and the JSON of both */
    p1 = fz_pack(c);
    FZ_OK(patron_customer_new(&u));
    FZ_CHECK(patron_record_unpack(u, p1.p, p1.n) == PATRON_OK, "a packed record unpacks: %s",
             patron_customer_errmsg(u));
    p2 = fz_pack(u);
    FZ_CHECK(fz_blob_eq(p1, p2), "pack -> unpack -> pack gives the same bytes");
    j1 = fz_json(c);
    j2 = fz_json(u);
    FZ_CHECK(strcmp(j1, j2) == 0, "an unpacked record has the same JSON");

    /* the password hash never shows, wherever else its text may occur */
    if (patron_record_set(c, PATRON_F_LOGIN_HASH, "$2y$10$Qx7secret.hash.marker") == PATRON_OK) {
        fz_blob p3 = fz_pack(c);
        char *j3 = fz_json(c);
        FZ_CHECK(count_in(j3, strlen(j3), "secret.hash.marker") + 1 <=
                     count_in(p3.p, p3.n, "secret.hash.marker"),
                 "the password hash is not in the JSON");
        patron_free(j3);
        patron_free(p3.p);
    }

    patron_free(j1);
    patron_free(j2);
    patron_free(p1.p);
    patron_free(p2.p);
    patron_customer_free(u);
    patron_customer_free(c);
    return 0;
}
