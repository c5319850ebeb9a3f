<?php

declare(strict_types=1);

namespace Patron;

/**
 * `$customer->addresses`: a live view of a customer's addresses that reads
 * and writes the record itself, so that
 *
 *     $c->addresses[0]['city'] = 'Graz';          // sets the field (checked at once)
 *     $c->addresses[] = ['city' => 'Wien'];       // appends an address
 *     unset($c->addresses[1]);                    // removes one (the later ones move up)
 *     $c->addresses = [...];                      // replaces them all
 *
 * change the customer, never a copy.  toArray() gives the plain list.
 *
 * @implements \ArrayAccess<int,Address>
 * @implements \IteratorAggregate<int,Address>
 */
final class AddressList implements \ArrayAccess, \Countable, \IteratorAggregate, \JsonSerializable
{
    /** @internal */
    public function __construct(private readonly Customer $customer)
    {
    }

    public function count(): int
    {
        return $this->customer->addressCount();
    }

    public function offsetExists(mixed $offset): bool
    {
        return is_int($offset) && $offset >= 0 && $offset < $this->count();
    }

    public function offsetGet(mixed $offset): Address
    {
        return new Address($this->customer, $this->index($offset));
    }

    /** $list[] = [...] appends; $list[$i] = [...] replaces address $i as a whole. */
    public function offsetSet(mixed $offset, mixed $value): void
    {
        $fields = $value instanceof Address ? $value->toArray() : $value;
        if (!is_array($fields)) {
            throw new InvalidValueException('an address must be an array of address fields, not '
                . get_debug_type($value), FFI::E_INVALID);
        }
        if ($offset === null || $offset === $this->count()) {
            $this->customer->addAddress($fields);
            return;
        }
        $i = $this->index($offset);
        $old = $this->customer->address($i);
        $clear = array_fill_keys(array_keys(Fields::address()), null);
        try {
            $this->customer->setAddress($i, array_merge($clear, $fields));
        } catch (\Throwable $e) {
            $this->customer->setAddress($i, array_merge($clear, $old)); // as it was
            throw $e;
        }
    }

    public function offsetUnset(mixed $offset): void
    {
        $this->customer->removeAddress($this->index($offset));
    }

    /** @return \Generator<int,Address> */
    public function getIterator(): \Generator
    {
        for ($i = 0, $n = $this->count(); $i < $n; $i++) {
            yield $i => new Address($this->customer, $i);
        }
    }

    /** @return list<array<string,string|bool>> */
    public function toArray(): array
    {
        return $this->customer->addresses();
    }

    /** @return list<array<string,string|bool>> */
    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    private function index(mixed $offset): int
    {
        if (!is_int($offset) || $offset < 0 || $offset >= $this->count()) {
            throw new RangeException('no address ' . var_export($offset, true) . ' (the customer has '
                . $this->count() . ')', FFI::E_RANGE);
        }
        return $offset;
    }
}
