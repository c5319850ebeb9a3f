<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Db;
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
}
