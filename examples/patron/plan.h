/*
 * patron — merge-plan options and the side-by-side table, shared by
 * merge-plan, merge (cmd_merge.c) and review show/merge (cmd_review.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PATRON_CLI_PLAN_H
#define PATRON_CLI_PLAN_H

#include "cli.h"

typedef struct plan_args {
    cli_list takes; /* FIELD=N, address=N[,M...], prop.KEY=N */
    cli_list drops; /* address=N */
    cli_list sets;  /* FIELD=VALUE */
    int json;
    int policy;
    int lock;     /* -1 default, 0, 1 */
    int activate; /* merge into a pending survivor */
    const char *note; /* review: the note of a decision */
    const char *by;   /* review: who decides */
    const char *html; /* review: the page to write */
    int all;          /* review: cases in every state */
    int full;         /* review scan: every customer */
    const char **keys; /* SURVIVOR DUP... (or CASE) */
    size_t n_keys;
} plan_args;

extern const cli_choice plan_policies[];

/* The options of merge; merge-plan and review merge take them too. */
#define PLAN_OPTS                                                                                \
    { .name = "--take", .kind = CLI_OPT_ASSIGNS, .target = offsetof(plan_args, takes), .arg = "FIELD=N", \
      .help = "take FIELD from record N, the 1-based position in\n"                               \
              "the plan (1 = the survivor); for login_user the login\n"                           \
              "(name and password) moves as one; prop.KEY=N a\n"                              \
              "custom property; address=N,M... keeps only those of\n"                             \
              "the united addresses, the first the default" },                                    \
    { .name = "--drop", .kind = CLI_OPT_ASSIGNS, .target = offsetof(plan_args, drops), .arg = "address=N", \
      .help = "leave united address N out" },                                                         \
    { .name = "--set", .kind = CLI_OPT_ASSIGNS, .target = offsetof(plan_args, sets),                  \
      .arg = "FIELD=VALUE", .help = "give FIELD a value of your own ('' empties it)" },               \
    { .name = "--policy", .kind = CLI_OPT_CHOICE, .target = offsetof(plan_args, policy),              \
      .choices = plan_policies,                                                                      \
      .help = "who wins by default: the survivor (default) or the\n"                              \
              "most recently updated record" },                                                   \
    { .name = "--lock", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, lock), .value = 1,        \
      .help = "lock the survivor (default: locked if any record is)" },                               \
    { .name = "--unlock", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, lock), .value = 0,      \
      .help = "leave the survivor unlocked" },                                                        \
    { .name = "--activate", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, activate), .value = 1, \
      .help = "allow a pending survivor, activating it" }

/* Apply the caller's choices (--take, --drop, --set, --lock, --activate)
 * to a plan.  CLI_OK or the exit code after a message. */
int plan_apply_choices(cli *ctx, const plan_args *p, patron_merge_plan *plan);

/* The plan side by side: fields, addresses, properties, problems.
 * `reasons` (may be NULL) gives per customer field the matcher's reason
 * for it, printed after the row (review show). */
typedef const char *(*plan_reason_fn)(void *payload, int field);
int plan_print_table(cli *ctx, patron_merge_plan *plan, plan_reason_fn reasons, void *payload);

/* CLI_OK when the plan can be applied (its notes printed to stderr), else
 * the exit code after "merge refused: ...". */
int plan_check(cli *ctx, patron_merge_plan *plan);

#endif
