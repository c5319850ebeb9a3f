/*
 * patron — the command-line tool: the matcher's model (issue 11):
 * `estimate` learns it from the customers in the file, `model` shows it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* The fields and levels as patron_matches_field_detail names them. */
static const char *const model_fields[] = {
    "first_name", "last_name", "street",     "house_number", "address_addition", "postal_code",
    "city",       "email",     "phone",      "birth_date",   "company",          "identifier",
};
static const char *const model_levels[] = {
    "exact", "variant", "similar", "phonetic", "partial", "initial", "swapped", "different",
};

typedef struct estimate_args {
    int64_t seed;
    int64_t random_pairs;
    int dry_run;
    int json;
} estimate_args;

static const cli_opt estimate_opts[] = {
    { .name = "--seed", .kind = CLI_OPT_NUMBER, .target = offsetof(estimate_args, seed), .arg = "N",
      .needs = "a number", .help = "seed of the random pairs (default 1; the same file gives the same model)" },
    { .name = "--random-pairs", .kind = CLI_OPT_NUMBER, .target = offsetof(estimate_args, random_pairs),
      .arg = "N", .needs = "a number", .help = "random pairs for the u-probabilities (default 100000)" },
    { .name = "--dry-run", .kind = CLI_OPT_FLAG, .target = offsetof(estimate_args, dry_run), .value = 1,
      .help = "estimate and report, store nothing" },
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(estimate_args, json), .value = 1,
      .help = "the report as JSON" },
    CLI_OPT_TABLE_END,
};

static int cmd_estimate(cli *ctx, int argc, char **argv)
{
    estimate_args args = { 1, 0, 0, 0 };
    patron_estimate_options o = PATRON_ESTIMATE_OPTIONS_INIT;
    patron_estimate_report r = PATRON_ESTIMATE_REPORT_INIT;
    patron_status st;
    int rc;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    o.seed = (uint64_t)args.seed;
    o.random_pairs = (size_t)args.random_pairs;
    o.flags = args.dry_run ? PATRON_ESTIMATE_DRY_RUN : 0u;
    if ((st = patron_db_estimate(ctx->db, &r, &o)) != PATRON_OK)
        return cli_fail_db(ctx, st, "estimate");
    if (args.json) {
        printf("{\"customers\":%zu,\"candidate_pairs\":%zu,\"random_pairs\":%zu,\"iterations\":%d,"
               "\"converged\":%s,\"stored\":%s,\"flags\":%u,\"matches\":%.1f,\"prior\":%.6g,\"seconds\":%.3f,"
               "\"message\":\"",
               r.customers, r.candidate_pairs, r.random_pairs, r.iterations, r.converged ? "true" : "false",
               r.stored ? "true" : "false", r.flags, r.matches, r.prior, r.seconds);
        for (const char *p = r.message; *p; p++)
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\"}\n");
    } else {
        printf("customers        %zu\n", r.customers);
        printf("candidate pairs  %zu\n", r.candidate_pairs);
        printf("random pairs     %zu\n", r.random_pairs);
        printf("iterations       %d\n", r.iterations);
        printf("converged        %s\n", r.converged ? "yes" : "no");
        printf("stored           %s\n", r.stored ? "yes" : "no");
        if (r.converged)
            printf("duplicate pairs  about %.0f\n", r.matches);
        printf("time             %.3f s\n", r.seconds);
    }
    if (!r.converged)
        fprintf(stderr, "patron: estimate: warning: %s\n", r.message);
    else if (!args.json)
        printf("%s\n", r.message);
    return CLI_OK;
}

const cli_command cli_cmd_estimate = {
    "estimate", cmd_estimate, "learn the matcher's model from the customers in the file",
    "estimate [--seed N] [--random-pairs N] [--dry-run] [--json]",
    "Estimate the matcher's model from the active customers: u-probabilities\n"
    "from random pairs, m-probabilities by EM over candidate pairs, shrunk\n"
    "towards the built-in defaults when there are few.  The model is stored in\n"
    "the file and used by every later match and dedupe on it.  A guard scores\n"
    "the file's candidate pairs under the defaults and under the estimate: an\n"
    "estimate that would change many of the defaults' decisions is pulled back\n"
    "towards them, or not used.  When the estimate does not converge, there are\n"
    "too few customers or the guard keeps the model, nothing is stored, a\n"
    "warning says why, and the exit status is still 0.  Show the\n"
    "model with 'patron model'; 'patron model --reset' goes back to the\n"
    "built-in defaults.",
    estimate_opts, NULL, 0, 0, NULL,
};

typedef struct model_args {
    int reset;
    int json;
} model_args;

static const cli_opt model_opts[] = {
    { .name = "--reset", .kind = CLI_OPT_FLAG, .target = offsetof(model_args, reset), .value = 1,
      .help = "back to the built-in defaults (also thresholds and identifiers), then show them" },
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(model_args, json), .value = 1,
      .help = "as a JSON array of {field, level, m, u, weight, origin}" },
    CLI_OPT_TABLE_END,
};

static int cmd_model(cli *ctx, int argc, char **argv)
{
    model_args args = { 0, 0 };
    patron_match_settings s = PATRON_MATCH_SETTINGS_INIT;
    patron_status st;
    int rc, first = 1;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if (args.reset && (st = patron_db_match_config_reset(ctx->db)) != PATRON_OK)
        return cli_fail_db(ctx, st, "model --reset");
    if ((st = patron_db_match_config_get(ctx->db, &s)) != PATRON_OK)
        return cli_fail_db(ctx, st, "model");
    if (args.json)
        printf("[");
    else
        printf("prior %.6g, merge at probability >= %g, review at >= %g\n%-17s %-10s %10s %10s %8s  %s\n",
               s.prior, s.merge_probability, s.review_probability, "field", "level", "m", "u", "weight",
               "origin");
    for (size_t f = 0; f < sizeof model_fields / sizeof model_fields[0]; f++)
        for (size_t l = 0; l < sizeof model_levels / sizeof model_levels[0]; l++) {
            double m = 0, u = 0, w;
            const char *origin = "default";
            if ((st = patron_db_match_config_probability(ctx->db, &m, &u, model_fields[f], model_levels[l])) !=
                    PATRON_OK ||
                (st = patron_db_match_config_origin(ctx->db, &origin, model_fields[f], model_levels[l])) !=
                    PATRON_OK)
                return cli_fail_db(ctx, st, "model");
            if (!(m > 0 && u > 0))
                continue; /* a level the field does not have */
            w = log2(m / u);
            if (args.json)
                printf("%s{\"field\":\"%s\",\"level\":\"%s\",\"m\":%.6g,\"u\":%.6g,\"weight\":%.3f,"
                       "\"origin\":\"%s\"}",
                       first ? "" : ",", model_fields[f], model_levels[l], m, u, w, origin);
            else
                printf("%-17s %-10s %10.6g %10.6g %8.2f  %s\n", model_fields[f], model_levels[l], m, u, w, origin);
            first = 0;
        }
    if (args.json)
        printf("]\n");
    return CLI_OK;
}

const cli_command cli_cmd_model = {
    "model", cmd_model, "show the matcher's model (m, u and weight per field and level)",
    "model [--reset] [--json]",
    "Print the matcher's model in force on this file: the prior and the\n"
    "thresholds, then per field and comparison level m (how often one person's\n"
    "two records compare so), u (how often two people's do), the weight\n"
    "log2(m/u) an agreement at that level adds, and where the values come\n"
    "from: default (built in), estimated ('patron estimate'), shrunk (estimated,\n"
    "then pulled part of the way back to the defaults by the estimate's guard)\n"
    "or set.",
    model_opts, NULL, 0, 0, NULL,
};

/* ---- the index generation ---------------------------------------------------- */

void cli_warn_stale_index(cli *ctx)
{
    patron_index_state s = PATRON_INDEX_CURRENT;
    unsigned gen = 0, cur = 0;
    if (!ctx->db || patron_db_index_state(ctx->db, &s, &gen, &cur) != PATRON_OK)
        return; /* a warning only: the command reports its own failures */
    if (s == PATRON_INDEX_STALE && gen == cur)
        fprintf(stderr, "patron: warning: the index was built under another default country than the matching "
                        "settings name: matches may be missed; run 'patron reindex'\n");
    else if (s == PATRON_INDEX_STALE)
        fprintf(stderr, "patron: warning: the index was built by an older release (generation %u, now %u): "
                        "matches may be missed; run 'patron reindex'\n", gen, cur);
    else if (s == PATRON_INDEX_NEWER)
        fprintf(stderr, "patron: warning: the index was built by a newer release (generation %u, this one %u): "
                        "matches may be missed\n", gen, cur);
}

typedef struct reindex_args {
    int check;
    int json;
} reindex_args;

static const cli_opt reindex_opts[] = {
    { .name = "--check", .kind = CLI_OPT_FLAG, .target = offsetof(reindex_args, check), .value = 1,
      .help = "only show the index's state, change nothing" },
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(reindex_args, json), .value = 1,
      .help = "as JSON: {\"state\", \"generation\", \"current\"} (with --check), else {\"reindexed\"}" },
    CLI_OPT_TABLE_END,
};

static int cmd_reindex(cli *ctx, int argc, char **argv)
{
    reindex_args args = { 0, 0 };
    patron_index_state s = PATRON_INDEX_UNKNOWN;
    unsigned gen = 0, cur = 0;
    size_t n = 0;
    patron_status st;
    int rc;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if (args.check) {
        if ((st = patron_db_index_state(ctx->db, &s, &gen, &cur)) != PATRON_OK)
            return cli_fail_db(ctx, st, "reindex --check");
        if (args.json)
            printf("{\"state\":\"%s\",\"generation\":%u,\"current\":%u}\n", patron_index_state_name(s), gen, cur);
        else
            printf("index %s (generation %u, this library %u)\n", patron_index_state_name(s), gen, cur);
        return CLI_OK;
    }
    if ((st = patron_db_reindex(ctx->db, &n)) != PATRON_OK)
        return cli_fail_db(ctx, st, "reindex");
    if (args.json)
        printf("{\"reindexed\":%zu}\n", n);
    else
        printf("%zu customers re-keyed\n", n);
    return CLI_OK;
}

const cli_command cli_cmd_reindex = {
    "reindex", cmd_reindex, "rebuild the match keys of every customer after an upgrade",
    "reindex [--check] [--json]",
    "Rebuild the index keys and match forms of every customer the way this\n"
    "release builds them, in one transaction, and record the index generation.\n"
    "Needed after an upgrade that changed normalisation or key kinds: until\n"
    "then customers saved before keep their old keys, candidates are missed and\n"
    "value frequencies are off ('patron match', 'dedupe' and 'review' warn on\n"
    "stderr).  Customers' values, numbers, revisions and times stay as they\n"
    "are.  With --check only print the state: current, stale, newer or unknown.",
    reindex_opts, NULL, 0, 0, NULL,
};
