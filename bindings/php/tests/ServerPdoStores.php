<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Db;
use Patron\PdoStore;

/**
 * The store contract over PdoStore on a database server, for the SQL's
 * portability: runs when PATRON_TEST_<DRIVER>_DSN (and _USER, _PASSWORD)
 * names a scratch database, e.g.
 *   PATRON_TEST_MYSQL_DSN='mysql:host=localhost;dbname=patron_test'
 *   PATRON_TEST_PGSQL_DSN='pgsql:host=localhost;dbname=patron_test'
 * and is skipped otherwise; for pgsql, PATRON_TEST_PG (the conninfo of
 * tests/pg/cluster.sh, which meson's php-pgsql runs it under) does too.
 * Each test uses tables of its own prefix and drops them afterwards.
 */
abstract class ServerPdoStores extends StoreContract
{
    private \PDO $pdo;
    /** @var list<string> */
    private array $tables = [];
    private string $prefix;

    abstract protected static function driver(): string;

    protected function openDb(): Db
    {
        $d = strtoupper(static::driver());
        $dsn = getenv("PATRON_TEST_{$d}_DSN");
        $user = getenv("PATRON_TEST_{$d}_USER") ?: null;
        $password = getenv("PATRON_TEST_{$d}_PASSWORD") ?: null;
        $cluster = (string) getenv('PATRON_TEST_PG');
        if (($dsn === false || $dsn === '') && static::driver() === 'pgsql' && $cluster !== '') {
            // the throwaway cluster of tests/pg/cluster.sh (meson's php-pgsql)
            $kv = self::conninfo($cluster);
            $dsn = self::pgsqlDsn($kv);
            $user = $kv['user'] ?? null;
            $password = $kv['password'] ?? null;
        }
        if ($dsn === false || $dsn === '') {
            $this->markTestSkipped("set PATRON_TEST_{$d}_DSN to run the store contract on " . static::driver());
        }
        if (!in_array(static::driver(), \PDO::getAvailableDrivers(), true)) {
            $this->markTestSkipped('pdo_' . static::driver() . ' is missing');
        }
        $this->pdo = new \PDO($dsn, $user, $password);
        $this->prefix = 't' . substr(md5($this->getName() . microtime()), 0, 8) . '_';
        $orders = $this->prefix . 'orders';
        $this->pdo->exec("CREATE TABLE $orders (id VARCHAR(32) NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL)");
        $this->tables = [$orders];
        foreach (['customers', 'keys', 'used_numbers', 'counters', 'journal', 'meta'] as $t) {
            $this->tables[] = $this->prefix . $t;
        }
        $store = new PdoStore($this->pdo, ['prefix' => $this->prefix,
            'orders' => ['table' => $orders, 'id' => 'id', 'customer' => 'customer_id']]);
        $store->createSchema();
        return Db::fromStore($store);
    }

    /**
     * The keywords of a libpq conninfo "host=127.0.0.1 port=5432 dbname=x user=y"
     * (values without spaces or quotes, as tests/pg/cluster.sh prints them).
     * @return array<string,string>
     */
    public static function conninfo(string $conninfo): array
    {
        $kv = [];
        foreach (preg_split('/\s+/', trim($conninfo)) ?: [] as $part) {
            $eq = strpos($part, '=');
            if ($eq !== false) {
                $kv[substr($part, 0, $eq)] = substr($part, $eq + 1);
            }
        }
        return $kv;
    }

    /** @param array<string,string> $kv */
    public static function pgsqlDsn(array $kv): string
    {
        $dsn = [];
        foreach (['host', 'port', 'dbname'] as $k) {
            if (isset($kv[$k])) {
                $dsn[] = "$k=" . $kv[$k];
            }
        }
        return 'pgsql:' . implode(';', $dsn);
    }

    protected function tearDown(): void
    {
        parent::tearDown();
        if (isset($this->pdo)) {
            foreach ($this->tables as $t) {
                $this->pdo->exec("DROP TABLE IF EXISTS $t");
            }
        }
    }

    protected function addOrder(string $ref, int $customerId): void
    {
        $this->pdo->prepare("INSERT INTO {$this->prefix}orders (id, customer_id) VALUES (?, ?)")
            ->execute([$ref, $customerId]);
    }

    protected function orderOwner(string $ref): int
    {
        $st = $this->pdo->prepare("SELECT customer_id FROM {$this->prefix}orders WHERE id = ?");
        $st->execute([$ref]);
        $v = $st->fetchColumn();
        $st->closeCursor();
        return (int) $v;
    }

    public function testAFailingRelinkLeavesTheServerTablesUnchanged(): void
    {
        $options = ['prefix' => $this->prefix, 'orders' => ['table' => $this->prefix . 'orders']];
        $store = new class ($this->pdo, $options) extends PdoStore {
            public function relink(int $fromId, int $toId): iterable
            {
                yield from parent::relink($fromId, $toId);
                throw new \RuntimeException('order service unreachable');
            }
        };
        $db = Db::fromStore($store);
        $a = $db->create(self::MAX);
        $b = $db->create(self::MAX_SHOP);
        $this->addOrder('B-1', $b->id);
        $dump = function (): array {
            $out = [];
            foreach ($this->tables as $t) {
                $rows = $this->pdo->query("SELECT * FROM $t")->fetchAll(\PDO::FETCH_ASSOC);
                $rows = array_map(
                    fn($r) => array_map(fn($v) => is_resource($v) ? stream_get_contents($v) : $v, $r),
                    $rows
                );
                usort($rows, fn($x, $y) => strcmp(serialize($x), serialize($y)));
                $out[$t] = $rows;
            }
            return $out;
        };
        $before = $dump();
        try {
            $db->merge($a->id, [$b->id]);
            $this->fail('the merge must fail');
        } catch (\Patron\StoreException $e) {
            $this->assertSame('order service unreachable', $e->getPrevious()->getMessage());
        }
        $this->assertSame($before, $dump());
        $this->assertFalse($this->pdo->inTransaction());
    }

    public function testBinaryRecordAndByteOrderOfMeta(): void
    {
        $c = $this->db->create(['last_name' => "Null\u{00e4}\u{1F600}", 'notes' => "eins\nzwei\ttab"]);
        $this->assertSame("Null\u{00e4}\u{1F600}", $this->db->load($c->id)->last_name);
        $this->db->groupAdd('Zeta');
        $this->db->groupAdd('alpha');
        $this->db->groupAdd('Äpfel');
        $this->assertSame(['Zeta', 'alpha', 'Äpfel'], array_column($this->db->groups(), 'name'));
    }
}
