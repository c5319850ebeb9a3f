/*
 * patron — the command-line tool: what the commands share.
 *
 * SPDX-License-Identifier: MIT
 *
 * A command is one `cli_command` (name, run function, help text, its table
 * of options, what operands it takes), defined in the file of its command
 * family (cmd_customer.c, cmd_io.c, cmd_match.c, cmd_merge.c,
 * cmd_lifecycle.c, cmd_orders.c, cmd_privacy.c) and listed in main.c, and one function
 * `int cmd_NAME(cli *ctx, int argc, char **argv)` that returns the process
 * exit code: CLI_OK, CLI_ERR (a user error, after printing a one-line
 * message with cli_fail()) or CLI_USAGE (after cli_usage()).  argv[0] is
 * the command's name; its options and operands follow, and cli_parse()
 * reads them by the command's option table (options.c): no command parses
 * arguments by hand.
 */
#ifndef PATRON_CLI_H
#define PATRON_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <patron/patron.h>
#include <patron/sqlite.h>
#include <patron/postgres.h>

/** Exit codes. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

typedef struct cli_command cli_command;
typedef struct cli cli;

/* ---- options: one table per command, one parser for all (options.c) ---- */

/** What an option does with its value. */
typedef enum cli_opt_kind {
    CLI_OPT_END = 0, /**< ends a table */
    CLI_OPT_FLAG,    /**< no value: the int target becomes `value` */
    CLI_OPT_TEXT,    /**< a non-empty value: the `const char *` target */
    CLI_OPT_CHOICE,  /**< one of `choices`: the int target becomes its value */
    CLI_OPT_NUMBER,  /**< a whole number >= 0: the int64_t target */
    CLI_OPT_ASSIGNS  /**< NAME=VALUE, may repeat: appended to the cli_list target */
} cli_opt_kind;

/** A value of a CLI_OPT_CHOICE option.  An entry with the value of the one
 *  before it is an alias, accepted but not listed. */
typedef struct cli_choice {
    const char *name;
    int value;
} cli_choice;

/** One option of a command. */
typedef struct cli_opt {
    const char *name;           /**< "--json" */
    cli_opt_kind kind;
    size_t target;              /**< offsetof(the command's argument struct, member) */
    int value;                  /**< CLI_OPT_FLAG: what the target becomes */
    const char *arg;            /**< the value's name in the help ("FILE"); for
                                     a choice NULL lists the choices */
    const char *needs;          /**< end of "option '--x' needs ...": "a file
                                     name"; NULL: said from arg or choices */
    const cli_choice *choices;  /**< CLI_OPT_CHOICE: ends with { NULL, 0 } */
    int group;                  /**< options of one non-zero group exclude each other */
    const char *help;           /**< for `patron CMD --help` (lines after the first
                                     indented by the printer); NULL: not listed */
} cli_opt;

/** The values of a repeatable option, in the order given; owned by the run. */
typedef struct cli_list {
    const char **v;
    size_t n;
} cli_list;

/** The end of an option table. */
#define CLI_OPT_TABLE_END { .name = NULL, .kind = CLI_OPT_END }

/** Any number of operands (for cli_command.max_ops). */
#define CLI_MANY ((unsigned)-1)

/* The tool's own demo table of orders, kept beside patron's tables in the
 * same file and configured as the store's ref table (see cli_open_db). */
#define CLI_ORDERS_TABLE "orders"

struct cli_command {
    const char *name;
    int (*run)(cli *ctx, int argc, char **argv);
    /** One line for `patron --help`. */
    const char *summary;
    /** The synopsis after "patron [--db PATH] ", e.g. "show KEY [--json]". */
    const char *usage;
    /** The description, printed by `patron CMD --help` before the options. */
    const char *help;
    /** The options besides --help and --db; NULL or ending with CLI_OPT_END. */
    const cli_opt *opts;
    /** The operands' name for messages ("no KEY given"); NULL when the
     *  command checks their number itself. */
    const char *operand;
    unsigned min_ops, max_ops;
    /** Printed after the options (exit status and the like), or NULL. */
    const char *epilog;
};

/** State of one run of the tool. */
struct cli {
    /** The database: --db, else $PATRON_DB, else "patron.db" -- a SQLite
     *  file, or a postgresql:// (postgres://) URI (cli_db_is_pg()). */
    const char *db_path;
    /** Open database (cli_open_db), closed by main(). */
    patron_db *db;
    /** Its SQLite store (for batch transactions), owned by db; NULL on
     *  PostgreSQL. */
    patron_sqlite *store;
    /** Its PostgreSQL store, owned by db; NULL on SQLite. */
    patron_pg *pg;
    /** The orders insert statement of cli_orders_insert() (SQLite: a
     *  sqlite3_stmt, PostgreSQL: prepared on the connection). */
    void *orders_stmt;
    int orders_prepared;
    /** db_path as shown in messages (a URI's password masked). */
    char shown_path[512];
    /** The command being run (for messages). */
    const cli_command *cmd;
    /** What cli_parse() allocated (operands, lists), freed by main(). */
    void *owned[4];
    size_t n_owned;
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

/**
 * Load customer `id` for a listing (list, export): 1 loaded and not merged
 * away, 0 to leave out — deleted meanwhile, merged away, or a stored row the
 * library cannot read (bytes another program wrote: invalid UTF-8, an
 * over-long value), which is reported on stderr as "patron: customer #ID
 * skipped: REASON" and counted in *unreadable (unless `unreadable` is NULL:
 * a first pass that reads the rows again later) — and -1 when the store
 * fails (reported; stop).  A listing goes on past unreadable rows so that
 * its output stays whole and well-formed, and ends with cli_unreadable().
 */
int cli_load_listed(cli *ctx, int64_t id, patron_customer **c, size_t *unreadable);
/** CLI_OK if `unreadable` is 0, else CLI_ERR with "N customers could not be
 *  read and were left out (see above)". */
int cli_unreadable(cli *ctx, size_t unreadable);

/** Report a failed library call on the database: "patron: WHAT: message". */
int cli_fail_db(cli *ctx, patron_status st, const char *what);

/** "patron: WHAT: MESSAGE" (or "patron: MESSAGE" when `what` is NULL),
 *  with the message's line breaks made "; ".  Returns CLI_ERR. */
int cli_fail_msg(cli *ctx, const char *what, const char *msg);

/* ---- arguments ------------------------------------------------------------ */

/**
 * Read a command's arguments (argv[0] is its name) by ctx->cmd's option
 * table into `args`, the command's argument struct (the table's targets are
 * offsets into it).  Options (--name, --name=value, --name value, -h) may
 * come before, between and after operands; "--" ends the options.  Every
 * command takes --help/-h (prints its help) and --db PATH.  The operands
 * go to *ops, *n_ops (owned by the run; either may be NULL when the command
 * takes none), checked against ctx->cmd's min_ops and max_ops.
 * @return -1 when the command goes on; else the exit code to return
 *         (CLI_OK after --help, CLI_USAGE after a message).
 */
int cli_parse(cli *ctx, int argc, char **argv, void *args, const char ***ops, size_t *n_ops);

/**
 * The global options of main(): parse argv[1..] by `opts` into `args` up to
 * the first operand, whose index goes to *next (argc if none).  --help/-h
 * gives CLI_HELP.  Returns -1 to go on, CLI_HELP, or CLI_USAGE after a
 * message.
 */
int cli_parse_global(cli *ctx, const cli_opt *opts, int argc, char **argv, void *args, int *next);
enum { CLI_HELP = 3 };

/** Print the help of a command (usage, description, options) to stdout;
 *  returns CLI_OK. */
int cli_print_help(const cli_command *cmd);

/** Print the rows of an option table as in --help (the listed ones). */
void cli_print_options(const cli_opt *opts);

/* ---- the database and keys ------------------------------------------------ */

/**
 * Open ctx->db_path (store.c): a postgresql:// or postgres:// URI as a
 * PostgreSQL store (patron's tables in the schema "public" with the prefix
 * "patron_", created when missing), anything else as a SQLite file.  Either
 * way with the tool's demo orders table as the store's ref table.  With
 * `create` 0 the file (the tables) must exist (commands that do not create
 * customers leave no empty database behind a typo).
 */
int cli_open_db(cli *ctx, int create);

/** A one-line warning on stderr when the open database's index is stale or
 *  built by a newer release (cmd_model.c); nothing otherwise. */
void cli_warn_stale_index(cli *ctx);

/** 1 if `path` is a postgresql:// or postgres:// URI. */
int cli_db_is_pg(const char *path);
/** ctx->db_path for messages, a password in it replaced by "***". */
const char *cli_db_name(cli *ctx);

/** The store's host transaction (patron_sqlite_begin() or patron_pg_begin()
 *  and their commit and rollback): every patron call until the end runs in
 *  it as a savepoint.  cli_store_errmsg() says why one failed. */
patron_status cli_begin(cli *ctx);
patron_status cli_commit(cli *ctx);
patron_status cli_rollback(cli *ctx);
const char *cli_store_errmsg(cli *ctx);

/** Add a row to the demo orders table: 1 added, 0 the order id is there
 *  already, -1 the database failed; `reason` says why for 0 and -1.
 *  `total` may be NULL.  cli_orders_done() frees the statement. */
int cli_orders_insert(cli *ctx, const char *order_id, int64_t customer_id, const char *total, char *reason,
                      size_t cap);
void cli_orders_done(cli *ctx);
/** Print customer_id's orders, "order_id TAB total" by order id. */
int cli_orders_list(cli *ctx, int64_t customer_id);

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

/** The state filter options of list and export: --pending, --active and
 *  --locked, one of them, into an int member `which` of the argument struct. */
#define CLI_FILTER_OPTS(type, which)                                                                  \
    { .name = "--pending", .kind = CLI_OPT_FLAG, .target = offsetof(type, which), .value = 1, .group = 1, \
      .help = "only pending shop customers" },                                                       \
    { .name = "--active", .kind = CLI_OPT_FLAG, .target = offsetof(type, which), .value = 2, .group = 1,  \
      .help = "only active customers" },                                                             \
    { .name = "--locked", .kind = CLI_OPT_FLAG, .target = offsetof(type, which), .value = 3, .group = 1,  \
      .help = "only locked customers" }

/** The filter for `which` of CLI_FILTER_OPTS (0: all customers). */
patron_filter cli_filter(int which);

/** All ids that match `f`, ascending.  *ids_out: free with free(). */
int cli_collect_ids(cli *ctx, const patron_filter *f, int64_t **ids_out, size_t *n_out);

/**
 * The one KEY operand of a command, resolved: cli_parse() with `args`
 * (NULL: a command without options), cli_open_db() and cli_find_customer().
 * Returns -1 with *c set (free with patron_customer_free()), else the exit
 * code to return (also CLI_OK, after --help).
 */
int cli_one_customer(cli *ctx, int argc, char **argv, void *args, patron_customer **c);

/** A customer's display key: its number, else "#ID", written to `buf`
 *  (at least 32 bytes) and returned. */
const char *cli_customer_key(const patron_customer *c, char *buf, size_t cap);

/** Name, company, postal code and city, email of a customer, for lists of
 *  candidates: "Max Müller, 10115 Berlin, max@example.de". */
const char *cli_customer_label(const patron_customer *c, char *buf, size_t cap);

/* ---- JSON answers of the library ------------------------------------------- */

struct json;

/**
 * A JSON array the library gave as `text` (which this frees): printed as it
 * is when `as_json`, else parsed into *out (free with json_free()).
 * Returns -1 with *out set, else the exit code (CLI_OK after printing,
 * CLI_ERR after a message naming `what`).
 */
int cli_json_array(cli *ctx, char *text, int as_json, const char *what, struct json **out);

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

/* ---- CSV files in and rejected rows out ----------------------------------- */

#include "csv.h"

/** A CSV input of a command, its header read. */
typedef struct cli_csv {
    const char *path;
    FILE *f;
    csv_reader *r;
    /** The header's fields (copies, NUL-terminated) and their number. */
    char **header;
    size_t n_header;
    /** How the file is written (separator, encoding, mark, line ends). */
    csv_dialect dialect;
} cli_csv;

/** What a command was told about its input (--encoding, --delimiter);
 *  zeros: detect both. */
typedef struct cli_csv_opts {
    int encoding;   /**< a csv_encoding; 0 detects it */
    int delimiter;  /**< ',' ';' '\t'; 0 detects it */
} cli_csv_opts;

/** The options --encoding and --delimiter of the commands that read CSV,
 *  into a cli_csv_opts member `member` of the argument struct. */
extern const cli_choice cli_encoding_choices[], cli_delimiter_choices[];
#define CLI_CSV_OPTS(type, member)                                                                            \
    { .name = "--encoding", .kind = CLI_OPT_CHOICE,                                                          \
      .target = offsetof(type, member) + offsetof(cli_csv_opts, encoding), .choices = cli_encoding_choices, \
      .help = "the file's encoding (default: detected: UTF-8,\n"                                             \
              "UTF-16 by its byte order mark, else Windows-1252)" },                                           \
    { .name = "--delimiter", .kind = CLI_OPT_CHOICE,                                                         \
      .target = offsetof(type, member) + offsetof(cli_csv_opts, delimiter), .choices = cli_delimiter_choices, \
      .help = "the separator (default: the one of , ; TAB found\n"                                          \
              "most often in the header line)" }

/**
 * Open `path` (with `allow_stdin`, "-" is standard input), decide its
 * encoding (csv_sniffer) from all its bytes — a pipe, which may not end
 * for a while, from its first 64 KiB — and refuse it here, before anything
 * is imported, when that cannot be decided; start reading and read
 * the header line, which must be well-formed and not empty.  `o` may be
 * NULL (detect everything).
 * @return CLI_OK, or CLI_ERR after a message (`in` is then closed).
 */
int cli_csv_open(cli *ctx, cli_csv *in, const char *path, int allow_stdin, const cli_csv_opts *o);

/**
 * The layout of `in`'s header with the names of --map (`maps`, each
 * "COLUMN=NAME,...") and --map-file (`map_file`, may be NULL); CLI_OK, or
 * CLI_ERR after a message that lists every unknown column.
 */
struct layout;
int cli_csv_layout(cli *ctx, const cli_csv *in, const cli_list *maps, const char *map_file, struct layout *l);
void cli_csv_close(cli_csv *in);

/** The options --map and --map-file, into a cli_list member `maps` and a
 *  `const char *` member `map_file` of the argument struct. */
#define CLI_MAP_OPTS(type, maps, map_file)                                                                  \
    { .name = "--map", .kind = CLI_OPT_ASSIGNS, .target = offsetof(type, maps), .arg = "COLUMN=FIELD,...",  \
      .help = "name columns of the file: FIELD a column name of\n"                                         \
              "the layout (see --help), prop.NAME for a custom\n"                                               \
              "property, or - to skip the column; may repeat" },                                            \
    { .name = "--map-file", .kind = CLI_OPT_TEXT, .target = offsetof(type, map_file), .arg = "FILE",        \
      .needs = "a file name",                                                                               \
      .help = "the same, one COLUMN=FIELD a line ('#' comments)" }

/** Why a row does not fit its header (a malformed line, another number
 *  of fields, a NUL byte), or NULL when it is well-formed. */
const char *cli_csv_malformed(const csv_record *rec, size_t n_header, char *buf, size_t cap);

/** The rejects file of an import: created on the first rejected row with
 *  the header "line,reason," and the input's header. */
typedef struct cli_rejects {
    const char *path;
    char *own_path;   /* the default path, when none was given */
    FILE *f;
    const cli_csv *in;
    long skip_col;    /* a column never copied (the password hash), or -1 */
    size_t count;
    int raw;          /* write formulas as they are (else csv_write_cell) */
} cli_rejects;

/**
 * Prepare the rejects file of `in`: `path`, else FILE.rejects.csv beside
 * the input (never the input itself).
 * @return CLI_OK, or CLI_ERR after a message.
 */
int cli_rejects_init(cli *ctx, cli_rejects *rj, const cli_csv *in, const char *path);
/** Write one rejected row: its first line, the reason, its fields in the
 *  input's dialect (separator, encoding, byte order mark, line ends).  Returns 0, or -1 on a write error (errno set). */
int cli_reject(cli_rejects *rj, const csv_record *rec, const char *reason);
/** Close the file; 0, or -1 on a write error.  Safe to call twice. */
int cli_rejects_close(cli_rejects *rj);
void cli_rejects_free(cli_rejects *rj);

/* ---- commands, by family ------------------------------------------------------ */

/* cmd_customer.c: customer records */
extern const cli_command cli_cmd_show, cli_cmd_list, cli_cmd_create, cli_cmd_update, cli_cmd_delete,
    cli_cmd_register;
/* cmd_io.c: CSV and JSON in and out */
extern const cli_command cli_cmd_import, cli_cmd_export;
/* cmd_lifecycle.c: shop customers, locks, groups */
extern const cli_command cli_cmd_activate, cli_cmd_release, cli_cmd_lock, cli_cmd_unlock, cli_cmd_can_login,
    cli_cmd_groups;
/* cmd_merge.c: merges, the journal, undo */
extern const cli_command cli_cmd_merge_plan, cli_cmd_merge, cli_cmd_journal, cli_cmd_undo;
/* cmd_orders.c: the example orders table */
extern const cli_command cli_cmd_import_orders, cli_cmd_orders;
/* cmd_match.c: duplicates */
extern const cli_command cli_cmd_dedupe, cli_cmd_match;
extern const cli_command cli_cmd_estimate, cli_cmd_model, cli_cmd_review, cli_cmd_reindex;
/* cmd_privacy.c: personal data requests (GDPR) */
extern const cli_command cli_cmd_export_person, cli_cmd_erase;

/* Help texts shared by several commands. */
#define CLI_KEY_HELP \
    "KEY is a customer number (K000001), an external id (the 'id' column of an\n" \
    "import), SOURCE:ID for an external id of another source, or #ID for the\n" \
    "internal id.\n"

#define CLI_FIELDS_HELP \
    "FIELD names are the column names of the CSV layout (see 'patron import\n" \
    "--help'), German and English aliases included; prop.NAME=VALUE sets the\n" \
    "custom property NAME.  Any other name is refused, with the closest field\n" \
    "named.  An empty VALUE clears the field.  A birth date may be TT.MM.JJJJ,\n" \
    "a country a name ('Deutschland').\n"

#endif /* PATRON_CLI_H */
