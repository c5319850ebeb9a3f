<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Customer;
use Patron\Db;
use Patron\PdoStore;
use PHPUnit\Framework\TestCase;

/**
 * No leak: 100 000 create/load/free through the binding keep memory flat.
 * Prints the growth of PHP's heap (memory_get_usage) and of the process
 * (VmRSS) after a warm-up round; asserts both stay within a few MB.
 */
final class LeakTest extends TestCase
{
    private const TOTAL = 100000;
    private const ROUND = 10000;
    private const SLACK_BYTES = 4 << 20;

    private static function rss(): int
    {
        $status = @file_get_contents('/proc/self/status');
        if ($status !== false && preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m)) {
            return (int) $m[1] * 1024;
        }
        return 0;
    }

    /** One round on a fresh memory store: create, load, delete, free. */
    private static function round(int $n): void
    {
        $db = Db::memory();
        for ($i = 0; $i < $n; $i++) {
            $c = new Customer(['first_name' => 'Max', 'last_name' => "Müller $i", 'email' => "m$i@example.de",
                'tags' => ['shop']]);
            $c->addAddress(['street' => 'Hauptstraße', 'house_number' => (string) $i, 'postal_code' => '10115',
                'city' => 'Berlin']);
            $db->create($c);
            $l = $db->load($c->id);
            if ($l->last_name !== "Müller $i") {
                throw new \LogicException("round trip failed at $i");
            }
            $db->delete($l->id);
            unset($c, $l);
        }
        $db->close();
    }

    public function testHundredThousandCreateLoadFreeKeepMemoryFlat(): void
    {
        gc_collect_cycles();
        self::round(self::ROUND); // warm-up: allocator pools, FFI caches, PHP's interned strings
        gc_collect_cycles();
        $heap0 = memory_get_usage();
        $rss0 = self::rss();
        $t0 = microtime(true);
        $rounds = intdiv(self::TOTAL, self::ROUND);
        $line = [];
        for ($r = 0; $r < $rounds; $r++) {
            self::round(self::ROUND);
            gc_collect_cycles();
            $line[] = sprintf('%+d', intdiv(self::rss() - $rss0, 1024));
        }
        $heap = memory_get_usage() - $heap0;
        $rss = self::rss() - $rss0;
        fprintf(
            STDERR,
            "\nleak check: %d create/load/delete/free (memory store) in %.1f s: "
            . "PHP heap %+d bytes, VmRSS %+d kB (per 10 000: %s kB)\n",
            self::TOTAL,
            microtime(true) - $t0,
            $heap,
            intdiv($rss, 1024),
            implode(' ', $line)
        );
        $this->assertLessThan(self::SLACK_BYTES, $heap, 'PHP heap growth');
        $this->assertLessThan(self::SLACK_BYTES, $rss, 'VmRSS growth');
    }

    public function testPdoStoreLoopKeepsPhpMemoryFlat(): void
    {
        if (!in_array('sqlite', \PDO::getAvailableDrivers(), true)) {
            $this->markTestSkipped('pdo_sqlite is missing');
        }
        $pdo = new \PDO('sqlite::memory:');
        $store = new PdoStore($pdo, ['orders' => null]);
        $store->createSchema();
        $db = Db::fromStore($store);
        $loop = function (int $n) use ($db): void {
            for ($i = 0; $i < $n; $i++) {
                $c = $db->create(['last_name' => "Pdo $i", 'email' => "p$i@example.de"]);
                $db->load($c->id);
                $db->delete($c->id);
            }
        };
        $loop(2000);
        gc_collect_cycles();
        $heap0 = memory_get_usage();
        $rss0 = self::rss();
        $loop(10000);
        gc_collect_cycles();
        $heap = memory_get_usage() - $heap0;
        $rss = self::rss() - $rss0;
        fprintf(STDERR, "leak check: 10000 create/load/delete through PdoStore (sqlite): PHP heap %+d bytes, "
            . "VmRSS %+d kB (SQLite's used_numbers table grows by design)\n", $heap, intdiv($rss, 1024));
        $this->assertLessThan(1 << 20, $heap, 'PHP heap growth');
        $this->assertLessThan(self::SLACK_BYTES, $rss, 'VmRSS growth');
    }
}
