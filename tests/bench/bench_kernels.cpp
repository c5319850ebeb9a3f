/*
 * Benchmark (not a test): patron's string kernels next to rapidfuzz-cpp on
 * the same pairs (issue 14).
 *
 *   bench_kernels CUSTOMERS.csv [TRUTH.csv] [PAIRS]
 *
 * CUSTOMERS.csv is the generator's output (../shared/data/gen_customers.py),
 * TRUTH.csv its --truth file (id,person).  From their first and last names
 * it builds PAIRS pairs (default 1 000 000) as a matcher meets them: 62 500
 * query names with 16 candidates each — the query's other spellings from
 * the generator's duplicates (its typos) and random names of the file.
 * Uncached, every pair is scored on its own; one-vs-many, the query's
 * pattern is built once per 16 candidates (rapidfuzz: CachedJaroWinkler,
 * CachedOSA; patron: patron__match_pattern).  Prints ns/pair and the ratio
 * patron / rapidfuzz (< 1: patron faster), and checks that the scores
 * agree.  Times are CPU time of the process, the best of 5 alternating
 * rounds (the machine is shared).
 *
 * rapidfuzz-cpp (MIT, header-only) comes from ../shared/peers/rapidfuzz-cpp
 * and is compiled into this benchmark only, never into the library.
 *
 * SPDX-License-Identifier: MIT
 */
#include <rapidfuzz/distance.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/* the matcher's internal header is C (its anonymous struct is C11) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include "match/match.h"
#pragma GCC diagnostic pop

namespace {

double cpu_ns()
{
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* one CSV record (RFC 4180 quotes) */
bool csv_row(std::istream &in, std::vector<std::string> &f)
{
    std::string line;
    f.clear();
    if (!std::getline(in, line))
        return false;
    std::string cur;
    bool q = false;
    for (size_t i = 0;; i++) {
        if (i == line.size()) {
            if (q && std::getline(in, line)) { /* a quoted line break */
                cur += '\n';
                i = (size_t)-1;
                continue;
            }
            break;
        }
        char c = line[i];
        if (q) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                cur += '"', i++;
            else if (c == '"')
                q = false;
            else
                cur += c;
        } else if (c == '"')
            q = true;
        else if (c == ',')
            f.push_back(cur), cur.clear();
        else if (c != '\r')
            cur += c;
    }
    f.push_back(cur);
    return true;
}

uint64_t rng = 0x2545f4914f6cdd1dULL;
uint32_t rnd()
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 17);
}

struct Pair {
    uint32_t a, b; /* indexes into names */
};

const int PER_QUERY = 16;

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_kernels CUSTOMERS.csv [TRUTH.csv] [PAIRS]\n");
        return 2;
    }
    size_t n_pairs = argc > 3 ? (size_t)atol(argv[3]) : 1000000;
    std::ifstream in(argv[1]);
    if (!in) {
        fprintf(stderr, "bench_kernels: cannot read %s\n", argv[1]);
        return 1;
    }
    std::vector<std::string> f, names;
    std::unordered_map<std::string, std::vector<uint32_t>> first_of, last_of; /* by row id */
    std::vector<std::string> row_ids;
    if (!csv_row(in, f))
        return 1;
    int c_id = -1, c_first = -1, c_last = -1;
    for (size_t i = 0; i < f.size(); i++) {
        if (f[i] == "id") c_id = (int)i;
        if (f[i] == "first_name") c_first = (int)i;
        if (f[i] == "last_name") c_last = (int)i;
    }
    if (c_first < 0 || c_last < 0) {
        fprintf(stderr, "bench_kernels: %s has no first_name/last_name columns\n", argv[1]);
        return 1;
    }
    /* names[2k] = first name of row k, names[2k+1] = its last name */
    std::unordered_map<std::string, uint32_t> row_of;
    while (csv_row(in, f)) {
        if ((int)f.size() <= std::max(c_first, c_last))
            continue;
        if (c_id >= 0)
            row_of[f[(size_t)c_id]] = (uint32_t)(names.size() / 2);
        names.push_back(f[(size_t)c_first]);
        names.push_back(f[(size_t)c_last]);
    }
    size_t rows = names.size() / 2;
    if (rows < 100) {
        fprintf(stderr, "bench_kernels: too few rows in %s\n", argv[1]);
        return 1;
    }
    /* the generator's duplicates: rows of one person */
    std::vector<std::vector<uint32_t>> cluster_of_row(0);
    std::vector<int32_t> cluster(rows, -1);
    std::vector<std::vector<uint32_t>> clusters;
    if (argc > 2 && argv[2][0]) {
        std::ifstream tin(argv[2]);
        std::unordered_map<std::string, int32_t> person;
        csv_row(tin, f);
        while (csv_row(tin, f)) {
            if (f.size() < 2)
                continue;
            auto r = row_of.find(f[0]);
            if (r == row_of.end())
                continue;
            auto p = person.emplace(f[1], (int32_t)clusters.size());
            if (p.second)
                clusters.emplace_back();
            clusters[(size_t)p.first->second].push_back(r->second);
            cluster[r->second] = p.first->second;
        }
    }
    /* the pairs: a query name, then 16 candidates */
    std::vector<Pair> pairs;
    pairs.reserve(n_pairs);
    while (pairs.size() < n_pairs) {
        uint32_t row = rnd() % (uint32_t)rows, field = rnd() & 1;
        uint32_t q = 2 * row + field;
        if (names[q].empty())
            continue;
        int k = 0;
        if (cluster[row] >= 0)
            for (uint32_t other : clusters[(size_t)cluster[row]])
                if (other != row && k < PER_QUERY / 2 && pairs.size() < n_pairs && !names[2 * other + field].empty())
                    pairs.push_back({q, 2 * other + field}), k++;
        while (k < PER_QUERY && pairs.size() < n_pairs) {
            uint32_t c = 2 * (rnd() % (uint32_t)rows) + field;
            if (names[c].empty())
                continue;
            pairs.push_back({q, c});
            k++;
        }
    }
    /* The pairs' strings one after the other, in the order they are
     * compared: the timing measures the kernels, not cache misses on
     * 270 000 scattered strings. */
    std::string arena;
    std::vector<std::string_view> pa, pb;
    {
        std::vector<size_t> oa, ob;
        for (const Pair &p : pairs) {
            oa.push_back(arena.size());
            arena += names[p.a];
            ob.push_back(arena.size());
            arena += names[p.b];
        }
        for (size_t i = 0; i < pairs.size(); i++) {
            pa.emplace_back(arena.data() + oa[i], names[pairs[i].a].size());
            pb.emplace_back(arena.data() + ob[i], names[pairs[i].b].size());
        }
    }
    size_t np = pairs.size(), similar = 0, long_ones = 0, non_ascii = 0;
    for (const std::string &s : names) {
        long_ones += s.size() > 64;
        for (unsigned char ch : s)
            if (ch >= 0x80) {
                non_ascii++;
                break;
            }
    }

    /* ---- agreement ---- */
    size_t jw_diff = 0, osa_diff = 0, jw_diff_c = 0, osa_diff_c = 0;
    double max_dev = 0;
    {
        const patron__match_pattern *pp = nullptr;
        auto *pat = new patron__match_pattern;
        for (size_t i = 0; i < np; i++) {
            std::string_view a = pa[i], b = pb[i];
            double p = patron__match_jaro_winkler(a.data(), a.size(), b.data(), b.size());
            double r = rapidfuzz::jaro_winkler_similarity(a, b);
            if (i % PER_QUERY == 0) {
                patron__match_pattern_init(pat, a.data(), a.size());
                pp = pat;
            }
            double pc = patron__match_jaro_winkler_p(pp, b.data(), b.size());
            if (p != r) {
                jw_diff++;
                max_dev = std::max(max_dev, std::fabs(p - r));
            }
            if (pc != p)
                jw_diff_c++;
            similar += p >= 0.9;
            size_t d = patron__match_osa(a.data(), a.size(), b.data(), b.size());
            if (d != rapidfuzz::osa_distance(a, b))
                osa_diff++;
            if (patron__match_osa_p(pp, b.data(), b.size()) != d)
                osa_diff_c++;
        }
        delete pat;
    }

    /* ---- timing: 5 alternating rounds, best of each ---- */
    enum { P_JW, R_JW, P_JWC, R_JWC, P_OSA, R_OSA, P_OSAC, R_OSAC, N_T };
    double best[N_T];
    for (double &b : best)
        b = 1e300;
    volatile double sink = 0;
    volatile size_t isink = 0;
    auto *pat = new patron__match_pattern;
    for (int round = 0; round < 5; round++) {
        double t0, s = 0;
        size_t d = 0;

        t0 = cpu_ns();
        for (size_t i = 0; i < np; i++) {
            std::string_view a = pa[i], b = pb[i];
            s += patron__match_jaro_winkler(a.data(), a.size(), b.data(), b.size());
        }
        best[P_JW] = std::min(best[P_JW], (cpu_ns() - t0) / (double)np);
        sink = sink + s;

        s = 0;
        t0 = cpu_ns();
        for (size_t i = 0; i < np; i++) {
            std::string_view a = pa[i], b = pb[i];
            s += rapidfuzz::jaro_winkler_similarity(a, b);
        }
        best[R_JW] = std::min(best[R_JW], (cpu_ns() - t0) / (double)np);
        sink = sink + s;

        s = 0;
        t0 = cpu_ns();
        for (size_t i = 0; i < np; i += PER_QUERY) {
            std::string_view a = pa[i];
            patron__match_pattern_init(pat, a.data(), a.size());
            for (size_t k = i; k < i + PER_QUERY && k < np; k++) {
                std::string_view b = pb[k];
                s += patron__match_jaro_winkler_p(pat, b.data(), b.size());
            }
        }
        best[P_JWC] = std::min(best[P_JWC], (cpu_ns() - t0) / (double)np);
        sink = sink + s;

        s = 0;
        t0 = cpu_ns();
        for (size_t i = 0; i < np; i += PER_QUERY) {
            rapidfuzz::CachedJaroWinkler<char> scorer(pa[i]);
            for (size_t k = i; k < i + PER_QUERY && k < np; k++)
                s += scorer.similarity(pb[k]);
        }
        best[R_JWC] = std::min(best[R_JWC], (cpu_ns() - t0) / (double)np);
        sink = sink + s;

        t0 = cpu_ns();
        for (size_t i = 0; i < np; i++) {
            std::string_view a = pa[i], b = pb[i];
            d += patron__match_osa(a.data(), a.size(), b.data(), b.size());
        }
        best[P_OSA] = std::min(best[P_OSA], (cpu_ns() - t0) / (double)np);

        t0 = cpu_ns();
        for (size_t i = 0; i < np; i++)
            d += rapidfuzz::osa_distance(pa[i], pb[i]);
        best[R_OSA] = std::min(best[R_OSA], (cpu_ns() - t0) / (double)np);

        t0 = cpu_ns();
        for (size_t i = 0; i < np; i += PER_QUERY) {
            std::string_view a = pa[i];
            patron__match_pattern_init(pat, a.data(), a.size());
            for (size_t k = i; k < i + PER_QUERY && k < np; k++) {
                std::string_view b = pb[k];
                d += patron__match_osa_p(pat, b.data(), b.size());
            }
        }
        best[P_OSAC] = std::min(best[P_OSAC], (cpu_ns() - t0) / (double)np);

        t0 = cpu_ns();
        for (size_t i = 0; i < np; i += PER_QUERY) {
            rapidfuzz::CachedOSA<char> scorer(pa[i]);
            for (size_t k = i; k < i + PER_QUERY && k < np; k++)
                d += scorer.distance(pb[k]);
        }
        best[R_OSAC] = std::min(best[R_OSAC], (cpu_ns() - t0) / (double)np);
        isink = isink + d;
    }
    delete pat;

    /* Kölner Phonetik: every name of the file (raw UTF-8, folded inside) */
    double kp = 1e300;
    {
        char code[PATRON__MATCH_CODE_MAX];
        for (int round = 0; round < 3; round++) {
            size_t d = 0;
            double t0 = cpu_ns();
            for (const std::string &s : names)
                d += patron__match_koelner(code, sizeof code, s.data(), s.size());
            kp = std::min(kp, (cpu_ns() - t0) / (double)names.size());
            isink = isink + d;
        }
    }

    printf("kernels               %zu pairs of the generator's names (%zu rows; %zu query names x %d "
           "candidates; %.1f%% with JW >= 0.9; %zu names non-ASCII, %zu over 64 bytes)\n",
           np, rows, np / PER_QUERY, PER_QUERY, 100.0 * (double)similar / (double)np, non_ascii, long_ones);
    printf("compiled              %s\n", PATRON_BENCH_FLAGS);
    printf("jaro-winkler          patron %6.1f ns/pair   rapidfuzz %6.1f ns/pair   ratio %.2f\n", best[P_JW],
           best[R_JW], best[P_JW] / best[R_JW]);
    printf("jaro-winkler 1:many   patron %6.1f ns/pair   rapidfuzz %6.1f ns/pair   ratio %.2f  (cached)\n",
           best[P_JWC], best[R_JWC], best[P_JWC] / best[R_JWC]);
    printf("osa                   patron %6.1f ns/pair   rapidfuzz %6.1f ns/pair   ratio %.2f\n", best[P_OSA],
           best[R_OSA], best[P_OSA] / best[R_OSA]);
    printf("osa 1:many            patron %6.1f ns/pair   rapidfuzz %6.1f ns/pair   ratio %.2f  (cached)\n",
           best[P_OSAC], best[R_OSAC], best[P_OSAC] / best[R_OSAC]);
    printf("koelner phonetik      patron %6.1f ns/call  (%zu names, UTF-8 input)\n", kp, names.size());
    printf("agreement             jaro-winkler: %zu of %zu pairs differ from rapidfuzz (max %.3g), "
           "%zu cached differ from uncached; osa: %zu differ from rapidfuzz, %zu cached differ\n",
           jw_diff, np, max_dev, jw_diff_c, osa_diff, osa_diff_c);
    (void)sink;
    (void)isink;
    return (jw_diff || osa_diff || jw_diff_c || osa_diff_c) ? 1 : 0;
}
