<?php

declare(strict_types=1);

namespace Patron;

/**
 * A store in the host's own database, through PDO: the customers live in
 * tables next to the shop's, and a merge re-links the shop's orders in the
 * same transaction as the customers.
 *
 *     $pdo = new PDO('sqlite:/var/lib/shop/shop.db');          // or mysql:, pgsql:
 *     $store = new PdoStore($pdo, ['orders' => ['table' => 'orders', 'id' => 'id',
 *                                               'customer' => 'customer_id']]);
 *     $store->createSchema();                                  // once; does nothing if it exists
 *     $db = Db::fromStore($store);
 *
 * Tables (names start with the prefix, "patron_" by default):
 *  - customers: id, the packed record (patron_record_pack: every field, so
 *    nothing the library adds later is lost) and copies of the columns a
 *    shop queries or the store filters on: number, email, last_name, state,
 *    is_locked, customer_group, revision;
 *  - keys: (kind, SHA-1 of the value, customer id): the index the library
 *    asks on every lookup;
 *  - used_numbers, counters (customer ids, customer numbers, journal ids,
 *    the schema version), journal, meta (customer groups).
 * The host's orders table is the host's: the store only moves its customer
 * column on merge and undo.  Options:
 *  - 'prefix'  => table name prefix (default "patron_");
 *  - 'orders'  => ['table' => 'orders', 'id' => 'id', 'customer' => 'customer_id',
 *                  'kind' => 'order', 'pinned' => null], or null when the host
 *                 keeps no orders in this database; 'pinned' names a column
 *                 whose non-zero value keeps an order from moving (a merge of
 *                 its customer is then refused).
 *
 * Transactions: begin() starts a PDO transaction; when the host already has
 * one open on the connection, the library's transaction becomes a savepoint
 * inside it, so the host can put several calls and its own writes into one
 * transaction of its own.
 *
 * The SQL is portable (SQLite, MySQL/MariaDB, PostgreSQL): only the column
 * types of the packed record and of the meta key (byte order) differ by
 * driver.  The connection is switched to PDO::ERRMODE_EXCEPTION.
 *
 * Erasure (Db::erase(), GDPR Art. 17): the store rewrites the journal
 * entries' before-images (journalRewrite) and the records in place.  On
 * SQLite the connection is switched to PRAGMA secure_delete = ON, so the
 * bytes an erasure overwrites or deletes are zeroed in the file, and
 * purge() — called right after the erasure commits — checkpoints and
 * truncates the write-ahead log in WAL mode, so no old page is left in
 * "-wal".  Inside the host's own transaction purge() can do nothing yet:
 * call $store->purge() after the host's commit.  PostgreSQL keeps old row
 * versions until VACUUM and MySQL/InnoDB until purge and page reuse: run
 * VACUUM (FULL) / OPTIMIZE TABLE on the store's tables after erasures if
 * the erased values must leave the data files at once.
 */
class PdoStore extends Store
{
    public const SCHEMA_VERSION = 1;

    private string $p;
    private string $driver;
    /** @var array{table:string,id:string,customer:string,kind:string,pinned:?string}|null */
    private ?array $orders;
    /** @var array<string,\PDOStatement> */
    private array $stmts = [];
    /** 'tx': our own PDO transaction; 'savepoint': inside the host's; null: none. */
    private ?string $tx = null;

    /**
     * @param array{prefix?:string,orders?:array<string,?string>|null} $options
     */
    public function __construct(private readonly \PDO $pdo, array $options = [])
    {
        $this->p = self::ident($options['prefix'] ?? 'patron_', true);
        $this->driver = (string) $pdo->getAttribute(\PDO::ATTR_DRIVER_NAME);
        $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
        if ($this->driver === 'sqlite') {
            // an erasure must not leave the erased values in free space of the file
            $pdo->exec('PRAGMA secure_delete = ON');
        }
        $o = array_key_exists('orders', $options) ? $options['orders']
            : ['table' => 'orders', 'id' => 'id', 'customer' => 'customer_id'];
        if ($o === null) {
            $this->orders = null;
        } else {
            $this->orders = [
                'table' => self::ident($o['table'] ?? 'orders'),
                'id' => self::ident($o['id'] ?? 'id'),
                'customer' => self::ident($o['customer'] ?? 'customer_id'),
                'kind' => (string) ($o['kind'] ?? 'order'),
                'pinned' => isset($o['pinned']) ? self::ident($o['pinned']) : null,
            ];
        }
    }

    /** The PDO connection. */
    public function pdo(): \PDO
    {
        return $this->pdo;
    }

    /** The name of one of the store's tables ("customers", "keys", ...) with the prefix. */
    public function table(string $name): string
    {
        return $this->p . $name;
    }

    /**
     * Create the store's tables if they are not there (idempotent).  Run it
     * outside a transaction: MySQL commits DDL implicitly.
     */
    public function createSchema(): void
    {
        if ($this->schemaVersion() !== null) {
            return;
        }
        [$blob, $metaKey, $text] = match ($this->driver) {
            'mysql' => ['LONGBLOB', 'VARBINARY(255)', 'LONGTEXT'],
            'pgsql' => ['BYTEA', 'VARCHAR(255) COLLATE "C"', 'TEXT'],
            default => ['BLOB', 'VARCHAR(255)', 'TEXT'],
        };
        $p = $this->p;
        $ddl = [
            "CREATE TABLE {$p}customers (
                id BIGINT NOT NULL PRIMARY KEY,
                number VARCHAR(255) NULL,
                email VARCHAR(255) NULL,
                last_name VARCHAR(255) NULL,
                state SMALLINT NOT NULL,
                is_locked SMALLINT NOT NULL,
                customer_group VARCHAR(255) NULL,
                revision BIGINT NOT NULL,
                packed $blob NOT NULL)",
            "CREATE INDEX {$p}customers_number ON {$p}customers (number)",
            "CREATE TABLE {$p}keys (
                kind INTEGER NOT NULL,
                key_hash CHAR(40) NOT NULL,
                customer_id BIGINT NOT NULL,
                PRIMARY KEY (kind, key_hash, customer_id))",
            "CREATE INDEX {$p}keys_customer ON {$p}keys (customer_id)",
            "CREATE TABLE {$p}used_numbers (number VARCHAR(255) NOT NULL PRIMARY KEY)",
            "CREATE TABLE {$p}counters (name VARCHAR(64) NOT NULL PRIMARY KEY, counter_value BIGINT NOT NULL)",
            "CREATE TABLE {$p}journal (
                id BIGINT NOT NULL PRIMARY KEY,
                entry_time BIGINT NOT NULL,
                kind VARCHAR(64) NOT NULL,
                customer_id BIGINT NOT NULL,
                undone_by BIGINT NOT NULL,
                payload $text NOT NULL)",
            "CREATE INDEX {$p}journal_customer ON {$p}journal (customer_id)",
            "CREATE TABLE {$p}meta (meta_key $metaKey NOT NULL PRIMARY KEY, meta_value $text NOT NULL)",
        ];
        foreach ($ddl as $sql) {
            $this->pdo->exec($sql);
        }
        $ins = $this->pdo->prepare("INSERT INTO {$p}counters (name, counter_value) VALUES (?, ?)");
        foreach (
            ['customer_id' => 0, 'customer_number' => 0, 'journal_id' => 0,
                     'schema_version' => self::SCHEMA_VERSION] as $name => $v
        ) {
            $ins->execute([$name, $v]);
        }
    }

    /** The schema version in the database, or null when the tables are not there. */
    public function schemaVersion(): ?int
    {
        $v = null;
        $this->probe("SELECT counter_value FROM {$this->p}counters WHERE name = 'schema_version'", $v);
        return $v === false || $v === null ? null : (int) $v;
    }

    /**
     * Db::fromStore() calls this first: the store's tables must be there
     * (StateException naming createSchema() otherwise), at a schema version
     * this class knows, and the orders mapping must name a table and columns
     * the database has (InvalidValueException otherwise; pass
     * 'orders' => null when the host keeps no orders in this database).
     */
    public function check(): void
    {
        $v = $this->schemaVersion();
        if ($v === null) {
            throw new StateException("PdoStore: the store's tables ({$this->p}customers, {$this->p}keys, ...) are "
                . 'not in this database: call $store->createSchema() once (outside a transaction; it does nothing '
                . 'when they exist) before Db::fromStore($store)', FFI::E_STATE);
        }
        if ($v > self::SCHEMA_VERSION) {
            throw new StateException(
                "PdoStore: the tables with prefix '{$this->p}' are at schema version $v; "
                . 'this binding knows version ' . self::SCHEMA_VERSION . ' and older (update the binding)',
                FFI::E_STATE
            );
        }
        if ($this->orders !== null) {
            ['table' => $t, 'id' => $idc, 'customer' => $cc, 'pinned' => $pc] = $this->orders;
            $cols = $pc === null ? "$idc, $cc" : "$idc, $cc, $pc";
            $v = null;
            $error = $this->probe("SELECT $cols FROM $t WHERE 1 = 0", $v);
            if ($error !== null) {
                throw new InvalidValueException("PdoStore: the orders mapping names table '$t' with columns "
                    . "$cols, which this database does not have ($error); pass the shop's orders table as "
                    . "new PdoStore(\$pdo, ['orders' => ['table' => ..., 'id' => ..., 'customer' => ...]]), "
                    . "or 'orders' => null when this database holds no orders", FFI::E_INVALID);
            }
        }
    }

    /**
     * Run one query whose failure is an answer (a missing table), not an
     * error: $value receives its first column of the first row (false: no
     * row); returns null, or the database's message when it failed.  Inside
     * the host's transaction the probe is a savepoint: a failed statement
     * aborts a PostgreSQL transaction.
     */
    private function probe(string $sql, mixed &$value): ?string
    {
        $inTx = $this->pdo->inTransaction();
        try {
            if ($inTx) {
                $this->pdo->exec('SAVEPOINT patron_probe');
            }
            $st = $this->pdo->query($sql);
            $value = $st->fetchColumn();
            $st->closeCursor();
            if ($inTx) {
                $this->pdo->exec('RELEASE SAVEPOINT patron_probe');
            }
            return null;
        } catch (\PDOException $e) {
            if ($inTx) {
                $this->pdo->exec('ROLLBACK TO SAVEPOINT patron_probe');
                $this->pdo->exec('RELEASE SAVEPOINT patron_probe');
            }
            return $e->getMessage();
        }
    }

    // ---- transactions ------------------------------------------------------

    public function begin(): void
    {
        if ($this->tx !== null) {
            throw new StateException('PdoStore: a transaction is already open', FFI::E_STATE);
        }
        if ($this->pdo->inTransaction()) {
            $this->pdo->exec('SAVEPOINT patron_tx');
            $this->tx = 'savepoint';
        } else {
            $this->pdo->beginTransaction();
            $this->tx = 'tx';
        }
    }

    public function commit(): void
    {
        $tx = $this->tx;
        $this->tx = null;
        if ($tx === 'savepoint') {
            $this->pdo->exec('RELEASE SAVEPOINT patron_tx');
        } elseif ($tx === 'tx') {
            $this->pdo->commit();
        }
    }

    public function rollback(): void
    {
        $tx = $this->tx;
        $this->tx = null;
        if ($tx === 'savepoint') {
            $this->pdo->exec('ROLLBACK TO SAVEPOINT patron_tx');
            $this->pdo->exec('RELEASE SAVEPOINT patron_tx');
        } elseif ($tx === 'tx' && $this->pdo->inTransaction()) {
            $this->pdo->rollBack();
        }
    }

    // ---- records and keys --------------------------------------------------

    public function load(int $id): ?string
    {
        $st = $this->stmt("SELECT packed FROM {$this->p}customers WHERE id = ?");
        $st->execute([$id]);
        $v = $st->fetchColumn();
        $st->closeCursor();
        if ($v === false || $v === null) {
            return null;
        }
        return is_resource($v) ? (string) stream_get_contents($v) : (string) $v;
    }

    public function insert(Record $record, array $keys): int
    {
        $id = $this->bump('customer_id');
        $st = $this->stmt("INSERT INTO {$this->p}customers
            (id, number, email, last_name, state, is_locked, customer_group, revision, packed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        $this->bindRecord($st, $record, $record->pack($id), $id);
        $st->execute();
        $this->putKeys($id, $keys);
        return $id;
    }

    public function update(Record $record, array $keys): void
    {
        $id = $record->id();
        $st = $this->stmt("UPDATE {$this->p}customers SET number = ?, email = ?, last_name = ?, state = ?,
            is_locked = ?, customer_group = ?, revision = ?, packed = ? WHERE id = ?");
        $this->bindRecord($st, $record, $record->pack(), null);
        $st->bindValue(9, $id, \PDO::PARAM_INT);
        $st->execute();
        if ($st->rowCount() === 0 && !$this->exists($id)) {
            throw new NotFoundException("no customer $id", FFI::E_NOT_FOUND);
        }
        $this->stmt("DELETE FROM {$this->p}keys WHERE customer_id = ?")->execute([$id]);
        $this->putKeys($id, $keys);
    }

    public function remove(int $id): bool
    {
        $this->stmt("DELETE FROM {$this->p}keys WHERE customer_id = ?")->execute([$id]);
        $st = $this->stmt("DELETE FROM {$this->p}customers WHERE id = ?");
        $st->execute([$id]);
        return $st->rowCount() > 0;
    }

    public function lookup(int $kind, string $value): iterable
    {
        $st = $this->stmt("SELECT customer_id FROM {$this->p}keys WHERE kind = ? AND key_hash = ?
            ORDER BY customer_id");
        $st->execute([$kind, sha1($value)]);
        $ids = $st->fetchAll(\PDO::FETCH_COLUMN);
        return array_map('intval', $ids);
    }

    public function scan(Filter $filter, int $afterId, int $limit): iterable
    {
        $where = 'id > ?';
        $args = [];
        if ($filter->state !== null) {
            $where .= ' AND state = ?';
            $args[] = $filter->state;
        }
        if ($filter->locked !== null) {
            $where .= ' AND is_locked = ?';
            $args[] = (int) $filter->locked;
        }
        if ($filter->group !== null) {
            $where .= ' AND customer_group = ?';
            $args[] = $filter->group;
        }
        // Pages of ids, so that a scan of the whole store holds one page at a time.
        $page = 1000;
        $st = $this->stmt("SELECT id FROM {$this->p}customers WHERE $where ORDER BY id LIMIT $page");
        $sent = 0;
        while ($sent < $limit) {
            $st->execute([$afterId, ...$args]);
            $ids = $st->fetchAll(\PDO::FETCH_COLUMN);
            foreach ($ids as $id) {
                if ($sent++ >= $limit) {
                    return;
                }
                $afterId = (int) $id;
                yield $afterId;
            }
            if (count($ids) < $page) {
                return;
            }
        }
    }

    public function nextNumber(): int
    {
        return $this->bump('customer_number');
    }

    public function claimNumber(string $number): bool
    {
        $st = $this->stmt("SELECT 1 FROM {$this->p}used_numbers WHERE number = ?");
        $st->execute([$number]);
        $taken = $st->fetchColumn() !== false;
        $st->closeCursor();
        if ($taken) {
            return false;
        }
        $this->stmt("INSERT INTO {$this->p}used_numbers (number) VALUES (?)")->execute([$number]);
        return true;
    }

    // ---- the host's orders -------------------------------------------------

    public function relink(int $fromId, int $toId): iterable
    {
        if ($this->orders === null) {
            return;
        }
        ['table' => $t, 'id' => $idc, 'customer' => $cc, 'kind' => $kind] = $this->orders;
        $st = $this->stmt("SELECT $idc FROM $t WHERE $cc = ? ORDER BY $idc");
        $st->execute([$fromId]);
        $refs = $st->fetchAll(\PDO::FETCH_COLUMN);
        $this->stmt("UPDATE $t SET $cc = ? WHERE $cc = ?")->execute([$toId, $fromId]);
        foreach ($refs as $ref) {
            yield [$kind, (string) $ref];
        }
    }

    public function moveRef(string $kind, string $refId, int $toId): void
    {
        if ($this->orders === null || $kind !== $this->orders['kind']) {
            throw new StoreException("PdoStore: unknown reference kind '$kind'", FFI::E_STORE);
        }
        ['table' => $t, 'id' => $idc, 'customer' => $cc] = $this->orders;
        $st = $this->stmt("UPDATE $t SET $cc = ? WHERE $idc = ?");
        $st->execute([$toId, $refId]);
    }

    public function checkRefs(int $id): iterable
    {
        if ($this->orders === null || $this->orders['pinned'] === null) {
            return [];
        }
        ['table' => $t, 'id' => $idc, 'customer' => $cc, 'kind' => $kind, 'pinned' => $pc] = $this->orders;
        $st = $this->stmt("SELECT $idc FROM $t WHERE $cc = ? AND $pc <> 0 ORDER BY $idc");
        $st->execute([$id]);
        $out = [];
        foreach ($st->fetchAll(\PDO::FETCH_COLUMN) as $ref) {
            $out[] = "$kind $ref cannot move to another customer";
        }
        return $out;
    }

    // ---- journal -------------------------------------------------------------

    public function journalAppend(JournalEntry $entry): int
    {
        $id = $this->bump('journal_id');
        $this->stmt("INSERT INTO {$this->p}journal (id, entry_time, kind, customer_id, undone_by, payload)
            VALUES (?, ?, ?, ?, ?, ?)")
            ->execute([$id, $entry->time, $entry->kind, $entry->customerId, $entry->undoneBy, $entry->payload]);
        return $id;
    }

    public function journalGet(int $id): ?JournalEntry
    {
        $st = $this->stmt("SELECT id, entry_time, kind, customer_id, undone_by, payload
            FROM {$this->p}journal WHERE id = ?");
        $st->execute([$id]);
        $row = $st->fetch(\PDO::FETCH_NUM);
        $st->closeCursor();
        return $row === false ? null : self::entry($row);
    }

    public function journalScan(int $afterId, int $limit): iterable
    {
        $limit = min($limit, 1000000);
        $st = $this->stmt("SELECT id, entry_time, kind, customer_id, undone_by, payload
            FROM {$this->p}journal WHERE id > ? ORDER BY id LIMIT $limit");
        $st->execute([$afterId]);
        return array_map([self::class, 'entry'], $st->fetchAll(\PDO::FETCH_NUM));
    }

    public function journalSetUndone(int $id, int $undoneBy): void
    {
        $this->stmt("UPDATE {$this->p}journal SET undone_by = ? WHERE id = ?")->execute([$undoneBy, $id]);
    }

    public function journalRewrite(int $id, string $payload): void
    {
        if (!$this->journalExists($id)) {
            throw new NotFoundException("no journal entry $id", FFI::E_NOT_FOUND);
        }
        $this->stmt("UPDATE {$this->p}journal SET payload = ? WHERE id = ?")->execute([$payload, $id]);
    }

    /**
     * After an erasure: on SQLite in WAL mode, copy the log into the file and
     * truncate it (the log would keep the pages as they were before).  Inside
     * the host's transaction it does nothing: call it after the host commits.
     */
    public function purge(): void
    {
        if ($this->driver !== 'sqlite' || $this->pdo->inTransaction()) {
            return;
        }
        $mode = strtolower((string) $this->pdo->query('PRAGMA journal_mode')->fetchColumn());
        if ($mode !== 'wal') {
            return;
        }
        $row = $this->pdo->query('PRAGMA wal_checkpoint(TRUNCATE)')->fetch(\PDO::FETCH_NUM);
        if ($row !== false && (int) $row[0] !== 0) {
            throw new StoreException('PdoStore: the write-ahead log could not be truncated (another connection '
                . 'is reading): the erased values stay in it until its next checkpoint', FFI::E_STORE);
        }
    }

    private function journalExists(int $id): bool
    {
        $st = $this->stmt("SELECT 1 FROM {$this->p}journal WHERE id = ?");
        $st->execute([$id]);
        $found = $st->fetchColumn() !== false;
        $st->closeCursor();
        return $found;
    }

    // ---- meta ----------------------------------------------------------------

    public function metaGet(string $key): ?string
    {
        $st = $this->stmt("SELECT meta_value FROM {$this->p}meta WHERE meta_key = ?");
        $st->execute([$key]);
        $v = $st->fetchColumn();
        $st->closeCursor();
        return $v === false ? null : (string) $v;
    }

    public function metaPut(string $key, ?string $value): void
    {
        $this->stmt("DELETE FROM {$this->p}meta WHERE meta_key = ?")->execute([$key]);
        if ($value !== null) {
            $this->stmt("INSERT INTO {$this->p}meta (meta_key, meta_value) VALUES (?, ?)")->execute([$key, $value]);
        }
    }

    public function metaScan(string $prefix): iterable
    {
        $st = $this->stmt("SELECT meta_key, meta_value FROM {$this->p}meta WHERE meta_key >= ? ORDER BY meta_key");
        $st->execute([$prefix]);
        $out = [];
        while (($row = $st->fetch(\PDO::FETCH_NUM)) !== false) {
            $k = is_resource($row[0]) ? (string) stream_get_contents($row[0]) : (string) $row[0];
            if (!str_starts_with($k, $prefix)) {
                break;
            }
            $out[$k] = (string) $row[1];
        }
        $st->closeCursor();
        return $out;
    }

    // ---- plumbing --------------------------------------------------------------

    private function stmt(string $sql): \PDOStatement
    {
        return $this->stmts[$sql] ??= $this->pdo->prepare($sql);
    }

    private function bump(string $counter): int
    {
        $this->stmt("UPDATE {$this->p}counters SET counter_value = counter_value + 1 WHERE name = ?")
            ->execute([$counter]);
        $st = $this->stmt("SELECT counter_value FROM {$this->p}counters WHERE name = ?");
        $st->execute([$counter]);
        $v = $st->fetchColumn();
        $st->closeCursor();
        if ($v === false) {
            throw new StoreException("PdoStore: counter '$counter' is missing (run createSchema())", FFI::E_STORE);
        }
        return (int) $v;
    }

    private function exists(int $id): bool
    {
        $st = $this->stmt("SELECT 1 FROM {$this->p}customers WHERE id = ?");
        $st->execute([$id]);
        $found = $st->fetchColumn() !== false;
        $st->closeCursor();
        return $found;
    }

    /** Bind the columns of customers in the order of insert and update (id last for insert). */
    private function bindRecord(\PDOStatement $st, Record $r, string $packed, ?int $id): void
    {
        $i = 1;
        if ($id !== null) {
            $st->bindValue($i++, $id, \PDO::PARAM_INT);
        }
        foreach (['number', 'email', 'last_name'] as $f) {
            $v = $r->get($f);
            $st->bindValue($i++, $v, $v === null ? \PDO::PARAM_NULL : \PDO::PARAM_STR);
        }
        $st->bindValue($i++, $r->state(), \PDO::PARAM_INT);
        $st->bindValue($i++, (int) $r->locked(), \PDO::PARAM_INT);
        $g = $r->get('group');
        $st->bindValue($i++, $g, $g === null ? \PDO::PARAM_NULL : \PDO::PARAM_STR);
        $st->bindValue($i++, $r->revision(), \PDO::PARAM_INT);
        $st->bindValue($i, $packed, \PDO::PARAM_LOB);
    }

    /** @param list<array{0:int,1:string}> $keys */
    private function putKeys(int $id, array $keys): void
    {
        $seen = [];
        $st = $this->stmt("INSERT INTO {$this->p}keys (kind, key_hash, customer_id) VALUES (?, ?, ?)");
        foreach ($keys as [$kind, $value]) {
            $h = sha1($value);
            if (isset($seen[$kind][$h])) {
                continue; // the same key twice on one record is one index entry
            }
            $seen[$kind][$h] = true;
            $st->execute([$kind, $h, $id]);
        }
    }

    /** @param array<int,mixed> $row */
    private static function entry(array $row): JournalEntry
    {
        $payload = is_resource($row[5]) ? (string) stream_get_contents($row[5]) : (string) $row[5];
        return new JournalEntry(
            (int) $row[0],
            (int) $row[1],
            (string) $row[2],
            (int) $row[3],
            (int) $row[4],
            $payload
        );
    }

    private static function ident(string $name, bool $prefix = false): string
    {
        if (!preg_match($prefix ? '/^[A-Za-z_][A-Za-z0-9_]{0,40}$|^$/' : '/^[A-Za-z_][A-Za-z0-9_]{0,63}$/', $name)) {
            throw new InvalidValueException("PdoStore: '$name' is not a plain SQL identifier", FFI::E_INVALID);
        }
        return $name;
    }
}
