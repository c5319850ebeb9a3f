/*
 * patron — the command-line tool: what the commands share.
 *
 * SPDX-License-Identifier: MIT
 *
 * A command is one entry in the table in main.c (name, run function, help
 * text) and one function `int cmd_NAME(cli *ctx, int argc, char **argv)`
 * that returns the process exit code: CLI_OK, CLI_ERR (a user error, after
 * printing a one-line message with cli_fail()) or CLI_USAGE (after
 * cli_usage()).  argv[0] is the command's name; its options and operands
 * follow.  Adding a command means writing that function, declaring it
 * below and adding its row to the table.
 */
#ifndef PATRON_CLI_H
#define PATRON_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <patron/patron.h>
#include <patron/sqlite.h>

/** Exit codes. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

typedef struct cli_command cli_command;
typedef struct cli cli;

struct cli_command {
    const char *name;
    int (*run)(cli *ctx, int argc, char **argv);
    /** One line for `patron --help`. */
    const char *summary;
    /** The synopsis after "patron [--db PATH] ", e.g. "show KEY [--json]". */
    const char *usage;
    /** Description and options, printed by `patron CMD --help`. */
    const char *help;
};

/** State of one run of the tool. */
struct cli {
    /** The database file: --db, else $PATRON_DB, else "patron.db". */
    const char *db_path;
    /** Open database (cli_open_db), closed by main(). */
    patron_db *db;
    /** Its SQLite store (for batch transactions), owned by db. */
    patron_sqlite *store;
    /** The command being run (for messages). */
    const cli_command *cmd;
};

/* ---- messages ----------------------------------------------------------- */

/** Print "patron: MESSAGE" to stderr; returns CLI_ERR. */
int cli_fail(cli *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Print "patron: CMD: MESSAGE (see 'patron CMD --help')"; returns CLI_USAGE. */
int cli_usage(cli *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Report a failed library call on the database: "patron: WHAT: message". */
int cli_fail_db(cli *ctx, patron_status st, const char *what);

/** "patron: WHAT: MESSAGE" (or "patron: MESSAGE" when `what` is NULL),
 *  with the message's line breaks made "; ".  Returns CLI_ERR. */
int cli_fail_msg(cli *ctx, const char *what, const char *msg);

/** Print the help of a command to stdout; returns CLI_OK. */
int cli_print_help(const cli_command *cmd);

/* ---- argument walking ----------------------------------------------------- */

/** Walks a command's arguments: options (--name, --name=value, -h) may come
 *  before, between and after operands; "--" ends the options. */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    int no_more_opts;
    /** After cli_args_next() gave CLI_ARG_OPT: the option's name without an
     *  "=value" part, and that value (or NULL). */
    char name[64];
    const char *inline_value;
    /** After CLI_ARG_POS: the operand. */
    const char *operand;
} cli_args;

enum { CLI_ARG_END = 0, CLI_ARG_POS = 1, CLI_ARG_OPT = 2 };

void cli_args_init(cli_args *a, int argc, char **argv);
int cli_args_next(cli_args *a);
/** Is the current option `name`? */
int cli_args_is(const cli_args *a, const char *name);
/** The value of the current option (inline or the next argument); NULL if
 *  there is none. */
const char *cli_args_value(cli_args *a);
/**
 * Handle the options every command takes (--help/-h, --db PATH) and report
 * an unknown option.  Call it for an option the command does not know.
 * Returns -1 if the option was handled and parsing goes on; otherwise the
 * exit code to return (CLI_OK after help, CLI_USAGE for an error).
 */
int cli_args_common(cli *ctx, cli_args *a);
/** For a flag without value: CLI_USAGE message if it was given "=value". */
int cli_args_flag_ok(cli *ctx, const cli_args *a);

/* ---- the database and keys ------------------------------------------------ */

/**
 * Open ctx->db_path as a SQLite store.  With `create` 0 the file must exist
 * (commands that do not create customers leave no empty database behind a
 * typo).
 */
int cli_open_db(cli *ctx, int create);

/**
 * Find the customer for KEY: "#ID" is an internal id; anything else is
 * tried as customer number, then as external reference of an import
 * (source "import"), then as external reference without a source, and,
 * if it has the form SOURCE:ID, as that external reference.  A key of a
 * customer merged into another finds the survivor, and a note on stderr
 * says so ("K000002 was merged into K000001").
 * @param[out] out  free with patron_customer_free().
 * @return CLI_OK, or CLI_ERR after a message.
 */
int cli_find_customer(cli *ctx, const char *key, patron_customer **out);

/**
 * cli_find_customer() without messages: on failure writes one to `err` and
 * returns CLI_ERR.  *merged_from (may be NULL) receives the id of the
 * merged-away customer the key named when it led to the survivor, else 0.
 */
int cli_resolve_customer(cli *ctx, const char *key, patron_customer **out, int64_t *merged_from, char *err,
                         size_t errlen);

/**
 * Handle --pending, --active, --locked (one of them) into `f`.  Returns 0
 * if the option is none of them, -1 if handled, else an exit code.
 */
int cli_filter_option(cli *ctx, cli_args *a, patron_filter *f, int *given);

/** All ids that match `f`, ascending.  *ids_out: free with free(). */
int cli_collect_ids(cli *ctx, const patron_filter *f, int64_t **ids_out, size_t *n_out);

/**
 * Collect a command's operands into *ops (free with free()), handling the
 * common options; any other option is a usage error.  Returns -1 when the
 * operands are collected, else the exit code to return.
 */
int cli_operands(cli *ctx, int argc, char **argv, char ***ops, size_t *n);

/** A customer's display key: its number, else "#ID", written to `buf`
 *  (at least 32 bytes) and returned. */
const char *cli_customer_key(const patron_customer *c, char *buf, size_t cap);

/** Name, company, postal code and city, email of a customer, for lists of
 *  candidates: "Max Müller, 10115 Berlin, max@example.de". */
const char *cli_customer_label(const patron_customer *c, char *buf, size_t cap);

/* ---- tables ------------------------------------------------------------- */

/** Display width of a UTF-8 string: its code points. */
size_t cli_width(const char *s);
/** Write `s` and spaces up to `width` columns. */
void cli_pad(FILE *f, const char *s, size_t width);

/* ---- progress ----------------------------------------------------------- */

/** A progress bar on stderr, drawn only when stderr is a terminal and the
 *  work takes longer than half a second. */
typedef struct cli_progress {
    int enabled;
    int drawn;
    const char *label;
    const char *unit;
    uint64_t total;      /* 0: unknown */
    double start;
    double last;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, const char *unit, uint64_t total);
/** `done` out of total; `count` items so far (shown with the unit). */
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t count);
/** Clear the bar. */
void cli_progress_end(cli_progress *p);

/* ---- commands ------------------------------------------------------------ */

int cmd_import(cli *ctx, int argc, char **argv);
int cmd_export(cli *ctx, int argc, char **argv);
int cmd_show(cli *ctx, int argc, char **argv);
int cmd_list(cli *ctx, int argc, char **argv);
int cmd_create(cli *ctx, int argc, char **argv);
int cmd_update(cli *ctx, int argc, char **argv);
int cmd_delete(cli *ctx, int argc, char **argv);
int cmd_register(cli *ctx, int argc, char **argv);
int cmd_activate(cli *ctx, int argc, char **argv);
int cmd_release(cli *ctx, int argc, char **argv);
int cmd_lock(cli *ctx, int argc, char **argv);
int cmd_unlock(cli *ctx, int argc, char **argv);
int cmd_can_login(cli *ctx, int argc, char **argv);
int cmd_groups(cli *ctx, int argc, char **argv);
int cmd_merge_plan(cli *ctx, int argc, char **argv);
int cmd_merge(cli *ctx, int argc, char **argv);
int cmd_journal(cli *ctx, int argc, char **argv);
int cmd_undo(cli *ctx, int argc, char **argv);
int cmd_import_orders(cli *ctx, int argc, char **argv);
int cmd_orders(cli *ctx, int argc, char **argv);
int cmd_dedupe(cli *ctx, int argc, char **argv);
int cmd_match(cli *ctx, int argc, char **argv);

#endif /* PATRON_CLI_H */
