/* Shared by the fuzz targets (tests/fuzz/README.md): a reader that turns
 * the fuzzer's bytes into choices and strings, an assertion that aborts
 * (so that libFuzzer and the replay runner both report it), customers
 * built from bytes, and a snapshot of a memory store to compare. */
#ifndef PATRON_FUZZ_H
#define PATRON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <patron/patron.h>
#include <patron/store.h>
#include <patron/memory.h>

/* The entry point every target defines (libFuzzer's name). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: abort with the place and the condition when it does not hold. */
#define FZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

/* A call that must succeed (the library's own work, not the input's). */
#define FZ_OK(call) \
    do { \
        patron_status st_ = (call); \
        FZ_CHECK(st_ == PATRON_OK, "%s", patron_status_message(st_)); \
    } while (0)

/* The fuzzer's bytes, consumed from the front.  Past the end every read
 * gives 0 / "" so a target always runs to its end. */
typedef struct fz_in {
    const uint8_t *p, *end;
} fz_in;

void fz_init(fz_in *in, const uint8_t *data, size_t size);
size_t fz_left(const fz_in *in);
unsigned fz_u8(fz_in *in);
/* A number in [0, n) (n >= 1). */
unsigned fz_pick(fz_in *in, unsigned n);
/* A string of up to `max` bytes (length byte, then the bytes), NUL-terminated
 * in `buf` (size max + 1); an embedded NUL byte ends it early. */
const char *fz_str(fz_in *in, char *buf, size_t max);
/* Either one of the `n` words of `dict` or, for a selector past them, a
 * raw string of up to `max` bytes in `buf`; NULL for "unset". */
const char *fz_word(fz_in *in, const char *const *dict, size_t n, char *buf, size_t max);

/* A customer from the bytes: names, email, phone, birth date, company,
 * VAT ID, B2B, an address or two, tags, a property; drawn mostly from
 * small dictionaries of German shop data (so that duplicates, households
 * and spelling variants occur), sometimes raw.  Values the setters refuse
 * are left unset.  Free with patron_customer_free(). */
patron_customer *fz_customer(fz_in *in);

/* A canonical text of what the memory store holds, for comparisons: every
 * customer (any state) as JSON in id order — without revision and
 * updated_at when `without_revisions` — then the owner of each order
 * "o1".."o<n_orders>", then the ids found under every customer's number,
 * email and external reference.  Free with free(). */
char *fz_snapshot(patron_db *db, patron_memstore *ms, int n_orders, int without_revisions);

/* Every customer id of the store, ascending (any state); *n gets how many
 * (at most cap). */
size_t fz_ids(patron_db *db, int64_t *ids, size_t cap);

#endif
