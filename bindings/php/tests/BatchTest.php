<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Batch;
use Patron\BatchRowResult;
use Patron\Customer;
use Patron\Db;
use Patron\Dedupe;
use Patron\Exception;
use Patron\InvalidValueException;
use Patron\StateException;
use PHPUnit\Framework\TestCase;

/** Batches (patron/batch.h): customers one by one, or rows of values. */
final class BatchTest extends TestCase
{
    private const ROWS = [
        ['first_name' => 'Max', 'last_name' => 'Mustermann', 'email' => 'max@example.de',
            'address' => ['street' => 'Hauptstr.', 'house_number' => '12', 'postal_code' => '10115',
                'city' => 'Berlin']],
        ['first_name' => 'Erika', 'last_name' => 'Schmidt', 'email' => 'erika@example'],   // refused: email
        ['first_name' => 'Max', 'last_name' => 'Mustermann', 'email' => 'max@example.de',
            'address' => ['street' => 'Hauptstraße', 'house_number' => '12', 'postal_code' => '10115',
                'city' => 'Berlin'],
            'tags' => ['vip'], 'properties' => ['shop_id' => '17']],
        ['last_name' => 'Nummer', 'number' => 'K000100'],
        ['last_name' => 'Nochmal', 'number' => 'K000100'],                                 // refused: number twice
        ['last_name' => 'Land', 'address' => ['city' => 'Wien', 'country' => 'XX']],       // refused: country
        ['first_name' => 'Lena', 'last_name' => 'Krüger', 'birth_date' => '1980-05-17', 'newsletter' => true],
    ];

    private Db $db;

    protected function setUp(): void
    {
        $this->db = Db::memory();
    }

    /**
     * What Batch::add() gives for each row's customer, its values set in order.
     *
     * @param list<array<string,mixed>> $rows
     * @return array{0: list<list<mixed>>, 1: Dedupe}
     */
    private function oneByOne(array $rows): array
    {
        $b = $this->db->batch();
        $out = [];
        foreach ($rows as $row) {
            $c = new Customer();
            try {
                foreach ($row as $name => $value) {
                    if ($name === 'address') {
                        $i = $c->addAddress();
                        foreach ($value as $an => $av) {
                            $c->setAddress($i, [$an => $av]);
                        }
                    } elseif ($name === 'tags') {
                        foreach ($value as $t) {
                            $c->addTag($t);
                        }
                    } elseif ($name === 'properties') {
                        foreach ($value as $k => $v) {
                            $c->setProperty($k, $v);
                        }
                    } else {
                        $c->set($name, $value);
                    }
                }
                $b->add($c);
                $out[] = ['ok', $c->id(), $c->number, ''];
            } catch (Exception $e) {
                $names = [-2 => 'invalid', -4 => 'exists', -9 => 'state', -1 => 'nomem'];
                $out[] = [$names[$e->getCode()], 0, null, $e->getMessage()];
            }
        }
        return [$out, $b->run()];
    }

    /**
     * @param array<array-key,BatchRowResult> $res
     * @return list<list<mixed>>
     */
    private static function flat(array $res): array
    {
        return array_values(array_map(fn(BatchRowResult $r) => [$r->status, $r->id, $r->number, $r->error], $res));
    }

    public function testAcceptedRowsGetIdsAndNumbers(): void
    {
        $b = $this->db->batch();
        $res = $b->addRows([
            ['first_name' => 'Max', 'last_name' => 'Mustermann'],
            ['last_name' => 'Schmidt', 'number' => 'K000042'],
            ['last_name' => 'Meyer'],
        ]);
        $this->assertSame(['ok', 'ok', 'ok'], array_map(fn($r) => $r->status, $res));
        $this->assertSame([1, 2, 3], array_map(fn($r) => $r->id, $res));
        $this->assertSame(['K000001', 'K000042', 'K000002'], array_map(fn($r) => $r->number, $res));
        $this->assertSame(['', '', ''], array_map(fn($r) => $r->error, $res));
        $this->assertSame([null, null, null], array_map(fn($r) => $r->field, $res));
        $this->assertTrue($res[0]->isOk());
        $this->assertSame(3, $b->count());
    }

    public function testRefusedRowReportsItsFieldAndMessage(): void
    {
        $setter = '';
        try {
            $c = new Customer();
            $c->email = 'erika@example';
            $this->fail('the setter must refuse the email');
        } catch (InvalidValueException $e) {
            $setter = $e->getMessage();
        }
        $b = $this->db->batch();
        $res = $b->addRows(self::ROWS);
        $r = $res[1];
        $this->assertFalse($r->isOk());
        $this->assertSame(['invalid', -2, 0, null], [$r->status, $r->code, $r->id, $r->number]);
        $this->assertSame('email', $r->field);
        $this->assertSame($setter, $r->error);
        try {
            $r->throwIfRefused();
            $this->fail('a refused row throws');
        } catch (InvalidValueException $e) {
            $this->assertSame($setter, $e->getMessage());
        }
        $this->assertSame(['invalid', 'address.country'], [$res[5]->status, $res[5]->field]);
        $this->assertSame(['exists', null], [$res[4]->status, $res[4]->field]);
        $this->assertStringContainsString('K000100', $res[4]->error);
        $ids = array_values(array_map(fn($r) => $r->id, array_filter($res, fn($r) => $r->isOk())));
        $this->assertSame([1, 2, 3, 4], $ids);
        $this->assertSame(4, $b->count());
    }

    public function testRowsEqualAddingOneByOne(): void
    {
        [$expected, $pairsOne] = $this->oneByOne(self::ROWS);
        $b = $this->db->batch();
        $this->assertSame($expected, self::flat($b->addRows(self::ROWS)));
        $pairs = $b->run();
        $this->assertEquals($pairsOne->pairs, $pairs->pairs);
        $this->assertSame($pairsOne->clusters, $pairs->clusters);
        $this->assertSame(1, $pairs->pairs[0]->idA);
        $this->assertSame(2, $pairs->pairs[0]->idB);
        $this->assertSame('merge', $pairs->pairs[0]->decision);
        // in two calls: the ids go on
        $b2 = $this->db->batch();
        $first = self::flat($b2->addRows(array_slice(self::ROWS, 0, 3)));
        $rest = self::flat($b2->addRows(array_slice(self::ROWS, 3)));
        $this->assertSame($expected, array_merge($first, $rest));
    }

    public function testResultsKeepTheRowsKeys(): void
    {
        $res = $this->db->batch()->addRows(['a' => ['last_name' => 'A'], 'b' => ['email' => 'x']]);
        $this->assertSame(['a', 'b'], array_keys($res));
        $this->assertSame('email', $res['b']->field);
    }

    public function testValueWithANulInsideIsRefusedNotCut(): void
    {
        $b = $this->db->batch();
        $r = $b->addRows([['first_name' => 'Max', 'last_name' => "Muster\0mann"]])[0];
        $this->assertSame(['invalid', 'last_name'], [$r->status, $r->field]);
        $this->assertSame(0, $b->count());
    }

    public function testManyRowsBuiltForTheCall(): void
    {
        $rows = [];
        for ($i = 0; $i < 300; $i++) {
            $rows[] = ['last_name' => 'Name' . $i, 'email' => "u$i@example.de", 'properties' => ['k' => "v$i"]];
        }
        $b = $this->db->batch();
        $res = $b->addRows($rows);
        $this->assertSame(range(1, 300), array_map(fn($r) => $r->id, $res));
        $this->assertSame(300, $b->count());
    }

    public function testTagsPropertiesAndBirthDateAsGiven(): void
    {
        $res = $this->db->batch()->addRows([
            ['last_name' => 'A', 'tags' => ['vip', '']],
            ['last_name' => 'B', 'birth_date_as_given' => '1902-78-03'],
            ['last_name' => 'C', 'birth_date_as_given' => '1980-05-17'],
            ['last_name' => 'D', 'properties' => ['shop_id' => "x\x01"]],
        ]);
        $this->assertSame(
            [['invalid', 'tags'], ['ok', null], ['invalid', 'birth_date_as_given'], ['invalid', 'properties.shop_id']],
            array_map(fn($r) => [$r->status, $r->field], $res)
        );
    }

    public function testCheckRowAddsNothing(): void
    {
        $b = $this->db->batch();
        $ok = $b->checkRow(['last_name' => 'Muster', 'number' => 'K000007']);
        $this->assertSame(['ok', 0, null, ''], [$ok->status, $ok->id, $ok->number, $ok->error]);
        $bad = $b->checkRow(['last_name' => 'Muster', 'email' => 'nope']);
        $this->assertSame(['invalid', 'email'], [$bad->status, $bad->field]);
        $this->assertSame(0, $b->count());
        $b->addRows([['last_name' => 'X', 'number' => 'K000007']]);
        $this->assertTrue($b->checkRow(['last_name' => 'Y', 'number' => 'K000007'])->isOk());
    }

    public function testBadRowsThrowAndAddNothing(): void
    {
        $b = $this->db->batch();
        foreach (
            [
                [['last_name' => 'A'], ['no_such_field' => 'x']],
                [['last_name' => 'A'], 'last_name'],
                [['last_name' => 'A', 'address' => ['nowhere' => 'x']]],
                [['last_name' => 'A', 'addresses' => [['city' => 'X'], ['city' => 'Y']]]],
                [['last_name' => 'A', 'tags' => 'vip']],
            ] as $bad
        ) {
            try {
                $b->addRows($bad);
                $this->fail('refused: ' . json_encode($bad));
            } catch (InvalidValueException $e) {
                $this->assertNotSame('', $e->getMessage());
            }
        }
        $this->assertSame(0, $b->count());
        $this->assertSame([], $b->addRows([]));
    }

    public function testNoRowsAfterRun(): void
    {
        $b = $this->db->batch();
        $b->addRows([['last_name' => 'A']]);
        $b->run();
        $this->expectException(StateException::class);
        $b->addRows([['last_name' => 'B']]);
    }

    public function testBatchPairsAreTheStoresPairs(): void
    {
        $rows = array_values(array_filter(self::ROWS, fn($r) => !isset($r['number'])));
        foreach ($rows as $row) {
            if (isset($row['address'])) {
                $row['addresses'] = [$row['address']];
                unset($row['address']);
            }
            try {
                $this->db->create($row);
            } catch (InvalidValueException) {
            }
        }
        $b = $this->db->batch();
        $b->addRows($rows);
        $stored = $this->db->dedupe()->pairs;
        $this->assertNotEmpty($stored);
        $this->assertEquals($stored, $b->run()->pairs);
        $this->assertInstanceOf(Batch::class, $b);
    }
}
