<?php

declare(strict_types=1);

namespace Patron;

/**
 * A handle on a store (patron_db): the customers, their lifecycle, matching,
 * merges and the journal.  Every method that changes the store is one
 * transaction; on failure it throws the Exception subclass for the
 * library's status, with the library's message, and nothing was changed.
 * When a PHP store's callback threw, the StoreException's getPrevious() is
 * the exception it threw.
 *
 *     $db = Db::memory();
 *     $c = $db->create(new Customer(['last_name' => 'Müller']));
 *     $again = $db->findByNumber($c->number);
 *
 * The handle is closed when the object goes away (or by close()).  One Db
 * must not be used by two threads at once.
 */
final class Db
{
    /** Key kinds for find() and lookup(). */
    public const KEYS = ['number' => 1, 'external' => 2, 'email' => 3, 'login' => 4];
    private const MATCH_MODES = ['fields' => 0, 'email' => 1];
    private const ACTIVATE_MODES = ['interactive' => 0, 'auto' => 1, 'email' => 2];
    private const POLICIES = ['survivor' => 0, 'newest' => 1];
    /** Versions of the patron.h structs this binding declares (see FFI.php). */
    private const ACTIVATE_OPTIONS_VERSION = 1;
    private const ACTIVATION_SUMMARY_VERSION = 1;

    private ?\FFI\CData $ptr;
    /** The store behind the handle, kept alive as long as the handle. */
    private MemoryStore|Store|null $store;
    /** The per-customer callback of activatePending(), made once. */
    private static ?\FFI\CData $activationHolder = null;
    /** @var null|\Closure(\FFI\CData):int */
    private static ?\Closure $activationSink = null;

    private function __construct(\FFI\CData $ptr, MemoryStore|Store|null $store)
    {
        $this->ptr = $ptr;
        $this->store = $store;
    }

    /**
     * A handle on a memory store: a private one that lives and dies with the
     * handle, or `$store`, shared with other handles.
     */
    public static function memory(?MemoryStore $store = null): self
    {
        $lib = FFI::lib();
        $p = $lib->new('patron_db*');
        $st = $lib->patron_db_open_memory(\FFI::addr($p), $store?->cdata());
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
        return new self($p, $store);
    }

    /** Flags of Db::sqlite(). */
    public const SQLITE_READONLY = 1;
    public const SQLITE_NOCREATE = 2;
    public const SQLITE_SYNC_NORMAL = 4;

    /**
     * A handle on a SQLite file through libpatron-sqlite, the library's own
     * SQLite store (":memory:" for a private database).  $flags: the
     * SQLITE_* constants.  $tablePrefix: the prefix of the store's tables
     * (null: "patron_"; letters, digits and '_', at most 32 bytes).
     * $refTables: the host's tables whose rows a merge moves to the survivor
     * (and undo moves back), each
     * ['kind' => 'order', 'table' => 'orders', 'customer' => 'customer_id',
     *  'id' => 'order_id', 'pinned' => false] ('pinned': the rows cannot
     * move and a merge of a customer with any is refused).  See FFI::sqlite()
     * for how the library is found.
     *
     * @param list<array{kind: string, table: string, customer: string, id: string, pinned?: bool}> $refTables
     */
    public static function sqlite(
        string $path,
        int $flags = 0,
        ?string $tablePrefix = null,
        array $refTables = []
    ): self {
        $sq = FFI::sqlite();
        // The handle is typed by libpatron's declarations; libpatron-sqlite
        // writes it through a cast of its address (a cast CData refers to
        // the storage of what it was cast from, so cast the address, held
        // in a variable for the call, not the handle).
        $p = FFI::lib()->new('patron_db*');
        $addr = \FFI::addr($p);
        $out = $sq->cast('patron_db**', $addr);
        $err = $sq->new('char*');
        $opts = $sq->new('patron_sqlite_options');
        $sq->patron_sqlite_options_init(\FFI::addr($opts));
        $opts->flags = $flags;
        $keep = []; // the C strings, alive until the call returns
        if ($tablePrefix !== null) {
            $opts->table_prefix = self::cString($sq, $tablePrefix, $keep);
        }
        $n = count($refTables);
        if ($n > 0) {
            $arr = $sq->new("patron_sqlite_ref_table[$n]");
            foreach (array_values($refTables) as $i => $t) {
                foreach (['kind', 'table', 'customer', 'id'] as $k) {
                    if (!isset($t[$k]) || !is_string($t[$k])) {
                        throw new InvalidValueException("refTables[$i]: '$k' must be a string", FFI::E_INVALID);
                    }
                }
                $arr[$i]->kind = self::cString($sq, $t['kind'], $keep);
                $arr[$i]->table = self::cString($sq, $t['table'], $keep);
                $arr[$i]->customer_column = self::cString($sq, $t['customer'], $keep);
                $arr[$i]->id_column = self::cString($sq, $t['id'], $keep);
                $arr[$i]->flags = !empty($t['pinned']) ? 1 : 0;
            }
            $opts->ref_tables = $sq->cast('patron_sqlite_ref_table*', \FFI::addr($arr[0]));
            $opts->n_ref_tables = $n;
        }
        $st = $sq->patron_db_open_sqlite($out, null, \FFI::addr($err), $path, \FFI::addr($opts));
        if ($st !== FFI::OK) {
            $msg = \FFI::isNull($err) ? '' : \FFI::string($err);
            FFI::lib()->patron_free($err);
            FFI::raise($st, $msg);
        }
        unset($keep, $arr);
        return new self($p, null);
    }

    /**
     * A `const char *` to a NUL-terminated copy of $s; the buffer, owned by
     * PHP, is appended to $keep, which the caller holds during the call.
     *
     * @param list<\FFI\CData> $keep
     */
    private static function cString(\FFI $ffi, string $s, array &$keep): \FFI\CData
    {
        $len = strlen($s);
        $buf = $ffi->new('char[' . ($len + 1) . ']');
        if ($len > 0) {
            \FFI::memcpy($buf, $s, $len);
        }
        $buf[$len] = "\0";
        $keep[] = $buf;
        return $ffi->cast('const char*', \FFI::addr($buf[0]));
    }

    /**
     * A handle on a store written in PHP (see Store, PdoStore).  The store's
     * check() runs first: a PdoStore without its tables throws a
     * StateException that names createSchema(), and one whose orders
     * mapping names a table or columns the database lacks throws an
     * InvalidValueException, here rather than at the first merge.
     */
    public static function fromStore(Store $store): self
    {
        $lib = FFI::lib();
        $store->check();
        $store->attach();
        $p = $lib->new('patron_db*');
        $store->clearFailure();
        $st = $lib->patron_db_open(\FFI::addr($p), \FFI::addr($store->ops()), null);
        if ($st !== FFI::OK) {
            $store->detach();
            FFI::raise($st, '', $store->takeFailure());
        }
        return new self($p, $store);
    }

    public function __destruct()
    {
        $this->close();
    }

    /** Close the handle now (also done when the object goes away). */
    public function close(): void
    {
        if ($this->ptr !== null) {
            FFI::lib()->patron_db_close($this->ptr);
            $this->ptr = null;
            if ($this->store instanceof Store) {
                $this->store->detach();
            }
        }
    }

    /** The store behind this handle (null: a private memory store). */
    public function store(): MemoryStore|Store|null
    {
        return $this->store;
    }

    /** The message of the last failed call ("" if none). */
    public function errmsg(): string
    {
        return (string) FFI::lib()->patron_db_errmsg($this->p());
    }

    /** New customer numbers: $prefix and the counter padded to $width digits ("K", 6: "K000001"). */
    public function setNumberFormat(string $prefix, int $width): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_set_number_format($db, $prefix, $width));
    }

    // ---- customers -----------------------------------------------------------

    /**
     * Save a new customer as active; it is updated in place (id, number,
     * state, revision, timestamps) and returned.
     *
     * @param Customer|array<string,mixed> $c
     */
    public function create(Customer|array $c): Customer
    {
        $c = is_array($c) ? new Customer($c) : $c;
        $this->run(fn($lib, $db) => $lib->patron_db_create($db, $c->cdata()));
        return $c;
    }

    /** Load customer $id (or a fresh copy of a Customer); NotFoundException if there is none. */
    public function load(int|Customer $id): Customer
    {
        $id = self::idOf($id);
        $lib = FFI::lib();
        $out = $lib->new('patron_customer*');
        $this->run(fn($lib, $db) => $lib->patron_db_load($db, \FFI::addr($out), $id));
        return Customer::adopt($out);
    }

    /**
     * The one customer with this key: $kind "number" (a merged-away number
     * gives its survivor), "external" (source "\x1F" id, or the id), "email"
     * (AmbiguousException when several have it) or "login".
     */
    public function find(string $kind, string $key): Customer
    {
        $k = self::KEYS[$kind] ?? throw new InvalidValueException("unknown key kind '$kind'", FFI::E_INVALID);
        $lib = FFI::lib();
        $out = $lib->new('patron_customer*');
        $this->run(fn($lib, $db) => $lib->patron_db_find($db, \FFI::addr($out), $k, $key));
        return Customer::adopt($out);
    }

    public function findByNumber(string $number): Customer
    {
        return $this->find('number', $number);
    }

    public function findByEmail(string $email): Customer
    {
        return $this->find('email', $email);
    }

    public function findByLogin(string $login): Customer
    {
        return $this->find('login', $login);
    }

    public function findByExternal(string $source, string $id): Customer
    {
        return $this->find('external', $source === '' ? $id : $source . "\x1F" . $id);
    }

    /** @return list<int> every id with this key, ascending (merged records not followed) */
    public function lookup(string $kind, string $key): array
    {
        $k = self::KEYS[$kind] ?? throw new InvalidValueException("unknown key kind '$kind'", FFI::E_INVALID);
        $lib = FFI::lib();
        $n = $lib->new('size_t');
        $cap = 16;
        while (true) {
            $ids = $lib->new("int64_t[$cap]");
            $this->run(fn($lib, $db) => $lib->patron_db_lookup($db, $ids, \FFI::addr($n), $cap, $k, $key));
            $total = (int) $n->cdata;
            if ($total <= $cap) {
                $out = [];
                for ($i = 0; $i < $total; $i++) {
                    $out[] = (int) $ids[$i];
                }
                return $out;
            }
            $cap = $total;
        }
    }

    /** Save changes to a loaded customer; ConflictException if someone saved in between. */
    public function update(Customer $c): Customer
    {
        $this->run(fn($lib, $db) => $lib->patron_db_update($db, $c->cdata()));
        return $c;
    }

    /** Delete a customer (its number stays used up); with $revision > 0 only if it is still that revision. */
    public function delete(int|Customer $id, int $revision = 0): void
    {
        if ($id instanceof Customer) {
            $revision = $revision ?: $id->revision();
            $id = $id->id();
        }
        $this->run(fn($lib, $db) => $lib->patron_db_delete($db, $id, $revision));
    }

    /**
     * One page of ids, ascending, > $afterId.
     *
     * @param string|int|null $state "pending", "active", "merged", "erased", or null for any
     * @return list<int>
     */
    public function list(
        string|int|null $state = null,
        ?bool $locked = null,
        ?string $group = null,
        int $afterId = 0,
        int $limit = 1000,
    ): array {
        $lib = FFI::lib();
        $f = $lib->new('patron_filter');
        $f->state = Filter::stateOf($state) ?? 0;
        $f->locked = $locked === null ? Filter::ANY : ($locked ? Filter::LOCKED : Filter::UNLOCKED);
        $groupBuf = null;
        if ($group !== null) {
            $groupBuf = $lib->new('char[' . (strlen($group) + 1) . ']');
            \FFI::memcpy($groupBuf, $group . "\0", strlen($group) + 1);
            $f->group = $lib->cast('const char*', $groupBuf);
        }
        $limit = max(1, $limit);
        $ids = $lib->new("int64_t[$limit]");
        $n = $lib->new('size_t');
        $this->run(fn($lib, $db) => $lib->patron_db_list(
            $db,
            $ids,
            \FFI::addr($n),
            $limit,
            \FFI::addr($f),
            $afterId
        ));
        $out = [];
        for ($i = 0, $m = (int) $n->cdata; $i < $m; $i++) {
            $out[] = (int) $ids[$i];
        }
        return $out;
    }

    /**
     * Every customer that matches, page by page.
     *
     * @return \Generator<int,Customer> id => customer
     */
    public function customers(string|int|null $state = null, ?bool $locked = null, ?string $group = null): \Generator
    {
        $after = 0;
        do {
            $page = $this->list($state, $locked, $group, $after, 500);
            foreach ($page as $id) {
                yield $id => $this->load($id);
                $after = $id;
            }
        } while (count($page) === 500);
    }

    // ---- lifecycle ---------------------------------------------------------

    /**
     * Register a customer from the online shop: pending, without a number.
     * LockedException if the email belongs to a locked customer,
     * ExistsException if a pending customer registered it already.  The
     * email of an active customer is fine (activation offers the merge):
     * $existingId then receives that customer's id, else null.
     *
     * @param Customer|array<string,mixed> $c
     */
    public function register(Customer|array $c, ?int &$existingId = null): Customer
    {
        $c = is_array($c) ? new Customer($c) : $c;
        $existing = FFI::lib()->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_register($db, \FFI::addr($existing), $c->cdata()));
        $existingId = $existing->cdata ?: null;
        return $c;
    }

    /**
     * Activate pending customer $id.  $mode "interactive" (candidates found:
     * nothing changes, outcome "review" with a plan per candidate), "auto"
     * (merge into the best MERGE-level active candidate), "email" (merge
     * when an active customer has the same normalised email).
     */
    public function activate(int|Customer $id, string $mode = 'interactive', bool $lockedSurvivors = false): Activation
    {
        $id = self::idOf($id);
        $m = self::mode(self::ACTIVATE_MODES, $mode, 'activation mode');
        $lib = FFI::lib();
        $out = $lib->new('patron_activation*');
        $this->run(fn($lib, $db) => $lib->patron_db_activate(
            $db,
            \FFI::addr($out),
            $id,
            $m,
            $lockedSurvivors ? 1 : 0
        ));
        return new Activation($out, true);
    }

    /**
     * Activate every pending customer, each in its own transaction.  $each
     * (optional) hears about each one as it is done; returning false stops.
     * A customer that fails is counted and reported, not thrown.
     *
     * @param null|callable(Activation):(bool|null|void) $each
     */
    public function activatePending(
        string $mode = 'interactive',
        bool $lockedSurvivors = false,
        ?callable $each = null,
    ): ActivationSummary {
        $m = self::mode(self::ACTIVATE_MODES, $mode, 'activation mode');
        $lib = FFI::lib();
        $summary = $lib->new('patron_activation_summary');
        $summary->version = self::ACTIVATION_SUMMARY_VERSION;
        $opts = $lib->new('patron_activate_options');
        $opts->version = self::ACTIVATE_OPTIONS_VERSION;
        $opts->mode = $m;
        $opts->flags = $lockedSurvivors ? 1 : 0;
        $results = [];
        $thrown = null;
        $sink = function (\FFI\CData $a) use (&$results, &$thrown, $each): int {
            try {
                $r = new Activation($a, false);
                $results[] = $r;
                if ($each !== null && $each($r) === false) {
                    return 1;
                }
                return 0;
            } catch (\Throwable $e) {
                $thrown = $e;
                return 1;
            }
        };
        $opts->fn = self::activationCallback();
        $outer = self::$activationSink; // a Db used from inside $each
        self::$activationSink = $sink;
        try {
            $this->run(fn($lib, $db) => $lib->patron_db_activate_pending(
                $db,
                \FFI::addr($summary),
                \FFI::addr($opts)
            ));
        } finally {
            self::$activationSink = $outer;
        }
        if ($thrown !== null) {
            throw $thrown;
        }
        return new ActivationSummary(
            (int) $summary->activated,
            (int) $summary->merged,
            (int) $summary->review,
            (int) $summary->failed,
            $results
        );
    }

    /** Manual release: activate pending customer $id regardless of the matcher; returns its new number. */
    public function release(int|Customer $id): string
    {
        $id = self::idOf($id);
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->run(fn($lib, $db) => $lib->patron_db_release($db, \FFI::addr($out), $id));
        return (string) FFI::takeString($out);
    }

    /** Lock customer $id: no login, no orders, no new registration with its email. */
    public function lock(int|Customer $id, string $reason): void
    {
        $id = self::idOf($id);
        $this->run(fn($lib, $db) => $lib->patron_db_lock($db, $id, $reason));
    }

    public function unlock(int|Customer $id): void
    {
        $id = self::idOf($id);
        $this->run(fn($lib, $db) => $lib->patron_db_unlock($db, $id));
    }

    /** May this login (a login user name, or the email of a customer without one) log in? */
    public function canLogin(string $login): Gate
    {
        $lib = FFI::lib();
        $verdict = $lib->new('int');
        $id = $lib->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_can_login($db, \FFI::addr($verdict), \FFI::addr($id), $login));
        return Gate::of((int) $verdict->cdata, (int) $id->cdata);
    }

    /** May customer $id order? */
    public function canOrder(int|Customer $id): Gate
    {
        $id = self::idOf($id);
        $lib = FFI::lib();
        $verdict = $lib->new('int');
        $cid = $lib->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_can_order($db, \FFI::addr($verdict), \FFI::addr($cid), $id));
        return Gate::of((int) $verdict->cdata, (int) $cid->cdata);
    }

    // ---- groups ------------------------------------------------------------

    public function groupAdd(string $name): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_group_add($db, $name));
    }

    public function groupRename(string $old, string $new): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_group_rename($db, $old, $new));
    }

    /** $attr: "discount_percent", "price_category" or "default". */
    public function groupSet(string $name, string $attr, string|int|float|bool $value): void
    {
        $v = (string) Fields::toText($value);
        $this->run(fn($lib, $db) => $lib->patron_db_group_set($db, $name, $attr, $v));
    }

    public function groupAssign(string $name, int|Customer $id): void
    {
        $id = self::idOf($id);
        $this->run(fn($lib, $db) => $lib->patron_db_group_assign($db, $name, $id));
    }

    public function groupDelete(string $name): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_group_delete($db, $name));
    }

    /**
     * @return list<array{name:string,discount_percent:float|int,price_category:?string,default:bool,customers:int}>
     */
    public function groups(): array
    {
        $lib = FFI::lib();
        $out = $lib->new('patron_groups*');
        $this->run(fn($lib, $db) => $lib->patron_db_group_list($db, \FFI::addr($out)));
        try {
            $groups = [];
            for ($i = 0, $n = $lib->patron_groups_count($out); $i < $n; $i++) {
                $g = $lib->patron_groups_at($out, $i);
                $discount = (string) $lib->patron_group_discount_percent($g);
                $groups[] = [
                    'name' => (string) $lib->patron_group_name($g),
                    'discount_percent' => str_contains($discount, '.') ? (float) $discount : (int) $discount,
                    'price_category' => (string) $lib->patron_group_price_category($g),
                    'default' => $lib->patron_group_is_default($g) !== 0,
                    'customers' => (int) $lib->patron_group_customers($g),
                ];
            }
            return $groups;
        } finally {
            $lib->patron_groups_free($out);
        }
    }

    // ---- matching ------------------------------------------------------------

    /**
     * Candidates for $c, best first, each with its explanation: a Customer
     * (new or stored), the id of a stored one, or the fields of a new one.
     * $mode "fields" or "email".
     *
     * @param int|Customer|array<string,mixed> $c
     * @return list<Candidate>
     */
    public function match(int|Customer|array $c, string $mode = 'fields'): array
    {
        $m = self::mode(self::MATCH_MODES, $mode, 'match mode');
        $c = is_int($c) ? $this->load($c) : (is_array($c) ? new Customer($c) : $c);
        $lib = FFI::lib();
        $out = $lib->new('patron_matches*');
        $this->run(fn($lib, $db) => $lib->patron_db_match($db, \FFI::addr($out), $c->cdata(), $m));
        try {
            $id = $lib->new('int64_t');
            $score = $lib->new('double');
            $decision = $lib->new('int');
            $field = $lib->new('const char*');
            $a = $lib->new('const char*');
            $b = $lib->new('const char*');
            $level = $lib->new('const char*');
            $weight = $lib->new('double');
            $nf = $lib->patron_matches_field_count($out);
            $result = [];
            for ($i = 0, $n = $lib->patron_matches_count($out); $i < $n; $i++) {
                $st = $lib->patron_matches_get($out, \FFI::addr($id), \FFI::addr($score), \FFI::addr($decision), $i);
                if ($st !== FFI::OK) {
                    FFI::raise($st, '');
                }
                $explanation = [];
                for ($k = 0; $k < $nf; $k++) {
                    $fd = $lib->new('patron_match_field_detail');
                    $fd->version = 1;
                    $st = $lib->patron_matches_field_detail($out, \FFI::addr($fd), $i, $k);
                    if ($st !== FFI::OK) {
                        FFI::raise($st, '');
                    }
                    $explanation[] = ['field' => \FFI::string($fd->field), 'a' => \FFI::string($fd->value_a),
                        'b' => \FFI::string($fd->value_b), 'level' => \FFI::string($fd->level),
                        'weight' => (float) $fd->weight, 'level_weight' => (float) $fd->level_weight,
                        'frequency' => (bool) $fd->frequency, 'holders' => (int) $fd->holders,
                        'customers' => (int) $fd->customers];
                }
                $det = $lib->new('patron_match_detail');
                $det->version = 1;
                $st = $lib->patron_matches_detail($out, \FFI::addr($det), $i);
                if ($st !== FFI::OK) {
                    FFI::raise($st, '');
                }
                $result[] = new Candidate(
                    (int) $id->cdata,
                    (float) $score->cdata,
                    (string) $lib->patron_decision_name($decision->cdata),
                    $explanation,
                    (float) $det->probability,
                    \FFI::string($det->rule),
                    (float) $det->prior,
                    (float) $det->adjustment
                );
            }
            return $result;
        } finally {
            $lib->patron_matches_free($out);
        }
    }

    // ---- the matcher's configuration (kept in the store) ------------------------

    /** @return array{merge_probability:float,review_probability:float,prior:float,default_country:string} */
    public function matchSettings(): array
    {
        $lib = FFI::lib();
        $s = $lib->new('patron_match_settings');
        $s->version = 1;
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_get($db, \FFI::addr($s)));
        return ['merge_probability' => (float) $s->merge_probability,
            'review_probability' => (float) $s->review_probability, 'prior' => (float) $s->prior,
            'default_country' => \FFI::string($s->default_country, 2)];
    }

    /** Change some of matchSettings() (the rest stay). @param array<string,float|string> $changes */
    public function setMatchSettings(array $changes): void
    {
        $cur = $this->matchSettings();
        foreach ($changes as $k => $v) {
            if (!array_key_exists($k, $cur)) {
                throw new InvalidValueException("unknown match setting '$k'", FFI::E_INVALID);
            }
            $cur[$k] = $v;
        }
        $lib = FFI::lib();
        $s = $lib->new('patron_match_settings');
        $s->version = 1;
        $s->merge_probability = (float) $cur['merge_probability'];
        $s->review_probability = (float) $cur['review_probability'];
        $s->prior = (float) $cur['prior'];
        $country = (string) $cur['default_country'];
        for ($i = 0; $i < 2; $i++) {
            $s->default_country[$i] = $country[$i] ?? "\0";
        }
        $s->default_country[2] = "\0";
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_set($db, \FFI::addr($s)));
    }

    /** @return array{0:float,1:float} m and u of a field's comparison level */
    public function matchProbability(string $field, string $level): array
    {
        $lib = FFI::lib();
        $m = $lib->new('double');
        $u = $lib->new('double');
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_probability(
            $db,
            \FFI::addr($m),
            \FFI::addr($u),
            $field,
            $level
        ));
        return [(float) $m->cdata, (float) $u->cdata];
    }

    public function setMatchProbability(string $field, string $level, float $m, float $u): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_set_probability($db, $field, $level, $m, $u));
    }

    /** Declare the custom property $property an identifier for matching. */
    public function addIdentifier(string $property): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_identifier_add($db, $property));
    }

    public function removeIdentifier(string $property): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_identifier_remove($db, $property));
    }

    /** @return list<string> */
    public function identifiers(): array
    {
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_identifiers($db, \FFI::addr($out)));
        $text = (string) FFI::takeString($out);
        return $text === '' ? [] : explode("\n", $text);
    }

    public function resetMatchConfig(): void
    {
        $this->run(fn($lib, $db) => $lib->patron_db_match_config_reset($db));
    }

    /**
     * Whether the store's index keys were built the way this library builds
     * them (patron_db_index_state): 'state' is "current", "stale" (run
     * reindex() after an upgrade), "newer" or "unknown" (a store without
     * meta); 'generation' the one the store records (0: none), 'current'
     * this library's.
     *
     * @return array{state: string, generation: int, current: int}
     */
    public function indexState(): array
    {
        $lib = FFI::lib();
        $st = $lib->new('int');
        $gen = $lib->new('unsigned');
        $cur = $lib->new('unsigned');
        $this->run(fn($lib, $db) => $lib->patron_db_index_state(
            $db,
            \FFI::addr($st),
            \FFI::addr($gen),
            \FFI::addr($cur)
        ));
        return ['state' => (string) $lib->patron_index_state_name($st->cdata), 'generation' => (int) $gen->cdata,
            'current' => (int) $cur->cdata];
    }

    /**
     * Rebuild every customer's index keys and match form in one transaction
     * and record the generation (patron_db_reindex); values, numbers,
     * revisions and times stay.  Returns how many customers were re-keyed.
     */
    public function reindex(): int
    {
        $lib = FFI::lib();
        $n = $lib->new('size_t');
        $this->run(fn($lib, $db) => $lib->patron_db_reindex($db, \FFI::addr($n)));
        return (int) $n->cdata;
    }

    /**
     * Learn the matcher's model (m and u per field and level, the prior) from
     * the customers in this store and store it there: every process on the
     * store matches with it from then on (patron_db_estimate).  When the
     * estimate is not usable (too few customers, no convergence) nothing is
     * stored and the report says why; that is no error.  $dryRun: estimate
     * and report, store nothing.  $randomPairs (0: 100 000) and
     * $maxIterations (0: 200) bound the work; the same $seed on the same
     * store gives the same model.
     */
    public function estimate(
        int $seed = 1,
        int $randomPairs = 0,
        int $maxIterations = 0,
        bool $dryRun = false
    ): EstimateReport {
        if ($seed < 0 || $randomPairs < 0) {
            throw new InvalidValueException('seed and randomPairs must not be negative', FFI::E_INVALID);
        }
        $lib = FFI::lib();
        $o = $lib->new('patron_estimate_options');
        $o->version = 1;
        $o->seed = $seed;
        $o->random_pairs = $randomPairs;
        $o->max_iterations = $maxIterations;
        $o->flags = $dryRun ? 1 : 0;
        $r = $lib->new('patron_estimate_report');
        $r->version = 1;
        $this->run(fn($lib, $db) => $lib->patron_db_estimate($db, \FFI::addr($r), \FFI::addr($o)));
        $flags = [];
        foreach ([1 => 'not_converged', 2 => 'too_few', 4 => 'degenerate'] as $bit => $name) {
            if ($r->flags & $bit) {
                $flags[] = $name;
            }
        }
        return new EstimateReport(
            (bool) $r->stored,
            (bool) $r->converged,
            $flags,
            (int) $r->customers,
            (int) $r->candidate_pairs,
            (int) $r->random_pairs,
            (int) $r->iterations,
            (float) $r->matches,
            (float) $r->prior,
            (float) $r->seconds,
            \FFI::string($r->message)
        );
    }

    /** Deduplicate the whole store: MERGE, REVIEW and HOUSEHOLD pairs, stable clusters and households. */
    public function dedupe(string $mode = 'fields'): Dedupe
    {
        $m = self::mode(self::MATCH_MODES, $mode, 'match mode');
        $lib = FFI::lib();
        $out = $lib->new('patron_pairs*');
        $this->run(fn($lib, $db) => $lib->patron_db_dedupe($db, \FFI::addr($out), $m));
        return self::takePairs($out);
    }

    /**
     * A batch with this store's matcher configuration and number format, to
     * deduplicate customers that are in no store (see Batch); the store is
     * only read, now.
     */
    public function batch(): Batch
    {
        $lib = FFI::lib();
        $out = $lib->new('patron_batch*');
        $this->run(fn($lib, $db) => $lib->patron_batch_new(\FFI::addr($out), $db));
        return new Batch($out);
    }

    /**
     * A patron_pairs as a Dedupe; the pairs are freed.
     *
     * @internal
     */
    public static function takePairs(\FFI\CData $out): Dedupe
    {
        $lib = FFI::lib();
        try {
            $a = $lib->new('int64_t');
            $b = $lib->new('int64_t');
            $score = $lib->new('double');
            $decision = $lib->new('int');
            $pairs = [];
            $clusters = [];
            $households = [];
            for ($i = 0, $n = $lib->patron_pairs_count($out); $i < $n; $i++) {
                $lib->patron_pairs_get(
                    $out,
                    \FFI::addr($a),
                    \FFI::addr($b),
                    \FFI::addr($score),
                    \FFI::addr($decision),
                    $i
                );
                $pairs[] = new Pair(
                    (int) $a->cdata,
                    (int) $b->cdata,
                    (float) $score->cdata,
                    (string) $lib->patron_decision_name($decision->cdata)
                );
                foreach ([(int) $a->cdata, (int) $b->cdata] as $id) {
                    $cl = (int) $lib->patron_pairs_cluster($out, $id);
                    if ($cl !== 0) {
                        $clusters[$cl][$id] = $id;
                    }
                    $hh = (int) $lib->patron_pairs_household($out, $id);
                    if ($hh !== 0) {
                        $households[$hh][$id] = $id;
                    }
                }
            }
            ksort($clusters);
            foreach ($clusters as &$members) {
                ksort($members);
                $members = array_values($members);
            }
            unset($members);
            ksort($households);
            foreach ($households as &$members) {
                ksort($members);
                $members = array_values($members);
            }
            unset($members);
            return new Dedupe($pairs, $clusters, $households);
        } finally {
            $lib->patron_pairs_free($out);
        }
    }

    // ---- merges --------------------------------------------------------------

    /**
     * A plan to merge $duplicates into $survivor; $policy "survivor" (its
     * values win, empty ones filled) or "newest" (the most recently updated
     * record's value wins).
     *
     * @param int|Customer|list<int|Customer> $duplicates
     */
    public function mergePlan(
        int|Customer $survivor,
        int|Customer|array $duplicates,
        string $policy = 'survivor',
    ): MergePlan {
        $pol = self::mode(self::POLICIES, $policy, 'merge policy');
        $survivor = self::idOf($survivor);
        $dups = self::idsOf(is_array($duplicates) ? $duplicates : [$duplicates], 'duplicates');
        $lib = FFI::lib();
        $ids = $lib->new('int64_t[' . max(1, count($dups)) . ']');
        foreach ($dups as $i => $d) {
            $ids[$i] = $d;
        }
        $out = $lib->new('patron_merge_plan*');
        $this->run(fn($lib, $db) => $lib->patron_merge_plan_new(
            $db,
            \FFI::addr($out),
            $survivor,
            $ids,
            count($dups),
            $pol
        ));
        return new MergePlan($out);
    }

    /**
     * Update the review queue from the matcher, in one transaction: the
     * customers saved since the last scan, or all ($full).
     *
     * @return array{full: bool, customers: int, pairs: int, opened: int, refreshed: int, reopened: int,
     *               closed: int, open: int}
     */
    public function reviewScan(bool $full = false): array
    {
        $lib = FFI::lib();
        $stats = $lib->new('patron_review_scan_stats');
        $stats->version = 1;
        $opts = $lib->new('patron_review_scan_options');
        $opts->version = 1;
        $opts->flags = $full ? 1 : 0;
        $this->run(fn($lib, $db) => $lib->patron_db_review_scan($db, \FFI::addr($stats), \FFI::addr($opts)));
        return ['full' => $stats->full !== 0, 'customers' => (int) $stats->customers, 'pairs' => (int) $stats->pairs,
            'opened' => (int) $stats->opened, 'refreshed' => (int) $stats->refreshed,
            'reopened' => (int) $stats->reopened, 'closed' => (int) $stats->closed, 'open' => (int) $stats->open];
    }

    /**
     * The cases in these states (default: the open ones), best first.
     *
     * @param list<CaseState|string> $states
     * @return list<ReviewCase>
     */
    public function reviewCases(array $states = [CaseState::Open]): array
    {
        $mask = 0;
        foreach ($states as $st) {
            $mask |= 1 << CaseState::of($st)->code();
        }
        $lib = FFI::lib();
        $out = $lib->new('patron_cases*');
        $this->run(fn($lib, $db) => $lib->patron_db_review_list($db, \FFI::addr($out), $mask));
        try {
            $text = $lib->new('char*');
            $lib->patron_cases_to_json($out, \FFI::addr($text), 0);
            $list = json_decode((string) FFI::takeString($text), true, 512, JSON_THROW_ON_ERROR);
            return array_map([ReviewCase::class, 'fromArray'], $list);
        } finally {
            $lib->patron_cases_free($out);
        }
    }

    /**
     * The review page for the cases in these states (default: the open
     * ones): one self-contained HTML document, as `patron review --html`
     * writes it (patron_db_review_html()); the cards show the CLI's
     * commands that decide each case, as text.
     *
     * @param list<CaseState|string> $states
     */
    public function reviewHtml(array $states = [CaseState::Open]): string
    {
        $mask = 0;
        foreach ($states as $st) {
            $mask |= 1 << CaseState::of($st)->code();
        }
        if ($mask === 0) { // as reviewCases([]); the library would take 0 for the open ones
            throw new InvalidValueException('no case state asked for', FFI::E_INVALID);
        }
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->run(fn($lib, $db) => $lib->patron_db_review_html($db, \FFI::addr($out), $mask));
        return (string) FFI::takeString($out);
    }

    /** One case; NotFoundException if there is none. */
    public function reviewCase(int $caseId): ReviewCase
    {
        $lib = FFI::lib();
        $out = $lib->new('patron_case*');
        $this->run(fn($lib, $db) => $lib->patron_db_review_get($db, \FFI::addr($out), $caseId));
        try {
            $text = $lib->new('char*');
            $lib->patron_case_to_json($out, \FFI::addr($text), 0);
            return ReviewCase::fromArray(json_decode((string) FFI::takeString($text), true, 512, JSON_THROW_ON_ERROR));
        } finally {
            $lib->patron_case_free($out);
        }
    }

    /**
     * Decide a case: not_duplicate (also 'distinct'), household, deferred,
     * or open to take a decision back.  $who is required.
     */
    public function reviewDecide(int $caseId, CaseState|string $state, string $who, ?string $note = null): void
    {
        $code = CaseState::of($state)->code();
        $this->run(fn($lib, $db) => $lib->patron_db_review_decide($db, $caseId, $code, $who, $note));
    }

    /** The merge plan of a case's members (changes nothing). */
    public function reviewPlan(int $caseId, string $policy = 'survivor'): MergePlan
    {
        $pol = self::mode(self::POLICIES, $policy, 'merge policy');
        $out = FFI::lib()->new('patron_merge_plan*');
        $this->run(fn($lib, $db) => $lib->patron_db_review_plan($db, \FFI::addr($out), $caseId, $pol));
        return new MergePlan($out);
    }

    /**
     * Merge a case and close it, in one transaction (with $plan, or the
     * case's default plan).  Returns the journal id; undo() of it reopens
     * the case.
     */
    public function reviewMerge(int $caseId, string $who, ?MergePlan $plan = null): int
    {
        $jid = FFI::lib()->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_review_merge(
            $db,
            \FFI::addr($jid),
            $caseId,
            $plan?->cdata(),
            $who
        ));
        return (int) $jid->cdata;
    }

    /**
     * Apply a plan (or build the default one for $survivor and $duplicates
     * and apply it): write the survivor, re-link the duplicates' references,
     * mark them merged, journal it.  Returns the journal id (for undo()).
     *
     * @param int|Customer|list<int|Customer> $duplicates
     */
    public function merge(MergePlan|int|Customer $plan, int|Customer|array $duplicates = []): int
    {
        if (!$plan instanceof MergePlan) {
            $plan = $this->mergePlan($plan, $duplicates);
        }
        $lib = FFI::lib();
        $jid = $lib->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_merge($db, \FFI::addr($jid), $plan->cdata()));
        return (int) $jid->cdata;
    }

    /**
     * Undo merge $journalId: records, numbers and references as before.
     * $force: also when the survivor was edited since (those edits are lost).
     * Returns the journal id of the undo.
     */
    public function undo(int $journalId, bool $force = false): int
    {
        $lib = FFI::lib();
        $uid = $lib->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_undo($db, \FFI::addr($uid), $journalId, $force ? 1 : 0));
        return (int) $uid->cdata;
    }

    /**
     * Journal entries with id > $afterId, oldest first.
     *
     * @return list<array{id:int,time:int,kind:string,customer_id:int,undone_by:int,summary:string}>
     */
    public function journal(int $afterId = 0, int $limit = 100): array
    {
        $lib = FFI::lib();
        $out = $lib->new('patron_journal*');
        $this->run(fn($lib, $db) => $lib->patron_db_journal_list($db, \FFI::addr($out), $afterId, $limit));
        try {
            $entries = [];
            for ($i = 0, $n = $lib->patron_journal_count($out); $i < $n; $i++) {
                $e = $lib->patron_journal_at($out, $i);
                $entries[] = [
                    'id' => (int) $lib->patron_journal_item_id($e),
                    'time' => (int) $lib->patron_journal_item_time($e),
                    'kind' => (string) $lib->patron_journal_item_kind($e),
                    'customer_id' => (int) $lib->patron_journal_item_customer($e),
                    'undone_by' => (int) $lib->patron_journal_item_undone_by($e),
                    'summary' => (string) $lib->patron_journal_item_summary($e),
                ];
            }
            return $entries;
        } finally {
            $lib->patron_journal_free($out);
        }
    }

    /**
     * The records with these ids (without password hashes), decoded.
     *
     * @param list<int|Customer> $ids
     * @return list<array<string,mixed>>
     */
    public function export(array $ids): array
    {
        return json_decode($this->exportJson($ids), true, 512, JSON_THROW_ON_ERROR);
    }

    /** @param list<int|Customer> $ids */
    public function exportJson(array $ids, bool $pretty = false): string
    {
        $lib = FFI::lib();
        $ids = self::idsOf($ids, 'ids');
        $arr = $lib->new('int64_t[' . max(1, count($ids)) . ']');
        foreach ($ids as $i => $id) {
            $arr[$i] = $id;
        }
        $out = $lib->new('char*');
        $this->run(fn($lib, $db) => $lib->patron_db_export_to_json(
            $db,
            \FFI::addr($out),
            $arr,
            count($ids),
            $pretty ? 1 : 0
        ));
        return (string) FFI::takeString($out);
    }

    // ---- personal data requests (GDPR) -----------------------------------------

    /**
     * Everything stored about one person (GDPR Art. 15 and 20), decoded: the
     * customer with consent, aliases, the records merged into it and its
     * journal entries, never a password hash; "schema_version" says which
     * schema (patron/privacy.h).  $person is an id (a merged-away record's
     * gives its survivor), a Customer, or a string: a customer number (a
     * merged-away one leads to the survivor), an email (with '@';
     * AmbiguousException when several customers have it) or an external id.
     *
     * @return array<string,mixed>
     */
    public function exportPerson(int|string|Customer $person): array
    {
        return json_decode($this->exportPersonJson($person), true, 512, JSON_THROW_ON_ERROR);
    }

    /** The same as JSON text. */
    public function exportPersonJson(int|string|Customer $person, bool $pretty = false): string
    {
        $id = $this->personId($person);
        $out = FFI::lib()->new('char*');
        $this->run(fn($lib, $db) => $lib->patron_db_export_person($db, \FFI::addr($out), $id, $pretty ? 1 : 0));
        return (string) FFI::takeString($out);
    }

    /**
     * Erase a person's personal data, in one transaction (GDPR Art. 17): the
     * fields of the customer and of every record merged into it, its email
     * aliases and match keys, the before-images in the journal.  The number,
     * the state "erased", the erasure time and the order links stay.  It
     * cannot be undone.  $reason and $by go into the journal: no personal
     * data in them.  Returns the id of the "erase" journal entry; 0 when the
     * store keeps no journal or the person was erased before (then nothing
     * changes; the store is asked to purge again).  InvalidValueException
     * (no reason or by), NotFoundException, UnsupportedException (a store
     * without journalRewrite()), StoreException (also while another process
     * writes the customer: nothing erased).
     */
    public function erase(int|string|Customer $person, string $reason, string $by): int
    {
        $id = $this->personId($person);
        $jid = FFI::lib()->new('int64_t');
        $this->run(fn($lib, $db) => $lib->patron_db_erase($db, \FFI::addr($jid), $id, $reason, $by));
        return (int) $jid->cdata;
    }

    /** The id of a person given as an id, a Customer, or a number, email or external id. */
    private function personId(int|string|Customer $person): int
    {
        if (!is_string($person)) {
            return self::idOf($person);
        }
        $kinds = str_contains($person, '@') ? ['email', 'number', 'external'] : ['number', 'external'];
        foreach ($kinds as $kind) {
            try {
                return $this->find($kind, $person)->id();
            } catch (NotFoundException) {
                continue;
            }
        }
        throw new NotFoundException("no customer with number, email or external id '$person'", FFI::E_NOT_FOUND);
    }

    // ---- plumbing --------------------------------------------------------------

    /**
     * The C callback of activatePending(), made once: PHP frees FFI
     * callbacks only when the request ends, so one per call would grow.
     */
    private static function activationCallback(): \FFI\CData
    {
        if (self::$activationHolder === null) {
            $holder = FFI::lib()->new('patron_php_callbacks');
            $holder->activation = static function ($payload, $a): int {
                $sink = self::$activationSink;
                return $sink === null ? 1 : $sink($a);
            };
            self::$activationHolder = $holder;
        }
        return self::$activationHolder->activation;
    }

    private function p(): \FFI\CData
    {
        if ($this->ptr === null) {
            throw new StateException('the Db is closed', FFI::E_STATE);
        }
        return $this->ptr;
    }

    /**
     * Run one library call ($call($lib, $db) gives a patron_status) and
     * throw on failure, with the library's message and, for a PHP store,
     * the exception its callback threw.
     */
    private function run(\Closure $call): void
    {
        $db = $this->p();
        $store = $this->store instanceof Store ? $this->store : null;
        $store?->clearFailure();
        $st = $call(FFI::lib(), $db);
        $previous = $store?->takeFailure();
        if ($st !== FFI::OK) {
            FFI::raise($st, (string) FFI::lib()->patron_db_errmsg($db), $previous);
        }
    }

    /** A call that hands out JSON to free with patron_free, decoded. */
    private function json(\Closure $call): array
    {
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->run(fn($lib, $db) => $call($lib, $db, \FFI::addr($out)));
        return json_decode((string) FFI::takeString($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /** @internal The code of match mode $mode ("fields", "email"), for Batch::run(). */
    public static function matchMode(string $mode): int
    {
        return self::mode(self::MATCH_MODES, $mode, 'match mode');
    }

    /** The id of a customer given as an id or a Customer (a Customer never saved has none). */
    private static function idOf(int|Customer $c): int
    {
        if (is_int($c)) {
            return $c;
        }
        $id = $c->id();
        if ($id === 0) {
            throw new InvalidValueException(
                'the customer has no id: it was never saved (Db::create())',
                FFI::E_INVALID
            );
        }
        return $id;
    }

    /**
     * @param array<mixed> $list ids or Customers
     * @return list<int>
     */
    private static function idsOf(array $list, string $what): array
    {
        $out = [];
        foreach (array_values($list) as $i => $c) {
            if (!is_int($c) && !$c instanceof Customer) {
                throw new InvalidValueException("{$what}[$i] must be an int id or a Customer, not "
                    . get_debug_type($c), FFI::E_INVALID);
            }
            $out[] = self::idOf($c);
        }
        return $out;
    }

    private static function cstr(\FFI\CData $p): string
    {
        return \FFI::isNull($p) ? '' : \FFI::string($p);
    }

    /** @param array<string,int> $modes */
    private static function mode(array $modes, string $name, string $what): int
    {
        return $modes[$name] ?? throw new InvalidValueException(
            "unknown $what '$name' (one of: " . implode(', ', array_keys($modes)) . ')',
            FFI::E_INVALID
        );
    }
}
