<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Db;
use Patron\FFI;
use Patron\FfiUnavailableException;

/**
 * The contract over libpatron-sqlite, the library's own SQLite store, on a
 * temporary file; the orders go into the test's own orders table (configured
 * as the store's ref table) through PDO.
 */
final class SqliteStoreTest extends StoreContract
{
    private const ORDERS = ['kind' => 'order', 'table' => 'orders', 'customer' => 'customer_id', 'id' => 'order_id'];

    private string $file;
    private ?\PDO $pdo = null;

    protected function openDb(): Db
    {
        try {
            FFI::sqlite();
        } catch (FfiUnavailableException $e) {
            $this->markTestSkipped($e->getMessage());
        }
        $this->file = tempnam(sys_get_temp_dir(), 'patron-php') . '.db';
        if (!in_array('sqlite', \PDO::getAvailableDrivers(), true)) {
            return Db::sqlite($this->file); // the order tests skip themselves
        }
        // The shop's own orders table, which merges re-link.
        $this->pdo()->exec('CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id INTEGER, total TEXT)');
        return Db::sqlite($this->file, 0, null, [self::ORDERS]);
    }

    protected function tearDown(): void
    {
        parent::tearDown();
        $this->pdo = null;
        if (isset($this->file)) {
            foreach (['', '-wal', '-shm'] as $suffix) {
                @unlink($this->file . $suffix);
            }
            @unlink(substr($this->file, 0, -3));
        }
    }

    private function pdo(): \PDO
    {
        if (!in_array('sqlite', \PDO::getAvailableDrivers(), true)) {
            $this->markTestSkipped('pdo_sqlite is missing: apt-get install php8.2-sqlite3');
        }
        return $this->pdo ??= new \PDO('sqlite:' . $this->file);
    }

    protected function addOrder(string $ref, int $customerId): void
    {
        $this->pdo()->prepare('INSERT INTO orders (order_id, customer_id, total) VALUES (?, ?, ?)')
            ->execute([$ref, $customerId, '19.99']);
    }

    protected function orderOwner(string $ref): int
    {
        $st = $this->pdo()->prepare('SELECT customer_id FROM orders WHERE order_id = ?');
        $st->execute([$ref]);
        $v = $st->fetchColumn();
        $st->closeCursor();
        return (int) $v;
    }

    public function testTablePrefixAndShopTablesUntouched(): void
    {
        $pdo = $this->pdo();
        $pdo->exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
                    INSERT INTO customers VALUES (1, 'shop row')");
        $this->db->close();
        try {
            Db::sqlite($this->file, 0, 'bad prefix');
            $this->fail('a bad prefix was accepted');
        } catch (\Patron\InvalidValueException $e) {
            $this->assertStringContainsString('table prefix', $e->getMessage());
        }
        $db = Db::sqlite($this->file, 0, 'crm_', [self::ORDERS]);
        $a = $db->create(['first_name' => 'Max', 'last_name' => 'Mustermann']);
        $b = $db->create(['first_name' => 'Max', 'last_name' => 'Musterman']);
        $this->addOrder('O-1', $b->id);
        $names = $pdo->query("SELECT name FROM sqlite_master WHERE name LIKE 'crm_%' AND type = 'table'")
            ->fetchAll(\PDO::FETCH_COLUMN);
        $this->assertContains('crm_customers', $names);
        $db->close();
        $this->assertSame([[1, 'shop row']], $pdo->query('SELECT * FROM customers')->fetchAll(\PDO::FETCH_NUM));
    }

    public function testReopenReadOnly(): void
    {
        $c = $this->db->create(['last_name' => 'Datei', 'email' => 'datei@example.de']);
        $this->db->close();
        $ro = Db::sqlite($this->file, Db::SQLITE_READONLY, null, [self::ORDERS]);
        $this->assertSame($c->number, $ro->findByEmail('datei@example.de')->number);
        $this->expectException(\Patron\StoreException::class);
        $ro->create(['last_name' => 'Nein']);
    }
}
