<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Customer;
use Patron\Db;
use Patron\InvalidValueException;
use Patron\MemoryStore;
use Patron\StateException;

/** The contract over the library's memory store; orders kept by the memory store. */
final class MemoryStoreTest extends StoreContract
{
    private MemoryStore $store;

    protected function openDb(): Db
    {
        $this->store = new MemoryStore();
        return Db::memory($this->store);
    }

    protected function addOrder(string $ref, int $customerId): void
    {
        $this->store->setRef('order', $ref, $customerId);
    }

    protected function orderOwner(string $ref): int
    {
        return $this->store->refOwner('order', $ref);
    }

    public function testSharedStoreAndPinnedReferences(): void
    {
        $a = $this->db->create(['last_name' => 'A']);
        $b = $this->db->create(['last_name' => 'B']);
        $second = Db::memory($this->store);
        $this->assertSame('A', $second->load($a->id)->last_name);
        $this->store->setRef('contract', 'V-1', $b->id, true);
        try {
            $second->merge($a->id, [$b->id]);
            $this->fail('a pinned reference keeps its customer from merging');
        } catch (StateException $e) {
            $this->assertStringContainsString('V-1', $e->getMessage());
        }
        $this->assertSame('active', $this->db->load($b->id)->state);
        $second->close();
        $second->close(); // closing twice is harmless
        $this->expectException(StateException::class);
        $second->load($a->id);
    }

    public function testPrivateMemoryStore(): void
    {
        $db = Db::memory();
        $c = $db->create(['last_name' => 'Allein']);
        $this->assertSame('K000001', $c->number);
        $this->assertNull($db->store());
        $db->setNumberFormat('KD-', 4);
        $this->assertSame('KD-0002', $db->create(['last_name' => 'Zwei'])->number);
    }

    public function testIndexStateAndReindex(): void
    {
        $db = Db::memory();
        $this->assertSame('current', $db->indexState()['state']);
        $db->create(['last_name' => 'Allein', 'email' => 'allein@example.de']);
        $db->create(['last_name' => 'Zwei']);
        $st = $db->indexState();
        $this->assertSame('current', $st['state']);
        $this->assertGreaterThanOrEqual(1, $st['current']);
        $this->assertSame($st['current'], $st['generation']);
        $this->assertSame(2, $db->reindex());
        $this->assertSame('Allein', $db->findByEmail('allein@example.de')->get('last_name'));
    }

    public function testEveryCustomerParameterTakesAnIdOrACustomer(): void
    {
        $max = $this->db->create(self::MAX);
        $twin = $this->db->create(self::MAX_SHOP);
        $jana = $this->db->create(self::JANA);
        // match: an id, a stored Customer, or the fields of a new one give the same candidates.
        $byId = array_map(fn($c) => [$c->id, $c->decision], $this->db->match($twin->id));
        $this->assertSame([[$max->id, 'merge']], $byId);
        $this->assertSame($byId, array_map(fn($c) => [$c->id, $c->decision], $this->db->match($twin)));
        $this->assertSame($max->id, $this->db->match(self::MAX_SHOP)[0]->id);
        $this->assertSame($jana->id, $this->db->load($jana)->id);
        $this->db->lock($jana, 'chargeback');
        $this->assertTrue($this->db->load($jana->id)->locked);
        $this->assertSame('locked', $this->db->canOrder($jana)->verdict);
        $this->db->unlock($jana);
        $this->assertSame('allowed', $this->db->canOrder($jana)->verdict);
        $this->db->groupAdd('Händler');
        $this->db->groupAssign('Händler', $jana);
        $this->assertSame('Händler', $this->db->load($jana->id)->group);
        $this->assertSame([$jana->id], array_column($this->db->export([$jana]), 'id'));
        $plan = $this->db->mergePlan($max, $twin);
        $this->assertSame(2, $plan->count());
        $this->assertSame($twin->id, $plan->record(1)->id);
        $journalId = $this->db->merge($max, [$twin]);
        $this->assertSame($max->id, $this->db->load($twin->id)->merged_into);
        $this->db->undo($journalId);
        $pending = $this->db->register(['last_name' => 'Neu', 'email' => 'neu@example.de']);
        $this->assertMatchesRegularExpression('/^K\d+$/', $this->db->release($pending));
        // A Customer never saved has no id: refused with a clear message, nothing changed.
        try {
            $this->db->lock(new Customer(['last_name' => 'Nie']), 'x');
            $this->fail('locked a customer that has no id');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('never saved', $e->getMessage());
        }
        try {
            $this->db->mergePlan($max, [$twin, 'drei']);
            $this->fail('a string among the duplicates');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('duplicates[1]', $e->getMessage());
        }
    }
}
