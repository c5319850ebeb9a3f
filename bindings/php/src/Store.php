<?php

declare(strict_types=1);

namespace Patron;

/**
 * A store written in PHP: extend this class, implement the required methods,
 * and open it with Db::fromStore().  The base class turns the methods into
 * the C callbacks of patron_store_ops (include/patron/store.h), which it
 * keeps referenced for as long as the store object lives; a Db keeps its
 * store alive.
 *
 * The contract is store.h's, in PHP terms:
 *  - every mutation runs between begin() and commit(); after a failure the
 *    library calls rollback(), which must undo everything since begin() —
 *    records, keys, counters, claimed numbers, journal, re-linked references;
 *  - throw NotFoundException / ExistsException to answer "not found" /
 *    "exists" where a callback has those answers (or return null / false as
 *    documented per method);
 *  - any other exception is a store failure: the callback returns
 *    PATRON_E_STORE, the library rolls back, and the Db call throws a
 *    StoreException whose getPrevious() is that exception.  (PHP forbids an
 *    exception to cross an FFI callback, so this class catches every one.)
 *  - methods must not call back into the same Db.
 *
 * Optional callbacks are those a subclass overrides: relink() (with
 * moveRef() for undo, checkRefs()), the journal (journalAppend, journalGet,
 * journalScan, journalSetUndone: needed for merges and undo), erasure
 * (journalRewrite, purge: Db::erase()), and meta (metaGet, metaPut,
 * metaScan: needed for customer groups).
 *
 * FFI callbacks live until the PHP request ends, so make one store per
 * connection rather than one per operation.
 */
abstract class Store
{
    /** Start a transaction. */
    abstract public function begin(): void;

    /** Make everything since begin() durable. */
    abstract public function commit(): void;

    /** Undo everything since begin(). */
    abstract public function rollback(): void;

    /** The bytes Record::pack() gave for record `$id`, or null if there is none. */
    abstract public function load(int $id): ?string;

    /**
     * Store a new record and its keys; return its new id (> 0, never used
     * before, never reused).  Store `$record->pack($id)`.
     *
     * @param list<array{0:int,1:string}> $keys (kind, value) pairs; the same pair may index many ids
     */
    abstract public function insert(Record $record, array $keys): int;

    /**
     * Replace record `$record->id()` and all its keys.
     *
     * @param list<array{0:int,1:string}> $keys
     */
    abstract public function update(Record $record, array $keys): void;

    /** Remove record `$id` and its keys; false if there is no such record. */
    abstract public function remove(int $id): bool;

    /** @return iterable<int> the ids indexed under (kind, value), ascending */
    abstract public function lookup(int $kind, string $value): iterable;

    /** @return iterable<int> ascending ids > $afterId of records that match, at most $limit */
    abstract public function scan(Filter $filter, int $afterId, int $limit): iterable;

    /** Advance the customer-number counter (starting at 1) and return the new value. */
    abstract public function nextNumber(): int;

    /** Mark `$number` used for ever; false if it was claimed before. */
    abstract public function claimNumber(string $number): bool;

    /**
     * Move every reference of the host (orders, ...) from customer $fromId to
     * $toId (optional).
     *
     * @return iterable<array{0:string,1:string}> (kind, ref id) of each reference moved
     */
    public function relink(int $fromId, int $toId): iterable
    {
        throw new UnsupportedException('relink', FFI::E_UNSUPPORTED);
    }

    /** Move one reference, as relink() gave it, to customer $toId (optional; for undo). */
    public function moveRef(string $kind, string $refId, int $toId): void
    {
        throw new UnsupportedException('move_ref', FFI::E_UNSUPPORTED);
    }

    /** @return iterable<string> one reason per reference of $id that cannot move (optional) */
    public function checkRefs(int $id): iterable
    {
        return [];
    }

    /** Append an entry (its id is 0) and return its new id, > 0 and ascending (optional). */
    public function journalAppend(JournalEntry $entry): int
    {
        throw new UnsupportedException('journal_append', FFI::E_UNSUPPORTED);
    }

    /** Entry `$id`, or null if there is none (optional). */
    public function journalGet(int $id): ?JournalEntry
    {
        throw new UnsupportedException('journal_get', FFI::E_UNSUPPORTED);
    }

    /** @return iterable<JournalEntry> up to $limit entries with id > $afterId, ascending (optional) */
    public function journalScan(int $afterId, int $limit): iterable
    {
        throw new UnsupportedException('journal_scan', FFI::E_UNSUPPORTED);
    }

    /** Set undone_by of entry $id (optional). */
    public function journalSetUndone(int $id, int $undoneBy): void
    {
        throw new UnsupportedException('journal_set_undone', FFI::E_UNSUPPORTED);
    }

    /**
     * Replace the payload of journal entry $id with $payload, keeping nothing
     * of the old one (optional; Db::erase() scrubs the before-images of the
     * person this way and refuses an erasure the journal holds without it).
     * Throw NotFoundException if there is no such entry.
     */
    public function journalRewrite(int $id, string $payload): void
    {
        throw new UnsupportedException('journal_rewrite', FFI::E_UNSUPPORTED);
    }

    /**
     * Called right after an erasure committed (optional): make the bytes it
     * removed or overwrote unrecoverable wherever the store still keeps them
     * (a write-ahead log, free pages).  A failure is reported; the erasure
     * stays committed.
     */
    public function purge(): void
    {
        throw new UnsupportedException('purge', FFI::E_UNSUPPORTED);
    }

    /** The value of meta key $key, or null (optional: customer groups). */
    public function metaGet(string $key): ?string
    {
        throw new UnsupportedException('meta_get', FFI::E_UNSUPPORTED);
    }

    /** Set meta key $key; null removes it (optional). */
    public function metaPut(string $key, ?string $value): void
    {
        throw new UnsupportedException('meta_put', FFI::E_UNSUPPORTED);
    }

    /** @return iterable<string,string> every key starting with $prefix, ascending byte order (optional) */
    public function metaScan(string $prefix): iterable
    {
        throw new UnsupportedException('meta_scan', FFI::E_UNSUPPORTED);
    }

    /**
     * Called by Db::fromStore() before the handle opens: throw (with a
     * message that says what to do) when the store cannot work as
     * configured — its tables are missing, a mapping names a table that is
     * not there.  The default checks nothing.
     */
    public function check(): void
    {
    }

    // ---- the C side --------------------------------------------------------

    private const ERRBUF = 1024;

    private ?\FFI\CData $ops = null;
    /** @var array<string,\Closure> the callbacks, referenced while C may call them (they hold the store weakly) */
    private array $callbacks = [];
    private ?\FFI\CData $errbuf = null;
    private ?\Throwable $failure = null;
    private bool $attached = false;

    /**
     * The patron_store_ops for patron_db_open(), built once.
     *
     * @internal
     */
    final public function ops(): \FFI\CData
    {
        if ($this->ops === null) {
            $this->build();
        }
        return $this->ops;
    }

    /** @internal A Db opens on this store (one Db per store: callbacks must not nest). */
    final public function attach(): void
    {
        if ($this->attached) {
            throw new StateException(
                'this store is already open in another Db; make one store object per Db',
                FFI::E_STATE
            );
        }
        $this->attached = true;
    }

    /** @internal */
    final public function detach(): void
    {
        $this->attached = false;
    }

    /** @internal A Db call starts: forget the failure of an earlier one. */
    final public function clearFailure(): void
    {
        $this->failure = null;
    }

    /** @internal The first exception a callback threw since clearFailure(). */
    final public function takeFailure(): ?\Throwable
    {
        $f = $this->failure;
        $this->failure = null;
        return $f;
    }

    public function __destruct()
    {
        if ($this->errbuf !== null) {
            \FFI::free($this->errbuf);
            $this->errbuf = null;
        }
    }

    private function overrides(string $method): bool
    {
        return (new \ReflectionMethod($this, $method))->getDeclaringClass()->getName() !== self::class;
    }

    /** Run a callback body: exceptions become status codes, never cross into C. */
    private function guard(string $name, \Closure $body): int
    {
        try {
            $r = $body();
            return is_int($r) ? $r : 0;
        } catch (NotFoundException $e) {
            return FFI::E_NOT_FOUND;
        } catch (ExistsException $e) {
            return FFI::E_EXISTS;
        } catch (\Throwable $e) {
            $this->fail($name, $e);
            return FFI::E_STORE;
        }
    }

    private function fail(string $name, \Throwable $e): void
    {
        $this->failure ??= $e;
        $first = $this->failure;
        $msg = $first === $e
            ? sprintf('%s: %s: %s', $name, get_class($e), $e->getMessage())
            : null;
        if ($msg !== null && $this->errbuf !== null) {
            $msg = substr(str_replace("\0", ' ', $msg), 0, self::ERRBUF - 1);
            \FFI::memcpy($this->errbuf, $msg . "\0", strlen($msg) + 1);
        }
    }

    /** Call emit for each id; stop when it says so. */
    private static function emitIds(\FFI\CData $emit, ?\FFI\CData $ctx, iterable $ids): int
    {
        foreach ($ids as $id) {
            if ($emit($ctx, (int) $id) !== 0) {
                break;
            }
        }
        return 0;
    }

    private static function emitJournal(\FFI\CData $emit, ?\FFI\CData $ctx, JournalEntry $e): int
    {
        $lib = FFI::lib();
        $entry = $lib->new('patron_journal_entry');
        $kind = self::cString($e->kind);
        $payload = self::cString($e->payload);
        $entry->id = $e->id;
        $entry->time = $e->time;
        $entry->kind = $lib->cast('const char*', $kind);
        $entry->customer_id = $e->customerId;
        $entry->undone_by = $e->undoneBy;
        $entry->payload = $lib->cast('const char*', $payload);
        return $emit($ctx, \FFI::addr($entry));
    }

    private static function cString(string $s): \FFI\CData
    {
        $buf = FFI::lib()->new('char[' . (strlen($s) + 1) . ']');
        \FFI::memcpy($buf, $s . "\0", strlen($s) + 1);
        return $buf;
    }

    /** @return list<array{0:int,1:string}> */
    private static function keys(?\FFI\CData $keys, int $n): array
    {
        $out = [];
        for ($i = 0; $i < $n; $i++) {
            $out[] = [(int) $keys[$i]->kind, (string) $keys[$i]->value];
        }
        return $out;
    }

    private static function str(mixed $v): string
    {
        if ($v instanceof \FFI\CData) {
            return \FFI::isNull($v) ? '' : \FFI::string($v);
        }
        return (string) $v;
    }

    /** A size_t as a PHP int: SIZE_MAX and the like (read as negative) mean "no limit". */
    private static function size(mixed $n): int
    {
        $n = (int) $n;
        return $n < 0 ? PHP_INT_MAX : $n;
    }

    private static function strOrNull(mixed $v): ?string
    {
        if ($v === null || ($v instanceof \FFI\CData && \FFI::isNull($v))) {
            return null;
        }
        return self::str($v);
    }

    private function withRecord(\FFI\CData $c, \Closure $fn): mixed
    {
        $r = new Record($c);
        try {
            return $fn($r);
        } finally {
            $r->release();
        }
    }

    /** The callbacks a store has: the required ones and the optional ones it overrides. */
    private function callbackNames(): array
    {
        $names = ['begin', 'commit', 'rollback', 'load', 'insert', 'update', 'remove', 'lookup', 'scan',
            'next_number', 'claim_number'];
        if ($this->overrides('relink')) {
            $names[] = 'relink';
        }
        if ($this->overrides('moveRef')) {
            $names[] = 'move_ref';
        }
        if ($this->overrides('checkRefs')) {
            $names[] = 'check_refs';
        }
        if ($this->overrides('journalAppend')) {
            array_push($names, 'journal_append', 'journal_get', 'journal_scan', 'journal_set_undone');
        }
        if ($this->overrides('journalRewrite')) {
            $names[] = 'journal_rewrite';
        }
        if ($this->overrides('purge')) {
            $names[] = 'purge';
        }
        if ($this->overrides('metaGet')) {
            array_push($names, 'meta_get', 'meta_put', 'meta_scan');
        }
        return $names;
    }

    private function build(): void
    {
        $lib = FFI::lib();
        $ops = $lib->new('patron_store_ops');
        // Not owned by PHP: FFI returns only an unowned pointer from a
        // callback.  Freed in __destruct, after the Db (which holds this
        // store) has closed.
        $this->errbuf = $lib->new('char[' . self::ERRBUF . ']', false);
        \FFI::memset($this->errbuf, 0, self::ERRBUF);
        $errbuf = \FFI::addr($this->errbuf[0]);

        // PHP keeps FFI callbacks (and what they hold) until the request
        // ends.  So the callbacks hold this store only weakly: the store,
        // and the connection of a PdoStore, go away with the last Db on it.
        $weak = \WeakReference::create($this);
        $cb = [];
        foreach ($this->callbackNames() as $name) {
            $cb[$name] = static function (...$args) use ($weak, $name): int {
                $store = $weak->get();
                return $store === null ? FFI::E_STORE
                    : $store->guard($name, static fn() => $store->dispatch($name, $args));
            };
        }
        $cb['errmsg'] = static fn($ctx) => $errbuf;

        $ops->version = FFI::STORE_VERSION;
        foreach ($cb as $name => $fn) {
            $ops->{$name} = $fn;
        }
        $this->callbacks = $cb;
        $this->ops = $ops;
    }

    /**
     * One callback's work, from C's arguments (ctx first) to a status or
     * null for success.
     *
     * @param array<int,mixed> $a
     */
    private function dispatch(string $name, array $a): ?int
    {
        $lib = FFI::lib();
        switch ($name) {
            case 'begin':
                $this->begin();
                return null;
            case 'commit':
                $this->commit();
                return null;
            case 'rollback':
                $this->rollback();
                return null;
            case 'load':
                [, $id, $out] = $a;
                $bytes = $this->load((int) $id);
                if ($bytes === null) {
                    return FFI::E_NOT_FOUND;
                }
                $st = $lib->patron_record_unpack($out, $bytes, strlen($bytes));
                if ($st !== FFI::OK) {
                    throw new StoreException("record $id: the stored bytes are not a packed record", $st);
                }
                return null;
            case 'insert':
                [, $c, $keys, $n, $idOut] = $a;
                $id = $this->withRecord($c, fn(Record $r) => $this->insert($r, self::keys($keys, (int) $n)));
                if (!is_int($id) || $id <= 0) {
                    throw new StoreException('insert() must return the new id (> 0)', FFI::E_STORE);
                }
                $idOut[0] = $id;
                return null;
            case 'update':
                [, $c, $keys, $n] = $a;
                $this->withRecord($c, fn(Record $r) => $this->update($r, self::keys($keys, (int) $n)));
                return null;
            case 'remove':
                return $this->remove((int) $a[1]) ? null : FFI::E_NOT_FOUND;
            case 'lookup':
                [, $kind, $value, $emit, $ectx] = $a;
                return self::emitIds($emit, $ectx, $this->lookup((int) $kind, self::str($value)));
            case 'scan':
                [, $filter, $after, $limit, $emit, $ectx] = $a;
                $group = $filter->group;
                $f = new Filter(
                    $filter->state === 0 ? null : (int) $filter->state,
                    $filter->locked < 0 ? null : $filter->locked === 1,
                    $group === null ? null : self::str($group),
                );
                return self::emitIds($emit, $ectx, $this->scan($f, (int) $after, self::size($limit)));
            case 'next_number':
                $n = $this->nextNumber();
                if ($n <= 0) {
                    throw new StoreException('nextNumber() must return a counter value > 0', FFI::E_STORE);
                }
                $a[1][0] = $n;
                return null;
            case 'claim_number':
                return $this->claimNumber(self::str($a[1])) ? null : FFI::E_EXISTS;
            case 'relink':
                [, $from, $to, $emit, $ectx] = $a;
                foreach ($this->relink((int) $from, (int) $to) as [$kind, $ref]) {
                    if ($emit($ectx, (string) $kind, (string) $ref) !== 0) {
                        throw new StoreException('relink: the library stopped the re-link', FFI::E_STORE);
                    }
                }
                return null;
            case 'move_ref':
                [, $kind, $ref, $to] = $a;
                $this->moveRef(self::str($kind), self::str($ref), (int) $to);
                return null;
            case 'check_refs':
                [, $id, $emit, $ectx] = $a;
                foreach ($this->checkRefs((int) $id) as $reason) {
                    if ($emit($ectx, (string) $reason) !== 0) {
                        break;
                    }
                }
                return null;
            case 'journal_append':
                [, $e, $idOut] = $a;
                $id = $this->journalAppend(new JournalEntry(
                    0,
                    (int) $e->time,
                    self::str($e->kind),
                    (int) $e->customer_id,
                    (int) $e->undone_by,
                    self::str($e->payload)
                ));
                if ($id <= 0) {
                    throw new StoreException('journalAppend() must return the new id (> 0)', FFI::E_STORE);
                }
                $idOut[0] = $id;
                return null;
            case 'journal_get':
                [, $id, $emit, $ectx] = $a;
                $e = $this->journalGet((int) $id);
                if ($e === null) {
                    return FFI::E_NOT_FOUND;
                }
                self::emitJournal($emit, $ectx, $e);
                return null;
            case 'journal_scan':
                [, $after, $limit, $emit, $ectx] = $a;
                foreach ($this->journalScan((int) $after, self::size($limit)) as $e) {
                    if (self::emitJournal($emit, $ectx, $e) !== 0) {
                        break;
                    }
                }
                return null;
            case 'journal_set_undone':
                $this->journalSetUndone((int) $a[1], (int) $a[2]);
                return null;
            case 'journal_rewrite':
                $this->journalRewrite((int) $a[1], self::str($a[2]));
                return null;
            case 'purge':
                $this->purge();
                return null;
            case 'meta_get':
                [, $key, $emit, $ectx] = $a;
                $k = self::str($key);
                $v = $this->metaGet($k);
                if ($v === null) {
                    return FFI::E_NOT_FOUND;
                }
                $emit($ectx, $k, $v);
                return null;
            case 'meta_put':
                $this->metaPut(self::str($a[1]), self::strOrNull($a[2]));
                return null;
            case 'meta_scan':
                [, $prefix, $emit, $ectx] = $a;
                foreach ($this->metaScan(self::str($prefix)) as $k => $v) {
                    if ($emit($ectx, (string) $k, (string) $v) !== 0) {
                        break;
                    }
                }
                return null;
        }
        throw new StoreException("unknown callback $name", FFI::E_STORE);
    }
}
