/* Shared by the matcher's unit tests: a person given by its raw fields,
 * normalised as the core does (default country DE).  Include after
 * <cmocka.h> and "match/match.h". */
#ifndef PATRON_TEST_MATCH_PERSON_H
#define PATRON_TEST_MATCH_PERSON_H

struct person {
    const char *first, *last, *street, *postal, *city, *email, *phone, *birth, *company;
};

static inline void norm(patron__match_rec *r, const struct person *p)
{
    patron__match_raw raw;
    patron__match_raw_addr ad;

    memset(&raw, 0, sizeof raw);
    memset(&ad, 0, sizeof ad);
    raw.first_name = p->first;
    raw.last_name = p->last;
    raw.email = p->email;
    raw.phone = p->phone;
    raw.birth_date = p->birth;
    raw.company = p->company;
    ad.street = p->street;
    ad.postal_code = p->postal;
    ad.city = p->city;
    raw.addr = &ad;
    raw.n_addr = p->street || p->postal || p->city ? 1 : 0;
    assert_int_equal(patron__match_normalize(r, &raw, "DE"), 0);
}

#endif
