<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Db;
use Patron\FFI;
use Patron\FfiUnavailableException;

/**
 * The contract over libpatron-sqlite, the library's own SQLite store, on a
 * temporary file; the orders go into its orders table through PDO.
 */
final class SqliteStoreTest extends StoreContract
{
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
        return Db::sqlite($this->file);
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

    public function testReopenReadOnly(): void
    {
        $c = $this->db->create(['last_name' => 'Datei', 'email' => 'datei@example.de']);
        $this->db->close();
        $ro = Db::sqlite($this->file, Db::SQLITE_READONLY);
        $this->assertSame($c->number, $ro->findByEmail('datei@example.de')->number);
        $this->expectException(\Patron\StoreException::class);
        $ro->create(['last_name' => 'Nein']);
    }
}
