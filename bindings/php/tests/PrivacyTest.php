<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Customer;
use Patron\Db;
use Patron\InvalidValueException;
use Patron\MemoryStore;
use Patron\NotFoundException;
use Patron\PdoStore;
use Patron\StateException;
use Patron\StoreException;
use PHPUnit\Framework\TestCase;

/**
 * Personal data requests (issue 16) from PHP: Db::exportPerson() (GDPR Art.
 * 15, 20) and Db::erase() (Art. 17) on the memory store and on PdoStore over
 * a SQLite file — after erasing a customer merged twice and edited, none of
 * the erased values is in the file or its WAL (searched byte by byte), while
 * the number, the orders and the other customers' rows are unchanged.
 */
final class PrivacyTest extends TestCase
{
    private const HASH = '$2y$10$QuastenbergSecretHashValue0123456789abcdefghijklmnopq';

    /** Every value of the person's records; none may survive an erasure. */
    private const PERSONAL = ['Wilhelmine', 'Wilhelmina', 'Quastenberg', 'Zwetschgenallee', 'Kastanienweg',
        'Feinkost', 'wilhelmine.quastenberg@example.org', 'w.quastenberg@example.net', 'quasti@example.com',
        '5550199', '5550198', '5550177', '5550166', 'wquastenberg', 'ruft immer freitags', 'Bitte klingeln',
        'Zimtstern', '1961-02-03', 'DE811907980', 'stammkundin', 'Hinterhaus'];

    private ?string $file = null;

    protected function tearDown(): void
    {
        if ($this->file !== null) {
            foreach (['', '-wal', '-shm', '-journal'] as $suffix) {
                @unlink($this->file . $suffix);
            }
        }
    }

    private static function wilhelmine(): Customer
    {
        $c = new Customer([
            'salutation' => 'Frau', 'title' => 'Dr.', 'first_name' => 'Wilhelmine', 'last_name' => 'Quastenberg',
            'company' => 'Quastenberg Feinkost', 'email' => 'wilhelmine.quastenberg@example.org',
            'phone' => '0761 5550199', 'mobile' => '0170 5550198', 'birth_date' => '1961-02-03',
            'vat_id' => 'DE811907980', 'b2b' => true, 'newsletter' => true, 'notes' => 'ruft immer freitags an',
            'order_text' => 'Bitte klingeln bei Quastenberg', 'login_user' => 'wquastenberg',
            'login_hash' => self::HASH, 'external_source' => 'shop', 'external_id' => 'shop-17',
        ]);
        $c->addAddress(['label' => 'Laden', 'street' => 'Zwetschgenallee', 'house_number' => '41',
            'address_addition' => 'Hinterhaus', 'postal_code' => '79098', 'city' => 'Freiburg', 'default' => true]);
        $c->addTag('stammkundin');
        $c->setProperty('lieblingssorte', 'Zimtstern');
        return $c;
    }

    /**
     * Wilhelmine, two duplicates merged into her (edited after each merge),
     * her neighbour; an order for each.
     *
     * @param \Closure(string,int):void $addOrder
     * @return array{0:int,1:int,2:int,3:int}
     */
    private static function mergedTwiceAndEdited(Db $db, \Closure $addOrder): array
    {
        $a = $db->create(self::wilhelmine())->id();
        $twin = new Customer(['first_name' => 'Wilhelmine', 'last_name' => 'Quastenberg',
            'email' => 'w.quastenberg@example.net', 'phone' => '0761 5550177']);
        $twin->addAddress(['street' => 'Zwetschgenallee', 'house_number' => '41', 'postal_code' => '79098',
            'city' => 'Freiburg']);
        $b = $db->create($twin)->id();
        $third = new Customer(['first_name' => 'W.', 'last_name' => 'Quastenberg', 'email' => 'quasti@example.com',
            'fax' => '0761 5550166']);
        $third->addAddress(['street' => 'Kastanienweg', 'house_number' => '9', 'postal_code' => '79100',
            'city' => 'Freiburg']);
        $c = $db->create($third)->id();
        $n = $db->create(['first_name' => 'Otto', 'last_name' => 'Nebenan',
            'email' => 'otto.nebenan@example.org'])->id();
        foreach ([$a, $b, $c, $n] as $i => $id) {
            $addOrder('O-' . ($i + 1), $id);
        }
        $db->merge($db->mergePlan($a, [$b])->take('phone', 1));
        $s = $db->load($a);
        $s->first_name = 'Wilhelmina';
        $db->update($s);
        $db->merge($a, [$c]);
        $s = $db->load($a);
        $s->first_name = 'Wilhelmine';
        $s->mobile = '0170 5550198';
        $db->update($s);
        return [$a, $b, $c, $n];
    }

    public function testExportHasEveryValueAndNoHash(): void
    {
        $db = Db::memory();
        $id = $db->create(self::wilhelmine())->id();
        $e = $db->exportPerson($id);
        $this->assertSame(1, $e['schema_version']);
        $text = json_encode($e, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        foreach (
            ['Frau', 'Dr.', 'Wilhelmine', 'Quastenberg Feinkost', 'wilhelmine.quastenberg@example.org', '5550199',
                '5550198', '1961-02-03', 'DE811907980', 'ruft immer freitags an', 'Bitte klingeln bei Quastenberg',
                'wquastenberg', 'shop-17', 'Laden', 'Zwetschgenallee', 'Hinterhaus', '79098', 'Freiburg',
                'stammkundin', 'lieblingssorte', 'Zimtstern'] as $v
        ) {
            $this->assertStringContainsString($v, $text);
        }
        $this->assertStringNotContainsString(self::HASH, $text);
        $this->assertStringNotContainsString('login_hash', $text);
        $this->assertTrue($e['consent']['newsletter']);
        $this->assertSame('admin', $e['consent']['source']);
        $this->assertEquals($e, json_decode($db->exportPersonJson($id, true), true));
    }

    public function testKeysLeadToTheSurvivor(): void
    {
        $ms = new MemoryStore();
        $db = Db::memory($ms);
        [$a, $b, $c] = self::mergedTwiceAndEdited($db, fn(string $o, int $id) => $ms->setRef('order', $o, $id));
        $want = $db->exportPerson($a);
        unset($want['exported_at']);
        $numberB = (string) $db->load($b)->get('number');
        foreach ([$b, $c, $numberB, 'quasti@example.com', $db->load($a)] as $key) {
            $got = $db->exportPerson($key);
            unset($got['exported_at']);
            $this->assertEquals($want, $got);
        }
        $this->expectException(NotFoundException::class);
        $db->exportPerson('nobody@example.org');
    }

    public function testEraseOnTheMemoryStore(): void
    {
        $ms = new MemoryStore();
        $db = Db::memory($ms);
        [$a, $b, , $n] = self::mergedTwiceAndEdited($db, fn(string $o, int $id) => $ms->setRef('order', $o, $id));
        $other = $db->load($n)->toArray();
        $number = (string) $db->load($a)->get('number');
        $jid = $db->erase($number, 'Art. 17 request, ticket 4711', 'support:jane');
        $this->assertGreaterThan(0, $jid);
        $s = $db->load($a);
        $this->assertSame('erased', $s->state());
        $this->assertSame([$a], $db->list('erased'));
        $this->assertNotContains($a, $db->list('active'));
        $this->assertSame($number, $s->get('number'));
        $this->assertNull($s->get('last_name'));
        $this->assertSame(0, $s->addressCount());
        foreach (['O-1', 'O-2', 'O-3'] as $o) {
            $this->assertSame($a, $ms->refOwner('order', $o));
        }
        $this->assertSame($n, $ms->refOwner('order', 'O-4'));
        $this->assertEquals($other, $db->load($n)->toArray());
        $this->assertSame($a, $db->findByNumber((string) $db->load($b)->get('number'))->id());
        $text = $db->exportPersonJson($a) . json_encode($db->journal(), JSON_UNESCAPED_UNICODE);
        foreach (self::PERSONAL as $v) {
            $this->assertStringNotContainsString($v, $text);
        }
        $journal = $db->journal();
        $this->assertSame('erase', $journal[count($journal) - 1]['kind']);
        $this->assertSame($jid, $journal[count($journal) - 1]['id']);
    }

    /**
     * privacy.h: the consent goes with the person; erasing again changes
     * nothing and journals nothing.  (Fails on the library of 20:25 UTC: the
     * erasure's save stamps the consent proof; /work/notes/gdprx-to-gdpr.md.)
     */
    public function testNoConsentProofStaysAndErasingTwiceChangesNothing(): void
    {
        $db = Db::memory();
        $id = $db->create(self::wilhelmine())->id();
        $db->erase($id, 'Art. 17', 'support');
        $s = $db->load($id);
        $this->assertSame([null, null, null], [$s->get('newsletter'), $s->get('newsletter_at'),
            $s->get('newsletter_source')]);
        $journal = $db->journal();
        $this->assertSame(0, $db->erase($id, 'again', 'support'));
        $this->assertEquals($journal, $db->journal());
    }

    public function testConsentTimeCarriedIntoANewCustomer(): void
    {
        $db = Db::memory();
        $c = new Customer(['last_name' => 'Import', 'newsletter' => true]);
        $c->setConsentTime(new \DateTimeImmutable('2010-01-01 12:00:00 UTC'));
        $this->assertSame(1262347200, $c->newsletter_at);
        $id = $db->create($c)->id();
        $this->assertSame(1262347200, $db->load($id)->newsletter_at);
        $this->assertSame(1262347200, $db->exportPerson($id)['consent']['changed_at']);
        foreach (['631151999', 'gestern', (string) (time() + 3600)] as $bad) {
            $d = new Customer(['last_name' => 'Nein', 'newsletter' => true]);
            try {
                $d->setConsentTime($bad);
                $this->fail("consent time $bad taken");
            } catch (InvalidValueException $e) {
                $this->assertStringContainsString('newsletter_at', $e->getMessage());
                $this->assertNull($d->newsletter_at);
            }
        }
        // without the consent: refused by create, nothing saved
        $d = (new Customer(['last_name' => 'Ohne']))->setConsentTime(1262347200);
        try {
            $db->create($d);
            $this->fail('a consent time without the consent was saved');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('without the consent', $e->getMessage());
        }
        $this->assertSame(1, count($db->list()));
        // a saved customer's time is the library's
        $this->expectException(StateException::class);
        $db->load($id)->setConsentTime(1262347300);
    }

    public function testEraseNeedsReasonAndBy(): void
    {
        $db = Db::memory();
        $id = $db->create(['last_name' => 'Nebenan'])->id();
        foreach ([['', 'x'], ['x', '']] as [$reason, $by]) {
            try {
                $db->erase($id, $reason, $by);
                $this->fail('erased without reason or by');
            } catch (InvalidValueException) {
                $this->assertSame('Nebenan', $db->load($id)->get('last_name'));
            }
        }
    }

    // ---- PdoStore on a SQLite file ------------------------------------------------

    private function pdoFile(bool $wal): \PDO
    {
        if (!in_array('sqlite', \PDO::getAvailableDrivers(), true)) {
            $this->markTestSkipped('pdo_sqlite is missing: apt-get install php8.2-sqlite3');
        }
        $this->file = tempnam(sys_get_temp_dir(), 'patron-php-gdpr');
        $pdo = new \PDO('sqlite:' . $this->file);
        if ($wal) {
            $this->assertSame('wal', $pdo->query('PRAGMA journal_mode = WAL')->fetchColumn());
            $pdo->exec('PRAGMA wal_autocheckpoint = 0'); // the old pages would stay in -wal
        }
        $pdo->exec('CREATE TABLE orders (id VARCHAR(32) NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL,
            total_cents INTEGER NOT NULL)');
        return $pdo;
    }

    private function fileBytes(): string
    {
        $data = '';
        foreach (['', '-wal', '-journal'] as $suffix) {
            if (is_file($this->file . $suffix)) {
                $data .= (string) file_get_contents($this->file . $suffix);
            }
        }
        return $data;
    }

    /** @return array<string,list<array<string,mixed>>> the rows of customer $id, its keys, all orders */
    private static function rowsOf(\PDO $pdo, int $id): array
    {
        $q = fn(string $sql) => $pdo->query($sql)->fetchAll(\PDO::FETCH_ASSOC);
        return [
            'customers' => $q("SELECT * FROM patron_customers WHERE id = $id"),
            'keys' => $q("SELECT * FROM patron_keys WHERE customer_id = $id ORDER BY kind, key_hash"),
            'orders' => $q('SELECT * FROM orders ORDER BY id'),
        ];
    }

    /** $hostTx: erase inside the host's own transaction, then purge after its commit. */
    private function eraseAndSearch(bool $wal, bool $hostTx = false): void
    {
        $pdo = $this->pdoFile($wal);
        $store = new PdoStore($pdo);
        $store->createSchema();
        $this->assertSame(1, (int) $pdo->query('PRAGMA secure_delete')->fetchColumn());
        $db = Db::fromStore($store);
        $add = fn(string $o, int $id) => $pdo->prepare('INSERT INTO orders VALUES (?, ?, 1999)')->execute([$o, $id]);
        [$a, , , $n] = self::mergedTwiceAndEdited($db, \Closure::fromCallable($add));
        foreach (['Quastenberg', 'Kastanienweg', 'quasti@example.com', 'wquastenberg'] as $v) {
            $this->assertTrue(str_contains($this->fileBytes(), $v), $v); // the search would see them
        }
        $kept = self::rowsOf($pdo, $n);
        $number = $db->load($a)->get('number');
        if ($hostTx) {
            $pdo->beginTransaction();
            $db->erase($a, 'Art. 17', 'support'); // a savepoint; purge() can do nothing yet
            $pdo->commit();
            $store->purge();
        } else {
            $db->erase($a, 'Art. 17', 'support');
        }
        $this->assertEquals($kept, self::rowsOf($pdo, $n)); // the neighbour's rows and the orders unchanged
        $this->assertSame($number, $db->load($a)->get('number'));
        $this->assertSame('erased', $db->load($a)->state());
        $this->assertSame([$a], $db->list('erased')); // PdoStore's scan filters on its state column
        $owners = $pdo->query('SELECT id, customer_id FROM orders ORDER BY id')->fetchAll(\PDO::FETCH_KEY_PAIR);
        $this->assertEquals(['O-1' => $a, 'O-2' => $a, 'O-3' => $a, 'O-4' => $n], $owners);
        $db->close();
        $data = $this->fileBytes();
        foreach (self::PERSONAL as $v) {
            $this->assertFalse(str_contains($data, $v), "'$v' is still in the database file or its WAL");
        }
        $this->assertTrue(str_contains($data, 'Nebenan'));
        if ($wal) {
            $this->assertSame(0, filesize($this->file . '-wal'));
        }
    }

    public function testPdoStoreRollbackJournalFileHasNoErasedValue(): void
    {
        $this->eraseAndSearch(false);
    }

    public function testPdoStoreWalFileHasNoErasedValue(): void
    {
        $this->eraseAndSearch(true);
    }

    public function testPdoStoreInTheHostsTransactionPurgesAfterItsCommit(): void
    {
        $this->eraseAndSearch(true, true);
    }

    public function testPdoStoreFailureChangesNothing(): void
    {
        $pdo = $this->pdoFile(false);
        $store = new FailingRewriteStore($pdo);
        $store->createSchema();
        $db = Db::fromStore($store);
        $add = fn(string $o, int $id) => $pdo->prepare('INSERT INTO orders VALUES (?, ?, 1999)')->execute([$o, $id]);
        [$a] = self::mergedTwiceAndEdited($db, \Closure::fromCallable($add));
        $dump = fn() => (string) json_encode(array_map(
            fn($t) => $pdo->query("SELECT * FROM $t ORDER BY 1")->fetchAll(\PDO::FETCH_NUM),
            ['patron_customers', 'patron_keys', 'patron_journal', 'patron_used_numbers', 'patron_counters',
                'patron_meta', 'orders']
        ));
        $before = $dump();
        $store->fail = true;
        try {
            $db->erase($a, 'Art. 17', 'support');
            $this->fail('the failure was not reported');
        } catch (StoreException $e) {
            $this->assertInstanceOf(\RuntimeException::class, $e->getPrevious());
        }
        $this->assertSame($before, $dump());
        $store->fail = false;
        $db->erase($a, 'Art. 17', 'support');
        $this->assertSame('erased', $db->load($a)->state());
    }
}
