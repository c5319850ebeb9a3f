<?php

declare(strict_types=1);

namespace Patron;

/**
 * Loads libpatron through PHP's FFI extension, once per process.
 *
 * The order follows php-vips' FFI.php: check that the extension is loaded and
 * enabled (and say plainly how to fix it), load the soname with its ABI
 * number (FFI::load($path) from code, else the environment variable
 * PATRON_LIBRARY, overrides the path), declare patron_version() alone
 * and check it, and only then declare the whole API from the C declarations
 * kept below, which follow include/patron/patron.h and store.h (enums are
 * declared as int: the same ABI).
 *
 * About ffi.enable: the default "preload" allows FFI in the CLI SAPI (php on
 * the command line, phpunit); a web SAPI (FPM, Apache) needs ffi.enable=1, or
 * this binding preloaded through opcache.preload.
 */
final class FFI
{
    /** The soname: libpatron's ABI number is 1. */
    public const SONAME = 'libpatron.so.1';
    /** patron_version() must be MAJOR * 10000 + MINOR * 100 + PATCH with this major ... */
    public const EXPECTED_MAJOR = 0;
    /** ... and at least this version (the first that has everything declared below). */
    public const MINIMUM_VERSION = 100;

    private static ?\FFI $ffi = null;
    private static ?string $path = null;

    /** Status codes of patron.h. */
    public const OK = 0;
    public const E_NOMEM = -1;
    public const E_INVALID = -2;
    public const E_NOT_FOUND = -3;
    public const E_EXISTS = -4;
    public const E_CONFLICT = -5;
    public const E_STORE = -6;
    public const E_UNSUPPORTED = -7;
    public const E_ABI = -8;
    public const E_STATE = -9;
    public const E_AMBIGUOUS = -10;
    public const E_RANGE = -11;
    public const E_LOCKED = -12;

    /** The version of patron_store_ops the declarations below describe. */
    public const STORE_VERSION = 6;

    private function __construct()
    {
    }

    /** The loaded library, with the whole API declared. */
    public static function lib(): \FFI
    {
        if (self::$ffi === null) {
            $env = getenv('PATRON_LIBRARY');
            self::$ffi = self::open(($env !== false && $env !== '') ? $env : self::SONAME, 'PATRON_LIBRARY');
        }
        return self::$ffi;
    }

    /**
     * Load libpatron from `$path` (the file, or the directory that holds
     * libpatron.so.1) instead of the soname or PATRON_LIBRARY: for hosts
     * that cannot set an environment variable, such as PHP-FPM with
     * clear_env.  Call it before the first use of the binding, e.g. in the
     * bootstrap or an opcache.preload script:
     *
     *     Patron\FFI::load('/opt/patron/lib/x86_64-linux-gnu/libpatron.so.1');
     *
     * Db::sqlite() then finds libpatron-sqlite.so.1 beside it.  Loading the
     * same file again does nothing; a different one once the library is
     * loaded throws StateException (a process has one libpatron).
     */
    public static function load(string $path): void
    {
        if ($path === '') {
            throw new InvalidValueException('FFI::load(): the path is empty', self::E_INVALID);
        }
        if (is_dir($path)) {
            $path = rtrim($path, '/') . '/' . self::SONAME;
        }
        if (self::$ffi !== null) {
            $same = self::$path === $path
                || (realpath($path) !== false && realpath($path) === realpath((string) self::$path));
            if (!$same) {
                throw new StateException(sprintf("libpatron is loaded from '%s' already; FFI::load('%s') must "
                    . 'come before the first use of the binding', (string) self::$path, $path), self::E_STATE);
            }
            return;
        }
        self::$ffi = self::open($path, 'FFI::load()');
    }

    /** The file that was loaded (the soname, FFI::load()'s path or PATRON_LIBRARY). */
    public static function path(): string
    {
        self::lib();
        return (string) self::$path;
    }

    /** Why FFI cannot be used here, in words with the fix, or null when it can. */
    public static function unavailableReason(): ?string
    {
        if (!extension_loaded('ffi')) {
            return "PHP's FFI extension is not loaded. Install it (Debian and Ubuntu: "
                . "apt-get install php8.2-cli, whose FFI module is enabled by /etc/php/8.2/mods-available/ffi.ini; "
                . "other systems: the php-ffi package, or PHP built with --with-ffi) and make sure "
                . "php.ini has extension=ffi. `php -m | grep FFI` shows it when it is loaded.";
        }
        $enable = strtolower(trim((string) ini_get('ffi.enable')));
        if (in_array($enable, ['1', 'on', 'true', 'yes'], true)) {
            return null;
        }
        if ($enable === 'preload') {
            if (PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg') {
                return null; // "preload" still allows FFI on the command line
            }
            return "PHP's FFI extension is restricted by ffi.enable=preload, which allows FFI only on the "
                . "command line and in opcache.preload scripts, and this is the '" . PHP_SAPI . "' SAPI. "
                . "Set ffi.enable=1 in php.ini (or the pool's php_admin_value[ffi.enable] = 1), or preload "
                . "the Patron classes with opcache.preload.";
        }
        return "PHP's FFI extension is disabled (ffi.enable=" . ($enable === '' ? '0' : $enable) . "). "
            . "Set ffi.enable=1 in php.ini, or run php -d ffi.enable=1.";
    }

    /** Load and check libpatron from $path; $from says where the path came from, for the message. */
    private static function open(string $path, string $from): \FFI
    {
        $why = self::unavailableReason();
        if ($why !== null) {
            throw new FfiUnavailableException($why);
        }
        try {
            $probe = \FFI::cdef(
                'int patron_version(void); const char *patron_version_string(void);',
                $path
            );
        } catch (\FFI\Exception $e) {
            throw new FfiUnavailableException(
                "cannot load libpatron from '$path'"
                . ($path === self::SONAME ? '' : " (given by $from)") . ': ' . $e->getMessage()
                . '. Install libpatron (its soname is ' . self::SONAME . ', found through the dynamic '
                . 'linker: ldconfig, LD_LIBRARY_PATH), or name the file with Patron\\FFI::load($path) or '
                . 'the environment variable PATRON_LIBRARY.',
                0,
                $e
            );
        }
        $version = $probe->patron_version();
        if (intdiv($version, 10000) !== self::EXPECTED_MAJOR || $version < self::MINIMUM_VERSION) {
            throw new VersionException(sprintf(
                "'%s' is libpatron %s; this binding needs %d.%d.%d or a later %d.x",
                $path,
                (string) $probe->patron_version_string(),
                self::EXPECTED_MAJOR,
                intdiv(self::MINIMUM_VERSION, 100) % 100,
                self::MINIMUM_VERSION % 100,
                self::EXPECTED_MAJOR
            ));
        }
        try {
            $ffi = \FFI::cdef(self::DECLARATIONS, $path);
        } catch (\FFI\Exception $e) {
            throw new FfiUnavailableException("libpatron at '$path' lacks a declared function: "
                . $e->getMessage(), 0, $e);
        }
        self::$path = $path;
        return $ffi;
    }

    private static ?\FFI $sqlite = null;

    /**
     * libpatron-sqlite (the SQLite store), loaded on first use: the path in
     * PATRON_SQLITE_LIBRARY, else beside the loaded libpatron when that was
     * named by a path (FFI::load() or PATRON_LIBRARY; also in a build tree's
     * stores/sqlite/), else its soname libpatron-sqlite.so.1.
     */
    public static function sqlite(): \FFI
    {
        if (self::$sqlite !== null) {
            return self::$sqlite;
        }
        self::lib(); // libpatron first: libpatron-sqlite uses the same one
        $candidates = [];
        $env = getenv('PATRON_SQLITE_LIBRARY');
        if ($env !== false && $env !== '') {
            $candidates[] = $env;
        } else {
            if (self::$path !== self::SONAME) {
                $dir = dirname((string) self::$path);
                $candidates[] = "$dir/libpatron-sqlite.so.1";
                $candidates[] = "$dir/stores/sqlite/libpatron-sqlite.so.1";
            }
            $candidates[] = 'libpatron-sqlite.so.1';
        }
        $errors = [];
        foreach ($candidates as $path) {
            if (str_contains($path, '/') && !is_file($path)) {
                $errors[] = "$path: no such file";
                continue;
            }
            try {
                return self::$sqlite = \FFI::cdef(self::SQLITE_DECLARATIONS, $path);
            } catch (\FFI\Exception $e) {
                $errors[] = "$path: " . $e->getMessage();
            }
        }
        throw new FfiUnavailableException('cannot load libpatron-sqlite (' . implode('; ', $errors)
            . '). Build libpatron with SQLite (libsqlite3-dev) or set PATRON_SQLITE_LIBRARY to the file.');
    }

    /** The part of include/patron/sqlite.h the binding uses. */
    public const SQLITE_DECLARATIONS = <<<'C'
typedef struct patron_db patron_db;
typedef struct patron_sqlite patron_sqlite;
typedef struct patron_sqlite_ref_table {
    const char *kind;
    const char *table;
    const char *customer_column;
    const char *id_column;
    unsigned flags;
} patron_sqlite_ref_table;
typedef struct patron_sqlite_options {
    unsigned version;
    unsigned flags;
    const char *table_prefix;
    const patron_sqlite_ref_table *ref_tables;
    size_t n_ref_tables;
} patron_sqlite_options;
void patron_sqlite_options_init(patron_sqlite_options *opts);
int patron_db_open_sqlite(patron_db **out, patron_sqlite **store_out, char **errmsg_out, const char *path,
                          const patron_sqlite_options *opts);
C;

    /** Throw the exception for `$status` with `$message` (the library's). */
    public static function raise(int $status, string $message, ?\Throwable $previous = null): never
    {
        if ($message === '') {
            $message = (string) self::lib()->patron_status_message($status);
        }
        throw Exception::forStatus($status, $message, $previous);
    }

    /** A PHP string from a `char *` the library allocated, freed with patron_free(). */
    public static function takeString(\FFI\CData $ptr, ?int $len = null): ?string
    {
        if (\FFI::isNull($ptr)) {
            return null;
        }
        try {
            return $len === null ? \FFI::string($ptr) : \FFI::string($ptr, $len);
        } finally {
            self::lib()->patron_free($ptr);
        }
    }

    /**
     * The C declarations of libpatron 0.1 (patron.h, store.h, memory.h,
     * review.h, privacy.h and batch.h), in the headers' order.  Keep in step with the headers: tests/ApiTest.php
     * checks that every PATRON_API function there is declared here.
     */
    public const DECLARATIONS = <<<'C'
typedef struct patron_allocator {
    void *(*malloc_fn)(size_t size, void *opaque);
    void *(*realloc_fn)(void *ptr, size_t size, void *opaque);
    void (*free_fn)(void *ptr, void *opaque);
    void *opaque;
} patron_allocator;
typedef struct patron_customer patron_customer;
typedef struct patron_db patron_db;
typedef struct patron_memstore patron_memstore;
typedef struct patron_merge_plan patron_merge_plan;
typedef struct patron_matches patron_matches;
typedef struct patron_pairs patron_pairs;
typedef struct patron_activation patron_activation;
typedef struct patron_filter {
    int state;
    int locked;
    const char *group;
} patron_filter;
typedef patron_filter patron_store_filter;
typedef struct patron_key {
    int kind;
    const char *value;
} patron_key;
typedef struct patron_journal_entry {
    int64_t id;
    int64_t time;
    const char *kind;
    int64_t customer_id;
    int64_t undone_by;
    const char *payload;
} patron_journal_entry;
typedef int (*patron_emit_id_fn)(void *emit_ctx, int64_t id);
typedef int (*patron_emit_ref_fn)(void *emit_ctx, const char *kind, const char *ref_id);
typedef int (*patron_emit_reason_fn)(void *emit_ctx, const char *reason);
typedef int (*patron_emit_journal_fn)(void *emit_ctx, const patron_journal_entry *entry);
typedef int (*patron_emit_meta_fn)(void *emit_ctx, const char *key, const char *value);
typedef int (*patron_activation_fn)(void *payload, const patron_activation *result);
/* The binding's own: holds the one callback of Db::activatePending(). */
typedef struct patron_php_callbacks {
    patron_activation_fn activation;
} patron_php_callbacks;
typedef struct patron_activate_options {
    unsigned version;
    int mode;
    unsigned flags;
    patron_activation_fn fn;
    void *payload;
} patron_activate_options;
typedef struct patron_activation_summary {
    unsigned version;
    size_t activated;
    size_t merged;
    size_t review;
    size_t failed;
} patron_activation_summary;
typedef struct patron_journal patron_journal;
typedef struct patron_journal_item patron_journal_item;
typedef struct patron_group patron_group;
typedef struct patron_groups patron_groups;
typedef struct patron_store_ops {
    unsigned int version;
    int (*begin)(void *ctx);
    int (*commit)(void *ctx);
    int (*rollback)(void *ctx);
    int (*load)(void *ctx, int64_t id, patron_customer *out);
    int (*insert)(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys, int64_t *id_out);
    int (*update)(void *ctx, const patron_customer *c, const patron_key *keys, size_t n_keys);
    int (*remove)(void *ctx, int64_t id);
    int (*lookup)(void *ctx, int kind, const char *value, patron_emit_id_fn emit, void *emit_ctx);
    int (*scan)(void *ctx, const patron_store_filter *filter, int64_t after_id, size_t limit,
                patron_emit_id_fn emit, void *emit_ctx);
    int (*next_number)(void *ctx, uint64_t *out);
    int (*claim_number)(void *ctx, const char *number);
    int (*relink)(void *ctx, int64_t from_id, int64_t to_id, patron_emit_ref_fn emit, void *emit_ctx);
    int (*move_ref)(void *ctx, const char *kind, const char *ref_id, int64_t to_id);
    int (*check_refs)(void *ctx, int64_t id, patron_emit_reason_fn emit, void *emit_ctx);
    int (*journal_append)(void *ctx, const patron_journal_entry *entry, int64_t *id_out);
    int (*journal_get)(void *ctx, int64_t id, patron_emit_journal_fn emit, void *emit_ctx);
    int (*journal_scan)(void *ctx, int64_t after_id, size_t limit, patron_emit_journal_fn emit, void *emit_ctx);
    int (*journal_set_undone)(void *ctx, int64_t id, int64_t undone_by);
    const char *(*errmsg)(void *ctx);
    void (*destroy)(void *ctx);
    int (*meta_get)(void *ctx, const char *key, patron_emit_meta_fn emit, void *emit_ctx);
    int (*meta_put)(void *ctx, const char *key, const char *value);
    int (*meta_scan)(void *ctx, const char *prefix, patron_emit_meta_fn emit, void *emit_ctx);
    int (*match_form_put)(void *ctx, int64_t id, const void *form, size_t len);
    int (*match_form_get)(void *ctx, int64_t id, const void **form, size_t *len_out);
    int (*count)(void *ctx, int kind, const char *value, uint64_t *count_out);
    int (*begin_read)(void *ctx);
    int (*journal_rewrite)(void *ctx, int64_t id, const char *payload);
    int (*purge)(void *ctx);
    int (*prefetch)(void *ctx, const patron_key *keys, size_t n_keys, const char *const *numbers,
                    size_t n_numbers, size_t n_inserts);
} patron_store_ops;
int patron_store_ops_init(patron_store_ops *ops, unsigned version);

int patron_version(void);
const char *patron_version_string(void);
const char *patron_status_name(int status);
const char *patron_status_message(int status);
const char *patron_state_name(int state);
const char *patron_outcome_name(int outcome);
int patron_set_allocator(const patron_allocator *alloc);
void patron_free(void *ptr);
void *patron_malloc(size_t size);

int patron_field_count(void);
const char *patron_field_name(int field);
int patron_field_from_name(const char *name);
int patron_field_kind(int field);
unsigned patron_field_flags(int field);
int patron_address_field_count(void);
const char *patron_address_field_name(int field);
int patron_address_field_from_name(const char *name);
int patron_address_field_kind(int field);
unsigned patron_address_field_flags(int field);
int patron_customer_new(patron_customer **out);
int patron_customer_clone(const patron_customer *c, patron_customer **out);
void patron_customer_free(patron_customer *c);
const char *patron_customer_errmsg(const patron_customer *c);
const char *patron_customer_get(const patron_customer *c, int field);
int patron_customer_set(patron_customer *c, int field, const char *value);
int patron_customer_set_consent_time(patron_customer *c, const char *value);
int64_t patron_customer_id(const patron_customer *c);
uint64_t patron_customer_revision(const patron_customer *c);
int patron_customer_state(const patron_customer *c);
int patron_customer_locked(const patron_customer *c);
size_t patron_customer_address_count(const patron_customer *c);
int patron_customer_address_add(patron_customer *c, size_t *index_out);
int patron_customer_address_remove(patron_customer *c, size_t index);
const char *patron_customer_address_get(const patron_customer *c, size_t index, int field);
int patron_customer_address_set(patron_customer *c, size_t index, int field, const char *value);
size_t patron_customer_tag_count(const patron_customer *c);
const char *patron_customer_tag_get(const patron_customer *c, size_t index);
int patron_customer_tag_add(patron_customer *c, const char *tag);
int patron_customer_tag_remove(patron_customer *c, const char *tag);
size_t patron_customer_prop_count(const patron_customer *c);
int patron_customer_prop_at(const patron_customer *c, const char **key_out, const char **value_out, size_t index);
const char *patron_customer_prop_get(const patron_customer *c, const char *key);
int patron_customer_prop_set(patron_customer *c, const char *key, const char *value);
int patron_customer_validate(patron_customer *c);
int patron_customer_to_json(const patron_customer *c, char **out, unsigned flags);

int patron_memstore_new(patron_memstore **out);
void patron_memstore_free(patron_memstore *ms);
int patron_memstore_set_ref(patron_memstore *ms, const char *kind, const char *ref_id, int64_t customer_id,
                            unsigned flags);
int64_t patron_memstore_ref_owner(patron_memstore *ms, const char *kind, const char *ref_id);
int patron_memstore_ops(patron_store_ops *ops_out, void **ctx_out, patron_memstore *ms);
int patron_db_open_memory(patron_db **out, patron_memstore *ms);
int patron_db_open(patron_db **out, const patron_store_ops *ops, void *store_ctx);
void patron_db_close(patron_db *db);
const char *patron_db_errmsg(const patron_db *db);
int patron_db_set_number_format(patron_db *db, const char *prefix, unsigned width);
int patron_db_create(patron_db *db, patron_customer *c);
typedef void (*patron_refused_fn)(void *payload, size_t index, int status, const char *message);
int patron_db_create_many(patron_db *db, size_t *created_out, patron_customer *const *cs, size_t n,
                          patron_refused_fn refused, void *payload);
int patron_db_load(patron_db *db, patron_customer **out, int64_t id);
int patron_db_find(patron_db *db, patron_customer **out, int kind, const char *key);
int patron_db_lookup(patron_db *db, int64_t *ids_out, size_t *n_out, size_t cap, int kind, const char *key);
int patron_db_update(patron_db *db, patron_customer *c);
int patron_db_delete(patron_db *db, int64_t id, uint64_t revision);
int patron_db_list(patron_db *db, int64_t *ids_out, size_t *n_out, size_t cap, const patron_filter *filter,
                   int64_t after_id);

int patron_merge_plan_new(patron_db *db, patron_merge_plan **out, int64_t survivor_id, const int64_t *dup_ids,
                          size_t n_dups, int policy);
void patron_merge_plan_free(patron_merge_plan *plan);
const char *patron_merge_plan_errmsg(const patron_merge_plan *plan);
size_t patron_merge_plan_count(const patron_merge_plan *plan);
const patron_customer *patron_merge_plan_record(const patron_merge_plan *plan, size_t k);
int patron_merge_plan_choice(const patron_merge_plan *plan, int *out, int field);
const char *patron_merge_plan_value(const patron_merge_plan *plan, int field);
int patron_merge_plan_conflict(const patron_merge_plan *plan, int field);
int patron_merge_plan_take(patron_merge_plan *plan, int field, size_t k);
int patron_merge_plan_set(patron_merge_plan *plan, int field, const char *value);
int patron_merge_plan_set_lock(patron_merge_plan *plan, int lock);
int patron_merge_plan_set_activate(patron_merge_plan *plan, int activate);
const char *patron_merge_plan_problems(const patron_merge_plan *plan);
int patron_merge_plan_blocked(const patron_merge_plan *plan);
size_t patron_merge_plan_address_count(const patron_merge_plan *plan);
const char *patron_merge_plan_address_get(const patron_merge_plan *plan, size_t i, int field);
int patron_merge_plan_address_from(const patron_merge_plan *plan, size_t i, size_t k);
int patron_merge_plan_address_kept(const patron_merge_plan *plan, size_t i);
int patron_merge_plan_address_keep(patron_merge_plan *plan, size_t i, int keep);
int patron_merge_plan_address_set_default(patron_merge_plan *plan, size_t i);
size_t patron_merge_plan_prop_count(const patron_merge_plan *plan);
int patron_merge_plan_prop_at(const patron_merge_plan *plan, const char **key_out, const char **value_out,
                              int *choice_out, int *conflict_out, size_t i);
int patron_merge_plan_prop_take(patron_merge_plan *plan, const char *key, size_t k);
typedef struct patron_case patron_case;
typedef struct patron_cases patron_cases;
typedef struct patron_review_scan_options { unsigned version; unsigned flags; } patron_review_scan_options;
typedef struct patron_review_scan_stats {
    unsigned version; int full; size_t customers; size_t pairs; size_t opened; size_t refreshed;
    size_t reopened; size_t closed; size_t open;
} patron_review_scan_stats;
const char *patron_case_state_name(int state);
int patron_case_state_from_name(int *out, const char *name);
int64_t patron_case_id(const patron_case *c);
int patron_case_state_of(const patron_case *c);
int patron_case_verdict(const patron_case *c);
double patron_case_score(const patron_case *c);
int64_t patron_case_created_at(const patron_case *c);
int64_t patron_case_updated_at(const patron_case *c);
size_t patron_case_member_count(const patron_case *c);
int patron_case_member(const patron_case *c, int64_t *id_out, size_t i);
size_t patron_case_pair_count(const patron_case *c);
int patron_case_pair(const patron_case *c, int64_t *id_a_out, int64_t *id_b_out, double *score_out,
                     int *decision_out, size_t i);
size_t patron_case_field_count(const patron_case *c, size_t i);
int patron_case_explain(const patron_case *c, const char **field_out, const char **value_a_out,
                        const char **value_b_out, const char **level_out, double *weight_out, size_t i, size_t k);
const char *patron_case_reason(const patron_case *c);
const char *patron_case_decided_by(const patron_case *c);
int64_t patron_case_decided_at(const patron_case *c);
const char *patron_case_note(const patron_case *c);
int64_t patron_case_journal(const patron_case *c);
const char *patron_case_change(const patron_case *c);
int patron_case_to_json(const patron_case *c, char **out, unsigned flags);
void patron_case_free(patron_case *c);
int patron_db_review_list(patron_db *db, patron_cases **out, unsigned states);
int patron_db_review_html(patron_db *db, char **out, unsigned states);
size_t patron_cases_count(const patron_cases *l);
const patron_case *patron_cases_at(const patron_cases *l, size_t i);
int patron_cases_to_json(const patron_cases *l, char **out, unsigned flags);
void patron_cases_free(patron_cases *l);
int patron_db_review_get(patron_db *db, patron_case **out, int64_t case_id);
int patron_db_review_scan(patron_db *db, patron_review_scan_stats *stats_out,
                          const patron_review_scan_options *opts);
int patron_db_review_decide(patron_db *db, int64_t case_id, int state, const char *who, const char *note);
int patron_db_review_plan(patron_db *db, patron_merge_plan **out, int64_t case_id, int policy);
int patron_db_review_merge(patron_db *db, int64_t *journal_id_out, int64_t case_id, patron_merge_plan *plan,
                           const char *who);
int patron_merge_plan_to_json(const patron_merge_plan *plan, char **out, unsigned flags);
int patron_db_merge(patron_db *db, int64_t *journal_id, patron_merge_plan *plan);
int patron_db_undo(patron_db *db, int64_t *undo_id, int64_t journal_id, unsigned flags);
int patron_db_journal_to_json(patron_db *db, char **out, int64_t after_id, size_t limit);
int patron_db_journal_list(patron_db *db, patron_journal **out, int64_t after_id, size_t limit);
size_t patron_journal_count(const patron_journal *j);
const patron_journal_item *patron_journal_at(const patron_journal *j, size_t i);
void patron_journal_free(patron_journal *j);
int64_t patron_journal_item_id(const patron_journal_item *e);
int64_t patron_journal_item_time(const patron_journal_item *e);
const char *patron_journal_item_kind(const patron_journal_item *e);
int64_t patron_journal_item_customer(const patron_journal_item *e);
int64_t patron_journal_item_undone_by(const patron_journal_item *e);
const char *patron_journal_item_summary(const patron_journal_item *e);
int patron_db_export_to_json(patron_db *db, char **out, const int64_t *ids, size_t n, unsigned flags);
int patron_db_export_person(patron_db *db, char **out, int64_t id, unsigned flags);
int patron_db_erase(patron_db *db, int64_t *journal_id_out, int64_t id, const char *reason, const char *who);

const char *patron_decision_name(int decision);
int patron_db_match(patron_db *db, patron_matches **out, const patron_customer *c, int mode);
size_t patron_matches_count(const patron_matches *m);
int patron_matches_get(const patron_matches *m, int64_t *id_out, double *score_out, int *decision_out, size_t i);
size_t patron_matches_field_count(const patron_matches *m);
int patron_matches_explain(const patron_matches *m, const char **field_out, const char **value_a_out,
                           const char **value_b_out, const char **level_out, double *weight_out, size_t i, size_t k);
typedef struct patron_match_detail {
    unsigned version;
    double score;
    double probability;
    double prior;
    double adjustment;
    int decision;
    const char *rule;
} patron_match_detail;
int patron_matches_detail(const patron_matches *m, patron_match_detail *out, size_t i);
typedef struct patron_match_field_detail {
    unsigned version;
    const char *field;
    const char *value_a;
    const char *value_b;
    const char *level;
    double weight;
    double level_weight;
    int frequency;
    uint64_t holders;
    uint64_t customers;
} patron_match_field_detail;
int patron_matches_field_detail(const patron_matches *m, patron_match_field_detail *out, size_t i, size_t k);
int patron_matches_to_json(const patron_matches *m, char **out, unsigned flags);
void patron_matches_free(patron_matches *m);
typedef struct patron_match_settings {
    unsigned version;
    double merge_probability;
    double review_probability;
    double prior;
    char default_country[3];
} patron_match_settings;
int patron_db_match_config_get(patron_db *db, patron_match_settings *out);
int patron_db_match_config_set(patron_db *db, const patron_match_settings *settings);
int patron_db_match_config_probability(patron_db *db, double *m_out, double *u_out, const char *field,
                                       const char *level);
int patron_db_match_config_set_probability(patron_db *db, const char *field, const char *level, double m, double u);
int patron_db_match_config_identifier_add(patron_db *db, const char *property);
int patron_db_match_config_identifier_remove(patron_db *db, const char *property);
int patron_db_match_config_identifiers(patron_db *db, char **out);
int patron_db_match_config_reset(patron_db *db);
const char *patron_index_state_name(int state);
int patron_db_index_state(patron_db *db, int *state_out, unsigned *generation_out, unsigned *current_out);
int patron_db_reindex(patron_db *db, size_t *count_out);
typedef struct patron_estimate_options {
    unsigned version;
    uint64_t seed;
    size_t random_pairs;
    int max_iterations;
    unsigned flags;
} patron_estimate_options;
typedef struct patron_estimate_report {
    unsigned version;
    int stored;
    int converged;
    unsigned flags;
    size_t customers;
    size_t candidate_pairs;
    size_t random_pairs;
    int iterations;
    double matches;
    double prior;
    double seconds;
    char message[256];
} patron_estimate_report;
int patron_db_estimate(patron_db *db, patron_estimate_report *out, const patron_estimate_options *opts);
int patron_db_match_config_origin(patron_db *db, const char **out, const char *field, const char *level);
int patron_db_dedupe(patron_db *db, patron_pairs **out, int mode);
size_t patron_pairs_count(const patron_pairs *p);
int patron_pairs_get(const patron_pairs *p, int64_t *id_a_out, int64_t *id_b_out, double *score_out,
                     int *decision_out, size_t i);
int64_t patron_pairs_cluster(const patron_pairs *p, int64_t id);
int64_t patron_pairs_household(const patron_pairs *p, int64_t id);
void patron_pairs_free(patron_pairs *p);
typedef struct patron_batch patron_batch;
typedef struct patron_batch_value {
    int field;
    const char *key;
    const char *value;
    size_t len;
} patron_batch_value;
typedef struct patron_batch_row {
    unsigned version;
    const patron_batch_value *values;
    size_t n_values;
    int status;
    size_t refused;
    int64_t id;
    char number[72];
    char errmsg[256];
} patron_batch_row;
int patron_batch_new(patron_batch **out, patron_db *db);
int patron_batch_add(patron_batch *b, patron_customer *c);
int patron_batch_add_many(patron_batch *b, patron_customer *const *c, size_t n, int *status);
int patron_batch_add_rows(patron_batch *b, patron_batch_row *rows, size_t n);
int patron_batch_add_rows_until(patron_batch *b, size_t *n_out, patron_batch_row *rows, size_t n, unsigned flags);
int patron_batch_check_row(const patron_batch *b, patron_batch_row *row);
size_t patron_batch_count(const patron_batch *b);
int patron_batch_run(patron_batch *b, patron_pairs **out, int mode);
const char *patron_batch_errmsg(const patron_batch *b);
void patron_batch_free(patron_batch *b);

int patron_db_register(patron_db *db, int64_t *existing_id, patron_customer *c);
int patron_db_activate(patron_db *db, patron_activation **out, int64_t id, int mode, unsigned flags);
int patron_db_activate_pending(patron_db *db, patron_activation_summary *out, const patron_activate_options *opts);
int patron_activation_outcome(const patron_activation *a);
int64_t patron_activation_customer(const patron_activation *a);
const char *patron_activation_number(const patron_activation *a);
int64_t patron_activation_merged_into(const patron_activation *a);
int64_t patron_activation_journal(const patron_activation *a);
const char *patron_activation_message(const patron_activation *a);
size_t patron_activation_candidate_count(const patron_activation *a);
int patron_activation_candidate(const patron_activation *a, int64_t *id_out, double *score_out, int *decision_out,
                                size_t i);
patron_merge_plan *patron_activation_plan(patron_activation *a, size_t i);
void patron_activation_free(patron_activation *a);
int patron_db_release(patron_db *db, char **number, int64_t id);
int patron_db_lock(patron_db *db, int64_t id, const char *reason);
int patron_db_unlock(patron_db *db, int64_t id);
const char *patron_gate_name(int verdict);
int patron_db_can_login(patron_db *db, int *verdict, int64_t *customer_id, const char *login);
int patron_db_can_order(patron_db *db, int *verdict, int64_t *customer_id, int64_t id);

int patron_db_group_add(patron_db *db, const char *name);
int patron_db_group_rename(patron_db *db, const char *old_name, const char *new_name);
int patron_db_group_set(patron_db *db, const char *name, const char *attr, const char *value);
int patron_db_group_assign(patron_db *db, const char *name, int64_t id);
int patron_db_group_delete(patron_db *db, const char *name);
int patron_db_groups_to_json(patron_db *db, char **out);
int patron_db_group_get(patron_db *db, patron_group **out, const char *name);
void patron_group_free(patron_group *g);
int patron_db_group_list(patron_db *db, patron_groups **out);
size_t patron_groups_count(const patron_groups *l);
const patron_group *patron_groups_at(const patron_groups *l, size_t i);
void patron_groups_free(patron_groups *l);
const char *patron_group_name(const patron_group *g);
const char *patron_group_discount_percent(const patron_group *g);
const char *patron_group_price_category(const patron_group *g);
int patron_group_is_default(const patron_group *g);
size_t patron_group_customers(const patron_group *g);

int patron_record_set(patron_customer *c, int field, const char *value);
int patron_record_pack(char **out, size_t *len_out, const patron_customer *c);
int patron_record_unpack(patron_customer *c, const char *data, size_t len);
C;
}
