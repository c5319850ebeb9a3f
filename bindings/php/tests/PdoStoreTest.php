<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Customer;
use Patron\Db;
use Patron\InvalidValueException;
use Patron\PdoStore;
use Patron\Record;
use Patron\StateException;
use Patron\StoreException;

/**
 * The contract over PdoStore on SQLite (pdo_sqlite), with the host's own
 * orders table; and what only a host-language store can show: a PHP
 * exception in a callback rolls everything back, the host's tables included.
 */
final class PdoStoreTest extends StoreContract
{
    private \PDO $pdo;
    private PdoStore $store;

    public static function setUpBeforeClass(): void
    {
        if (!in_array('sqlite', \PDO::getAvailableDrivers(), true)) {
            self::markTestSkipped('pdo_sqlite is missing: apt-get install php8.2-sqlite3');
        }
    }

    /** A fresh shop database: the host's orders table, then the store's schema. */
    public static function shopPdo(): \PDO
    {
        $pdo = new \PDO('sqlite::memory:');
        $pdo->exec('CREATE TABLE orders (id VARCHAR(32) NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL,
            total_cents INTEGER NOT NULL)');
        return $pdo;
    }

    protected function openDb(): Db
    {
        $this->pdo = self::shopPdo();
        $this->store = new PdoStore($this->pdo);
        $this->store->createSchema();
        return Db::fromStore($this->store);
    }

    protected function addOrder(string $ref, int $customerId): void
    {
        $this->pdo->prepare('INSERT INTO orders (id, customer_id, total_cents) VALUES (?, ?, 1999)')
            ->execute([$ref, $customerId]);
    }

    protected function orderOwner(string $ref): int
    {
        $st = $this->pdo->prepare('SELECT customer_id FROM orders WHERE id = ?');
        $st->execute([$ref]);
        return (int) $st->fetchColumn();
    }

    /** Every row of every table, to compare before and after. */
    private function dump(): array
    {
        $out = [];
        $tables = $this->pdo->query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            ->fetchAll(\PDO::FETCH_COLUMN);
        foreach ($tables as $t) {
            $rows = $this->pdo->query("SELECT * FROM $t")->fetchAll(\PDO::FETCH_ASSOC);
            usort($rows, fn($a, $b) => strcmp(serialize($a), serialize($b)));
            $out[$t] = $rows;
        }
        return $out;
    }

    public function testSchemaAndColumnsTheShopCanQuery(): void
    {
        $this->store->createSchema(); // idempotent
        $this->assertSame(PdoStore::SCHEMA_VERSION, $this->store->schemaVersion());
        $c = $this->db->create(['first_name' => 'Jürgen', 'last_name' => "O'Brien\"; DROP TABLE orders; --",
            'email' => 'j@example.de']);
        $row = $this->pdo->query('SELECT number, email, last_name, state, is_locked, revision
            FROM patron_customers')->fetch(\PDO::FETCH_ASSOC);
        $this->assertEquals(
            ['number' => 'K000001', 'email' => 'j@example.de',
            'last_name' => "O'Brien\"; DROP TABLE orders; --", 'state' => 2, 'is_locked' => 0, 'revision' => 1],
            $row
        );
        $this->assertSame($c->last_name, $this->db->load($c->id)->last_name);
        $this->assertGreaterThan(0, (int) $this->pdo->query('SELECT COUNT(*) FROM patron_keys')->fetchColumn());
    }

    public function testAFailingCallbackMidMergeLeavesTheHostDatabaseUnchanged(): void
    {
        $pdo = self::shopPdo();
        $store = new class ($pdo) extends PdoStore {
            public bool $failInRelink = false;

            public function relink(int $fromId, int $toId): iterable
            {
                // The orders are moved (the UPDATE ran) before the failure.
                foreach (parent::relink($fromId, $toId) as $ref) {
                    yield $ref;
                }
                if ($this->failInRelink) {
                    throw new \RuntimeException('shop hook: order service unreachable');
                }
            }
        };
        $store->createSchema();
        $db = Db::fromStore($store);
        $this->pdo = $pdo;
        $a = $db->create(self::MAX);
        $b = $db->create(self::MAX_SHOP);
        $this->addOrder('A-1', $a->id);
        $this->addOrder('B-1', $b->id);
        $this->addOrder('B-2', $b->id);
        $before = $this->dump();

        $store->failInRelink = true;
        $plan = $db->mergePlan($a->id, [$b->id]);
        try {
            $db->merge($plan);
            $this->fail('the merge must fail');
        } catch (StoreException $e) {
            $this->assertSame(-6, $e->getCode());
            $this->assertStringContainsString('relink', $e->getMessage());
            $this->assertStringContainsString('order service unreachable', $e->getMessage());
            $prev = $e->getPrevious();
            $this->assertInstanceOf(\RuntimeException::class, $prev);
            $this->assertSame('shop hook: order service unreachable', $prev->getMessage());
        }
        $this->assertSame($before, $this->dump(), 'the host database is unchanged');
        $this->assertFalse($pdo->inTransaction());
        $this->assertSame($b->id, $this->orderOwner('B-1'));
        $this->assertSame('active', $db->load($b->id)->state);

        // The same store works on: the merge goes through once the hook is back.
        $store->failInRelink = false;
        $db->merge($db->mergePlan($a->id, [$b->id]));
        $this->assertSame($a->id, $this->orderOwner('B-2'));
    }

    public function testAFailingInsertRollsBackAndKeepsTheCause(): void
    {
        $pdo = self::shopPdo();
        $store = new class ($pdo) extends PdoStore {
            public function insert(Record $record, array $keys): int
            {
                parent::insert($record, $keys); // written, then the disk is full
                throw new \PDOException('SQLSTATE[HY000]: disk I/O error (simulated)');
            }
        };
        $store->createSchema();
        $db = Db::fromStore($store);
        $this->pdo = $pdo;
        $before = $this->dump();
        $c = new Customer(['last_name' => 'Voll']);
        try {
            $db->create($c);
            $this->fail('the create must fail');
        } catch (StoreException $e) {
            $this->assertInstanceOf(\PDOException::class, $e->getPrevious());
            $this->assertStringContainsString('insert', $e->getMessage());
        }
        $this->assertSame($before, $this->dump());
        $this->assertNull($c->id, 'the record is unchanged on failure');
        $this->assertSame('new', $c->state());
        // The next call does not see the old failure.
        $this->assertSame([], $db->list());
    }

    public function testHostTransactionWrapsTheLibrarysCalls(): void
    {
        // The shop writes an order and a customer in one transaction of its own.
        $this->pdo->beginTransaction();
        $c = $this->db->create(['last_name' => 'Kunde']);
        $this->addOrder('O-1', $c->id);
        $this->pdo->rollBack();
        $this->assertSame([], $this->db->list());
        $this->assertSame(0, $this->orderOwner('O-1'));

        $this->pdo->beginTransaction();
        $c = $this->db->create(['last_name' => 'Kunde']);
        $this->addOrder('O-1', $c->id);
        // A failing call inside the host's transaction undoes only itself.
        try {
            $this->db->create(['last_name' => 'Doppelt', 'number' => $c->number]);
            $this->fail('the number is taken');
        } catch (\Patron\ExistsException $e) {
            $this->assertTrue($this->pdo->inTransaction());
        }
        $this->pdo->commit();
        $this->assertSame([$c->id], $this->db->list());
        $this->assertSame($c->id, $this->orderOwner('O-1'));
    }

    public function testPinnedOrdersBlockAMerge(): void
    {
        $pdo = self::shopPdo();
        $pdo->exec('ALTER TABLE orders ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0');
        $store = new PdoStore($pdo, ['orders' => ['table' => 'orders', 'id' => 'id', 'customer' => 'customer_id',
            'pinned' => 'pinned']]);
        $store->createSchema();
        $db = Db::fromStore($store);
        $a = $db->create(['last_name' => 'A']);
        $b = $db->create(['last_name' => 'B']);
        $pdo->exec("INSERT INTO orders (id, customer_id, total_cents, pinned) VALUES ('V-9', {$b->id}, 0, 1)");
        try {
            $db->merge($a->id, [$b->id]);
            $this->fail('a pinned order cannot move');
        } catch (StateException $e) {
            $this->assertStringContainsString('V-9', $e->getMessage());
        }
        $this->assertSame('active', $db->load($b->id)->state);
    }

    public function testStoreAndConnectionGoAwayWithTheLastDb(): void
    {
        $pdo = self::shopPdo();
        $store = new PdoStore($pdo);
        $store->createSchema();
        $db = Db::fromStore($store);
        $db->create(['last_name' => 'Weg']);
        $weakStore = \WeakReference::create($store);
        $weakPdo = \WeakReference::create($pdo);
        unset($store, $pdo);
        $this->assertNotNull($weakStore->get(), 'the Db keeps its store');
        unset($db); // no cycle: freed at once, without the cycle collector
        $this->assertNull($weakStore->get());
        $this->assertNull($weakPdo->get());
    }

    public function testOneStorePerDb(): void
    {
        $this->expectException(StateException::class);
        Db::fromStore($this->store);
    }

    public function testTablePrefixAndNoOrders(): void
    {
        $pdo = new \PDO('sqlite::memory:');
        $store = new PdoStore($pdo, ['prefix' => 'crm_', 'orders' => null]);
        $store->createSchema();
        $db = Db::fromStore($store);
        $a = $db->create(['last_name' => 'A']);
        $b = $db->create(['last_name' => 'B']);
        $j = $db->merge($a->id, [$b->id]);
        $db->undo($j);
        $this->assertSame(2, (int) $pdo->query('SELECT COUNT(*) FROM crm_customers')->fetchColumn());
        $this->assertSame('crm_journal', $store->table('journal'));
    }

    public function testOpeningWithoutTheSchemaNamesCreateSchema(): void
    {
        $pdo = self::shopPdo();
        $store = new PdoStore($pdo);
        try {
            Db::fromStore($store);
            $this->fail('opened a store without its tables');
        } catch (StateException $e) {
            $this->assertStringContainsString('createSchema()', $e->getMessage());
            $this->assertStringNotContainsString('no such table', $e->getMessage());
        }
        // Nothing was created, and the store can still open once the schema is there.
        $this->assertSame(['orders'], $pdo->query("SELECT name FROM sqlite_master WHERE type = 'table'")
            ->fetchAll(\PDO::FETCH_COLUMN));
        $store->createSchema();
        $this->assertSame('Da', Db::fromStore($store)->create(['last_name' => 'Da'])->last_name);
    }

    public function testAMissingOrdersTableIsReportedAtOpenNotAtTheFirstMerge(): void
    {
        $pdo = new \PDO('sqlite::memory:'); // no orders table, and the default mapping names one
        $store = new PdoStore($pdo);
        $store->createSchema();
        try {
            Db::fromStore($store);
            $this->fail('opened with an orders mapping that names no table');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString("table 'orders'", $e->getMessage());
            $this->assertStringContainsString("'orders' => null", $e->getMessage());
        }
        // A wrong column is found the same way, inside the host's transaction too.
        $pdo->exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER)');
        $pdo->beginTransaction();
        $wrong = new PdoStore($pdo, ['orders' => ['table' => 'orders', 'customer' => 'kunde_id']]);
        try {
            Db::fromStore($wrong);
            $this->fail('opened with a column the orders table lacks');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('kunde_id', $e->getMessage());
        }
        $this->assertTrue($pdo->inTransaction(), "the host's transaction survives the check");
        $pdo->rollBack();
        $this->assertSame('Ok', Db::fromStore($store)->create(['last_name' => 'Ok'])->last_name);
    }

    public function testTheReadmeSnippetRunsAsWritten(): void
    {
        $readme = (string) file_get_contents(__DIR__ . '/../../../README.md');
        $this->assertSame(1, preg_match('/```php\n(.*?)```/s', $readme, $m), 'README.md has a PHP snippet');
        $snippet = $m[1];
        $this->assertStringStartsWith("<?php", $snippet);
        $this->assertStringContainsString("require 'vendor/autoload.php'", $snippet);
        $dir = sys_get_temp_dir() . '/patron-readme-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir("$dir/vendor", 0700, true);
        try {
            // vendor/autoload.php as Composer would make it for a project requiring bindings/php.
            file_put_contents("$dir/vendor/autoload.php", "<?php\nrequire "
                . var_export(realpath(__DIR__ . '/../autoload.php'), true) . ";\n");
            file_put_contents("$dir/snippet.php", $snippet);
            $cmd = escapeshellarg(PHP_BINARY) . ' -d ffi.enable=1 snippet.php 2>&1';
            $out = [];
            $old = getcwd();
            chdir($dir);
            try {
                exec($cmd, $out, $rc);
            } finally {
                chdir((string) $old);
            }
            $this->assertSame(0, $rc, implode("\n", $out));
            $this->assertMatchesRegularExpression('/K\d{6}/', implode("\n", $out));
        } finally {
            foreach (glob("$dir/{,vendor/}*", GLOB_BRACE) ?: [] as $f) {
                is_file($f) && unlink($f);
            }
            @rmdir("$dir/vendor");
            @rmdir($dir);
        }
    }
}
