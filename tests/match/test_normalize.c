/*
 * Unit tests of the matcher's normalisers, with German cases.
 *
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

static void fold_eq(const char *in, const char *want)
{
    char out[PATRON__MATCH_BUF];
    patron__match_fold(out, sizeof out, in, strlen(in));
    assert_string_equal(out, want);
}

static void test_casefold_composition(void **state)
{
    char a[64], b[64];
    (void)state;
    /* "u" + U+0308 COMBINING DIAERESIS equals the precomposed "ü" */
    patron__match_casefold(a, sizeof a, "Mu\xcc\x88LLER", strlen("Mu\xcc\x88LLER"));
    patron__match_casefold(b, sizeof b, "M\xc3\xbcller", strlen("M\xc3\xbcller"));
    assert_string_equal(a, b);
    assert_string_equal(a, "m\xc3\xbcller");
    /* E + U+0301 → é, upper case Latin Extended-A lowered */
    patron__match_casefold(a, sizeof a, "E\xcc\x81\xc5\x81\xc4\x84", 7);
    assert_string_equal(a, "\xc3\xa9\xc5\x82\xc4\x85"); /* éłą */
    /* full case folding of ß and ẞ */
    patron__match_casefold(a, sizeof a, "Stra\xc3\x9f" "e \xe1\xba\x9e",
                           strlen("Stra\xc3\x9f" "e \xe1\xba\x9e"));
    assert_string_equal(a, "strasse ss");
    /* invalid UTF-8 is dropped, not copied */
    patron__match_casefold(a, sizeof a, "A\xff" "B\xc3", 4);
    assert_string_equal(a, "ab");
}

static void test_german_folding(void **state)
{
    (void)state;
    fold_eq("M\xc3\xbcller", "mueller");          /* Müller */
    fold_eq("Mu\xcc\x88ller", "mueller");         /* decomposed */
    fold_eq("\xc3\x84RGER \xc3\x96L", "aerger oel"); /* ÄRGER ÖL */
    fold_eq("Gro\xc3\x9f", "gross");               /* Groß */
    fold_eq("Ren\xc3\xa9", "rene");                /* René */
    fold_eq("\xc5\x81\xc3\xb3" "d\xc5\xba", "lodz"); /* Łódź */
    fold_eq("D\xc4\x85" "browski", "dabrowski");   /* Dąbrowski */
    fold_eq("Y\xc4\xb1lmaz", "yilmaz");            /* Yılmaz, dotless ı */
    fold_eq("\xc3\x98" "stergaard", "ostergaard"); /* Østergaard */
    fold_eq("\xc3\x86sop \xc5\x92uvre", "aesop oeuvre");
    fold_eq("\xc4\x90or\xc4\x91" "e", "dorde");    /* Đorđe */
    fold_eq("Petrovi\xc4\x87", "petrovic");
    fold_eq("Nguy\xe1\xbb\x85n", "nguyen");        /* Latin Extended Additional */
    fold_eq("M\xc3\xbc\xcc\x88", "mue"); /* a stray mark after ü adds nothing */
    fold_eq("a\xe2\x80\x93" "b", "a-b");            /* en dash */
}

static void name_eq(const char *f, const char *l, const char *wf, const char *wl)
{
    char first[PATRON__MATCH_BUF], last[PATRON__MATCH_BUF];
    patron__match_norm_name(first, last, NULL, f, l);
    assert_string_equal(first, wf);
    assert_string_equal(last, wl);
}

/* Every word of the title and particle lists is found (they are looked
 * up in the hashed table gen_names_table.py writes: a word it left out,
 * or a probe that stopped short, would be missed). */
static void test_title_and_particle_words(void **state)
{
    static const char *const strong[] = { "dipl", "diplom", "dipling", "diplkfm", "diplkff", "diplvw", "diplpsych",
                                          "diplinf", "doktor", "dr", "drmed", "drrernat", "drphil", "drjur", "dring",
                                          "drhc", "eheleute", "ehepaar", "familie", "frau", "herr", "herrn", "mme",
                                          "mlle", "mr", "mrs", "prof", "professor", "profdr" };
    static const char *const weak[] = { "ba", "bsc", "c", "dent", "fam", "fr", "h", "hc", "hr", "ing",
                                        "jun", "jur", "llm", "ma", "mag", "mba", "med", "msc", "ms", "mult",
                                        "nat", "oec", "phd", "phil", "pol", "rer", "sen", "vet" };
    static const char *const particles[] = { "af", "av", "da", "das", "de", "dei", "del", "della", "dem", "den",
                                             "der", "des", "di", "do", "dos", "du", "la", "le", "op", "te",
                                             "ten", "ter", "van", "vom", "von", "zu", "zum", "zur" };
    char in[64], first[PATRON__MATCH_BUF], last[PATRON__MATCH_BUF], parts[PATRON__MATCH_BUF];
    (void)state;
    for (size_t i = 0; i < sizeof strong / sizeof strong[0]; i++) {
        snprintf(in, sizeof in, "%s Anna", strong[i]);
        name_eq(in, "Schmidt", "anna", "schmidt");
    }
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        snprintf(in, sizeof in, "Dr %s Anna", weak[i]); /* right after a title */
        name_eq(in, "Schmidt", "anna", "schmidt");
        snprintf(in, sizeof in, "Anna %sx", weak[i]); /* a longer word is none */
        patron__match_norm_name(first, last, NULL, in, "Schmidt");
        assert_string_not_equal(first, "anna");
    }
    for (size_t i = 0; i < sizeof particles / sizeof particles[0]; i++) {
        snprintf(in, sizeof in, "%s Mustermann", particles[i]);
        patron__match_norm_name(first, last, parts, "Max", in);
        assert_string_equal(last, "mustermann");
        assert_string_equal(parts, particles[i]);
    }
}

static void test_names(void **state)
{
    char first[PATRON__MATCH_BUF], last[PATRON__MATCH_BUF], parts[PATRON__MATCH_BUF];
    (void)state;
    name_eq("Herr Dr. Max", "M\xc3\xbcller", "max", "mueller");
    name_eq("Frau Prof. Dr. Anna", "Schmidt", "anna", "schmidt");
    name_eq("Dipl.-Ing. Karl", "Schulze", "karl", "schulze");
    name_eq("Dr. med. Hans-Peter", "Meier", "hans peter", "meier");
    name_eq("Dr.rer.nat. Eva", "Weber", "eva", "weber");
    name_eq("Max", "Dr. Mustermann", "max", "mustermann");
    /* a salutation alone is no given name */
    name_eq("Frau", "Schmidt", "", "schmidt");
    /* particles: "von Müller" ~ "Müller" */
    patron__match_norm_name(first, last, parts, "Max", "von der M\xc3\xbcller");
    assert_string_equal(last, "mueller");
    assert_string_equal(parts, "von der");
    name_eq("Max von", "M\xc3\xbcller", "max", "mueller");
    name_eq("Vincent", "van Gogh", "vincent", "gogh");
    /* a name that is only a particle stays */
    name_eq("Anna", "Van", "anna", "van");
    /* full name in one field */
    name_eq("Max Mustermann", "", "max", "mustermann");
    name_eq("Max von Mustermann", "", "max", "mustermann");
    name_eq("Mustermann, Max", "", "max", "mustermann");
    name_eq("", "Mustermann, Max", "max", "mustermann");
    name_eq("", "Hans M\xc3\xbcller", "hans", "mueller");
    /* double names keep both parts */
    name_eq("Karl", "M\xc3\xbcller-L\xc3\xbc" "denscheidt", "karl", "mueller luedenscheidt");
    /* initials */
    name_eq("M.", "Meyer", "m", "meyer");
    name_eq("H.-P.", "Meyer", "h p", "meyer");
    name_eq("O'Brien", "D'Angelo", "obrien", "dangelo");
}

static void street_eq(const char *in, const char *num, const char *ws, const char *wn)
{
    char s[PATRON__MATCH_BUF], n[PATRON__MATCH_BUF];
    patron__match_norm_street(s, n, in, num);
    assert_string_equal(s, ws);
    assert_string_equal(n, wn);
}

static void test_streets(void **state)
{
    (void)state;
    street_eq("Hauptstra\xc3\x9f" "e 12a", NULL, "hauptstr", "12a");
    street_eq("Hauptstrasse 12 a", NULL, "hauptstr", "12a");
    street_eq("Hauptstr. 12A", NULL, "hauptstr", "12a");
    street_eq("Hauptstr.12A", NULL, "hauptstr", "12a");
    street_eq("Haupt Str. 12", NULL, "hauptstr", "12");
    street_eq("hauptstr 12-14", NULL, "hauptstr", "12-14");
    street_eq("Hauptstra\xc3\x9f" "e 12 - 14", NULL, "hauptstr", "12-14");
    street_eq("Hauptstra\xc3\x9f" "e 12/1", NULL, "hauptstr", "12/1");
    street_eq("Friedrich-Ebert-Stra\xc3\x9f" "e 3", NULL, "friedrichebertstr", "3");
    street_eq("Friedrich-Ebert-Str. 3", NULL, "friedrichebertstr", "3");
    street_eq("Berliner Stra\xc3\x9f" "e 1", NULL, "berlinerstr", "1");
    street_eq("Berliner Str. 1", NULL, "berlinerstr", "1");
    street_eq("Rathausplatz 5", NULL, "rathauspl", "5");
    street_eq("Rathaus-Pl. 5", NULL, "rathauspl", "5");
    street_eq("Birkenweg 7", NULL, "birkenweg", "7");
    street_eq("K\xc3\xb6nigsallee 1b", NULL, "koenigsallee", "1b");
    street_eq("  Am  Markt  3 ", NULL, "ammarkt", "3");
    street_eq("Stra\xc3\x9f" "e des 17. Juni 100", NULL, "strdes17juni", "100");
    street_eq("Hauptstra\xc3\x9f" "e", "12 A", "hauptstr", "12a");
    street_eq("12 Main Street", NULL, "mainstreet", "12");
    street_eq("68", NULL, "", "68");
    street_eq("Gartenweg", NULL, "gartenweg", "");
}

static void postal_eq(const char *in, const char *cc, const char *want)
{
    char out[PATRON__MATCH_BUF];
    patron__match_norm_postal(out, in, cc);
    assert_string_equal(out, want);
}

static void test_postal_country(void **state)
{
    char cc[3];
    (void)state;
    postal_eq("10115", "DE", "10115");
    postal_eq("D-10115", "DE", "10115");
    postal_eq(" 1067 ", "DE", "01067"); /* lost leading zero (spreadsheets) */
    postal_eq("A-1010", "AT", "1010");
    postal_eq("CH-8000", "CH", "8000");
    postal_eq("1234ab", "NL", "1234 AB");
    postal_eq("1234 AB", "NL", "1234 AB");
    postal_eq("00950", "PL", "00-950");
    postal_eq("sw1a1aa", "GB", "SW1A 1AA");
    postal_eq("", "DE", "");
    patron__match_norm_country(cc, "Deutschland", "DE");
    assert_string_equal(cc, "DE");
    patron__match_norm_country(cc, "\xc3\x96sterreich", "DE");
    assert_string_equal(cc, "AT");
    patron__match_norm_country(cc, "Schweiz", "DE");
    assert_string_equal(cc, "CH");
    patron__match_norm_country(cc, "nl", "DE");
    assert_string_equal(cc, "NL");
    patron__match_norm_country(cc, "", "AT");
    assert_string_equal(cc, "AT");
}

static void email_eq(const char *in, const char *want)
{
    char out[PATRON__MATCH_BUF];
    patron__match_norm_email(out, in);
    assert_string_equal(out, want);
}

static void test_emails(void **state)
{
    (void)state;
    email_eq("  Max.Mustermann@WEB.de ", "max.mustermann@web.de");
    email_eq("max+shop@gmx.de", "max@gmx.de");
    email_eq("Max.Muster.Mann+news@googlemail.com", "maxmustermann@gmail.com");
    email_eq("m.a.x@gmail.com", "max@gmail.com");
    email_eq("m.a.x@web.de", "m.a.x@web.de"); /* dots matter elsewhere */
    email_eq("Max <max@example.de>", "max@example.de");
    email_eq("mailto:max@example.de", "max@example.de");
    email_eq("kein-at-zeichen", "");
    email_eq("@web.de", "");
    email_eq("max@", "");
}

static void phone_eq(const char *in, const char *cc, const char *want)
{
    char out[PATRON__MATCH_BUF];
    patron__match_norm_phone(out, in, cc);
    assert_string_equal(out, want);
}

static void test_phones(void **state)
{
    (void)state;
    phone_eq("030 1234567", "DE", "+49301234567");
    phone_eq("+49 30 1234567", "DE", "+49301234567");
    phone_eq("0049 30 1234567", "DE", "+49301234567");
    phone_eq("+49 (0)30 123 45 67", "DE", "+49301234567");
    phone_eq("030/123 45-67", "DE", "+49301234567");
    phone_eq("+49 030 1234567", "DE", "+49301234567"); /* a trunk 0 too many */
    phone_eq("0176 12345678", "DE", "+4917612345678");
    phone_eq("01 2345678", "AT", "+4312345678");
    phone_eq("044 123 45 67", "CH", "+41441234567");
    phone_eq("+41 44 123 45 67", "DE", "+41441234567");
    phone_eq("030 1234567 ext 5", "DE", "+49301234567");
    phone_eq("123", "DE", "");
    phone_eq("", "DE", "");
}

static void test_company_city_birth(void **state)
{
    char out[PATRON__MATCH_BUF];
    (void)state;
    patron__match_norm_company(out, "B\xc3\xa4" "ckerei M\xc3\xbcller GmbH & Co. KG");
    assert_string_equal(out, "baeckereimueller");
    patron__match_norm_company(out, "Elektro Schmidt e.K.");
    assert_string_equal(out, "elektroschmidt");
    patron__match_norm_company(out, "Praxis Weber UG (haftungsbeschr\xc3\xa4nkt)");
    assert_string_equal(out, "praxisweber");
    patron__match_norm_company(out, "GmbH");
    assert_string_equal(out, "gmbh");
    patron__match_norm_city(out, "Halle (Saale)");
    assert_string_equal(out, "halle");
    patron__match_norm_city(out, "M\xc3\xbcnchen");
    assert_string_equal(out, "muenchen");
    patron__match_norm_city(out, "Frankfurt am Main");
    assert_string_equal(out, "frankfurtammain");
    assert_int_equal(patron__match_norm_birth("1980-05-17"), 19800517);
    assert_int_equal(patron__match_norm_birth("17.05.1980"), 19800517);
    assert_int_equal(patron__match_norm_birth("7.5.1980"), 19800507);
    assert_int_equal(patron__match_norm_birth("19800517"), 19800517);
    assert_int_equal(patron__match_norm_birth("17/05/1980"), 19800517);
    assert_int_equal(patron__match_norm_birth(""), 0);
    assert_int_equal(patron__match_norm_birth("gestern"), 0);
    assert_int_equal(patron__match_norm_birth("17.05.80"), 0); /* two-digit year: unknown */
}

static void test_record(void **state)
{
    patron__match_raw raw;
    patron__match_raw_addr ad[2];
    patron__match_rec r;
    (void)state;
    memset(&raw, 0, sizeof raw);
    memset(ad, 0, sizeof ad);
    raw.first_name = "Herr Max";
    raw.last_name = "M\xc3\xbcller";
    raw.email = " Max.Mueller@GoogleMail.com";
    raw.phone = "030 1234567";
    raw.birth_date = "17.05.1980";
    ad[0].street = "Hauptstr. 12a";
    ad[0].postal_code = "1067";
    ad[0].city = "Dresden";
    ad[1].street = "Am Markt";
    ad[1].house_number = "3";
    ad[1].postal_code = "1010";
    ad[1].city = "Wien";
    ad[1].country = "\xc3\x96sterreich";
    raw.addr = ad;
    raw.n_addr = 2;
    assert_int_equal(patron__match_normalize(&r, &raw, "DE"), 0);
    assert_string_equal(r.first, "max");
    assert_string_equal(r.last, "mueller");
    assert_string_equal(r.email, "maxmueller@gmail.com");
    assert_string_equal(r.phone, "+49301234567");
    assert_int_equal(r.birth, 19800517);
    assert_string_equal(r.last_kp, "657");
    assert_int_equal(r.n_addr, 2);
    assert_string_equal(r.addr[0].street, "hauptstr");
    assert_string_equal(r.addr[0].number, "12a");
    assert_string_equal(r.addr[0].postal, "01067");
    assert_string_equal(r.addr[0].country, "DE");
    assert_string_equal(r.addr[1].country, "AT");
    assert_string_equal(r.addr[1].postal, "1010");
    assert_string_equal(r.addr[1].city, "wien");
    assert_int_equal(r.addr[0].street_len, 8);
    patron__match_rec_free(&r);
    /* a national number follows the dialling plan of the country the
     * first address names: an Austrian customer's 0664 ... is +43 664 ...
     * (a store's default country DE notwithstanding); an address without a
     * country, or with one whose plan is not known, keeps the default */
    ad[0].country = "AT";
    raw.phone = "0664-547-3879";
    assert_int_equal(patron__match_normalize(&r, &raw, "DE"), 0);
    assert_string_equal(r.phone, "+436645473879");
    patron__match_rec_free(&r);
    ad[0].country = "Schweiz";
    raw.phone = "079 321 43 21";
    assert_int_equal(patron__match_normalize(&r, &raw, "DE"), 0);
    assert_string_equal(r.phone, "+41793214321");
    patron__match_rec_free(&r);
    ad[0].country = NULL;
    assert_int_equal(patron__match_normalize(&r, &raw, "AT"), 0);
    assert_string_equal(r.phone, "+43793214321");
    patron__match_rec_free(&r);
    raw.phone = "+49 30 1234567";
    ad[0].country = "AT";
    assert_int_equal(patron__match_normalize(&r, &raw, "DE"), 0);
    assert_string_equal(r.phone, "+49301234567");
    patron__match_rec_free(&r);
    /* an empty record normalises to empty strings, never NULL */
    memset(&raw, 0, sizeof raw);
    assert_int_equal(patron__match_normalize(&r, &raw, NULL), 0);
    assert_non_null(r.first);
    assert_string_equal(r.email, "");
    assert_int_equal(r.n_addr, 0);
    patron__match_rec_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_casefold_composition),
        cmocka_unit_test(test_german_folding),
        cmocka_unit_test(test_names), cmocka_unit_test(test_title_and_particle_words),
        cmocka_unit_test(test_streets),
        cmocka_unit_test(test_postal_country),
        cmocka_unit_test(test_emails),
        cmocka_unit_test(test_phones),
        cmocka_unit_test(test_company_city_birth),
        cmocka_unit_test(test_record),
    };
    return cmocka_run_group_tests_name("match/normalize", tests, NULL, NULL);
}
