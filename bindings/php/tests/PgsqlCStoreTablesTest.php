<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Db;
use Patron\PdoStore;
use Patron\StateException;
use PHPUnit\Framework\TestCase;

/**
 * PdoStore and the C PostgreSQL store (libpatron-pg) over one database, as
 * the README says: they do NOT share tables.  The C store's tables (written
 * here by the `patron` tool, PATRON_CLI, with --db postgresql://...) are
 * plain SQL a PHP shop can report on; PdoStore refuses them instead of
 * reading or writing beside them; with a prefix of its own PdoStore works in
 * the same database, as a separate store with its own numbers.
 *
 * Runs when PATRON_TEST_PG names a server (meson's php-pgsql runs it inside
 * tests/pg/cluster.sh run) and PATRON_CLI the built tool; each test has a
 * database of its own.
 */
final class PgsqlCStoreTablesTest extends TestCase
{
    private \PDO $admin;
    private \PDO $pdo;
    private string $dbname = '';
    private string $uri;
    private string $cli;

    protected function setUp(): void
    {
        $conninfo = (string) getenv('PATRON_TEST_PG');
        $cli = (string) getenv('PATRON_CLI');
        if ($conninfo === '' || $cli === '') {
            $this->markTestSkipped('set PATRON_TEST_PG (a server) and PATRON_CLI (the patron tool) to run this');
        }
        $this->assertContains(
            'pgsql',
            \PDO::getAvailableDrivers(),
            'pdo_pgsql is missing: apt-get install php8.2-pgsql'
        );
        $this->cli = $cli;
        $kv = ServerPdoStores::conninfo($conninfo);
        $this->admin = new \PDO(ServerPdoStores::pgsqlDsn($kv), $kv['user'] ?? null, $kv['password'] ?? null);
        $this->admin->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
        $this->dbname = 'php_' . substr(md5($this->getName() . microtime()), 0, 12);
        $this->admin->exec("CREATE DATABASE {$this->dbname}");
        $kv['dbname'] = $this->dbname;
        $this->pdo = new \PDO(ServerPdoStores::pgsqlDsn($kv), $kv['user'] ?? null, $kv['password'] ?? null);
        $this->uri = sprintf(
            'postgresql://%s@%s:%s/%s',
            $kv['user'] ?? '',
            $kv['host'] ?? '127.0.0.1',
            $kv['port'] ?? '5432',
            $this->dbname
        );
        // two customers through the C store
        $this->patron('create', 'first_name=Max', 'last_name=Müller', 'email=max@example.de');
        $this->patron('create', 'first_name=Anna', 'last_name=Schmidt', 'email=anna@example.de');
    }

    protected function tearDown(): void
    {
        if ($this->dbname !== '') {
            unset($this->pdo);
            $this->admin->exec("DROP DATABASE IF EXISTS {$this->dbname} WITH (FORCE)");
        }
    }

    private function patron(string ...$args): string
    {
        $cmd = array_merge([$this->cli, '--db', $this->uri], $args);
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $this->assertIsResource($p);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $this->assertSame(0, proc_close($p), 'patron ' . implode(' ', $args) . ": $err");
        return $out;
    }

    /** @return array<string,list<array<string,mixed>>> */
    private function dump(): array
    {
        $out = [];
        $tables = $this->pdo->query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
            ORDER BY table_name")->fetchAll(\PDO::FETCH_COLUMN);
        foreach ($tables as $t) {
            $rows = $this->pdo->query("SELECT * FROM \"$t\"")->fetchAll(\PDO::FETCH_ASSOC);
            $rows = array_map(fn($r) => array_map(fn($v) => is_resource($v) ? stream_get_contents($v) : $v, $r), $rows);
            usort($rows, fn($x, $y) => strcmp(serialize($x), serialize($y)));
            $out[(string) $t] = $rows;
        }
        return $out;
    }

    public function testTheCStoresTablesAreReadableWithPlainSql(): void
    {
        $rows = $this->pdo
            ->query('SELECT number, first_name, last_name, state, email FROM patron_customers ORDER BY id')
            ->fetchAll(\PDO::FETCH_NUM);
        $this->assertSame([
            ['K000001', 'Max', 'Müller', 'active', 'max@example.de'],
            ['K000002', 'Anna', 'Schmidt', 'active', 'anna@example.de'],
        ], $rows);
        $this->assertSame('1', (string) $this->pdo->query("SELECT value FROM patron_schema WHERE name = 'version'")
            ->fetchColumn());
    }

    public function testPdoStoreRefusesTheCStoresTablesAndChangesNothing(): void
    {
        $before = $this->dump();
        $store = new PdoStore($this->pdo, ['orders' => null]);
        try {
            $store->createSchema();
            $this->fail('createSchema() over the C store\'s tables must refuse');
        } catch (StateException $e) {
            $this->assertStringContainsString("patron's C store", $e->getMessage());
            $this->assertStringContainsString('another prefix', $e->getMessage());
        }
        try {
            Db::fromStore($store);
            $this->fail('Db::fromStore() over the C store\'s tables must refuse');
        } catch (StateException $e) {
            $this->assertStringContainsString("patron's C store", $e->getMessage());
        }
        $this->assertSame($before, $this->dump());
        $this->assertFalse($this->pdo->inTransaction());
    }

    public function testWithAPrefixOfItsOwnPdoStoreIsASeparateStore(): void
    {
        $store = new PdoStore($this->pdo, ['prefix' => 'php_', 'orders' => null]);
        $store->createSchema();
        $db = Db::fromStore($store);
        $c = $db->create(['first_name' => 'Jonas', 'last_name' => 'Weber']);
        // its own counter: the same first number as the C store's -- separate stores
        $this->assertSame('K000001', $c->number);
        $this->assertSame('Weber', $db->findByNumber('K000001')->last_name);
        $this->assertStringContainsString('Müller', $this->patron('show', 'K000001'));
        $this->assertSame(2, (int) $this->pdo->query('SELECT count(*) FROM patron_customers')->fetchColumn());
        $this->assertSame(1, (int) $this->pdo->query('SELECT count(*) FROM php_customers')->fetchColumn());
    }
}
