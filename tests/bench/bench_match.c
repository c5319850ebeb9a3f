/*
 * Benchmark (not a test): ns per call of the matcher's string kernels on
 * name-length strings: Jaro-Winkler, Damerau-Levenshtein (OSA), Kölner
 * Phonetik, and a whole pair score.
 *
 * SPDX-License-Identifier: MIT
 */
#include "match/match.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {
    "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
    "schulz", "hoffmann", "schaefer", "koch", "bauer", "richter", "klein", "wolf",
    "schroeder", "neumann", "schwarz", "zimmermann", "braun", "krueger", "hofmann",
    "hartmann", "lange", "schmitt", "werner", "schmitz", "krause", "meier", "lehmann",
    "mueller-luedenscheidt",
};
#define N_NAMES (sizeof names / sizeof names[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
    size_t len[N_NAMES], i, j, k, calls = 0;
    const size_t rounds = 2000;
    volatile double sink = 0;
    volatile size_t isink = 0;
    double t0, t1;
    char code[PATRON__MATCH_CODE_MAX];

    for (i = 0; i < N_NAMES; i++)
        len[i] = strlen(names[i]);

    t0 = now();
    for (k = 0; k < rounds; k++)
        for (i = 0; i < N_NAMES; i++)
            for (j = 0; j < N_NAMES; j++, calls++)
                sink += patron__match_jaro_winkler(names[i], len[i], names[j], len[j]);
    t1 = now();
    printf("jaro-winkler      %8.1f ns/call  (%zu calls)\n", (t1 - t0) / (double)calls, calls);

    calls = 0;
    t0 = now();
    for (k = 0; k < rounds; k++)
        for (i = 0; i < N_NAMES; i++)
            for (j = 0; j < N_NAMES; j++, calls++)
                isink += patron__match_osa(names[i], len[i], names[j], len[j]);
    t1 = now();
    printf("osa (bit-parallel) %7.1f ns/call  (%zu calls)\n", (t1 - t0) / (double)calls, calls);

    calls = 0;
    t0 = now();
    for (k = 0; k < rounds * N_NAMES; k++)
        for (i = 0; i < N_NAMES; i++, calls++)
            isink += patron__match_koelner(code, sizeof code, names[i], len[i]);
    t1 = now();
    printf("koelner phonetik  %8.1f ns/call  (%zu calls, folded input)\n",
           (t1 - t0) / (double)calls, calls);

    calls = 0;
    t0 = now();
    for (k = 0; k < rounds * N_NAMES / 4; k++)
        for (i = 0; i < 4; i++, calls++) {
            static const char *const raw[] = {"M\xc3\xbcller", ("Sch\xc3\xa4" "fer"),
                                              "Kr\xc3\xbcger", "Gro\xc3\x9f"};
            isink += patron__match_koelner(code, sizeof code, raw[i], strlen(raw[i]));
        }
    t1 = now();
    printf("koelner (UTF-8)   %8.1f ns/call  (%zu calls, folds first)\n",
           (t1 - t0) / (double)calls, calls);

    {
        patron__match_raw raw;
        patron__match_raw_addr ad;
        patron__match_rec a, b;
        patron__match_config cfg;
        patron__match_result r;
        memset(&raw, 0, sizeof raw);
        memset(&ad, 0, sizeof ad);
        patron__match_config_default(&cfg);
        raw.first_name = "Max";
        raw.last_name = "M\xc3\xbcller";
        raw.email = "max.mueller@web.de";
        raw.phone = "030 1234567";
        ad.street = "Hauptstra\xc3\x9f" "e 12a";
        ad.postal_code = "10115";
        ad.city = "Berlin";
        raw.addr = &ad;
        raw.n_addr = 1;
        if (patron__match_normalize(&a, &raw, "DE") != 0)
            return 1;
        raw.first_name = "Maria";
        raw.last_name = "Mueler";
        raw.email = "";
        ad.street = "Hauptstr. 14";
        if (patron__match_normalize(&b, &raw, "DE") != 0)
            return 1;
        calls = 0;
        t0 = now();
        for (k = 0; k < 200000; k++, calls++)
            isink += (size_t)patron__match_score(&r, &a, &b, &cfg);
        t1 = now();
        printf("score (pair)      %8.1f ns/call  (%zu calls)\n", (t1 - t0) / (double)calls,
               calls);
        calls = 0;
        t0 = now();
        for (k = 0; k < 100000; k++, calls++) {
            patron__match_rec c;
            if (patron__match_normalize(&c, &raw, "DE") != 0)
                return 1;
            patron__match_rec_free(&c);
        }
        t1 = now();
        printf("normalise record  %8.1f ns/call  (%zu calls)\n", (t1 - t0) / (double)calls,
               calls);
        patron__match_rec_free(&a);
        patron__match_rec_free(&b);
    }
    (void)sink;
    (void)isink;
    return 0;
}
