/* Fuzz target: patron_record_unpack(), the bytes a store gives back
 * (untrusted).  Invariants:
 *  - refused bytes leave the record empty and say why;
 *  - accepted bytes give a record whose packed form unpacks again to the
 *    same packed form (one canonical form), whose clone is equal, and
 *    whose JSON is well-formed UTF-8 without the password hash (the two
 *    ways of filling a record, patron_record_set() and unpack, accept the
 *    same values: issue 13, defect 10). */
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    patron_customer *c = NULL, *u = NULL, *k = NULL, *empty = NULL;
    fz_blob p1, p2, pe;
    char *j1, *j2;
    /* a NULL pointer with size 0 is what a store might pass for "nothing" */
    const char *bytes = size ? (const char *)data : NULL;
    FZ_OK(patron_customer_new(&c));
    FZ_OK(patron_customer_new(&empty));
    if (patron_record_unpack(c, bytes, size) != PATRON_OK) {
        fz_blob pc = fz_pack(c);
        pe = fz_pack(empty);
        FZ_CHECK(fz_blob_eq(pc, pe), "refused bytes leave the record empty");
        FZ_CHECK(patron_customer_errmsg(c)[0] != '\0', "refused bytes are explained");
        patron_free(pc.p);
        patron_free(pe.p);
        patron_customer_free(c);
        patron_customer_free(empty);
        return 0;
    }
    p1 = fz_pack(c);
    FZ_OK(patron_customer_new(&u));
    FZ_CHECK(patron_record_unpack(u, p1.p, p1.n) == PATRON_OK, "a repacked record unpacks: %s",
             patron_customer_errmsg(u));
    p2 = fz_pack(u);
    FZ_CHECK(fz_blob_eq(p1, p2), "unpack -> pack -> unpack -> pack is stable");
    FZ_OK(patron_customer_clone(c, &k));
    pe = fz_pack(k);
    FZ_CHECK(fz_blob_eq(p1, pe), "a clone packs to the same bytes");
    j1 = fz_json(c);
    j2 = fz_json(u);
    FZ_CHECK(strcmp(j1, j2) == 0, "the same record gives the same JSON");
    (void)patron_customer_validate(c); /* any answer, but no undefined behaviour */
    (void)patron_customer_id(c);
    (void)patron_customer_revision(c);
    (void)patron_customer_state(c);
    patron_free(j1);
    patron_free(j2);
    patron_free(p1.p);
    patron_free(p2.p);
    patron_free(pe.p);
    patron_customer_free(k);
    patron_customer_free(u);
    patron_customer_free(c);
    patron_customer_free(empty);
    return 0;
}
