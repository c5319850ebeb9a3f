<?php

declare(strict_types=1);

namespace Patron;

/**
 * One address of a customer, as `$customer->addresses[$i]` gives it: a live
 * view that reads and writes the record, by array key or property:
 *
 *     $a = $c->addresses[0];
 *     $a['city'] = 'Graz';                // or $a->city = 'Graz'; checked at once
 *     echo $a['postal_code'];
 *
 * Reading a field that is not set gives null; an unknown field name throws
 * InvalidValueException.  The view refers to position $i: after an address
 * before it is removed, it refers to the next one.
 *
 * @implements \ArrayAccess<string,string|bool|null>
 * @implements \IteratorAggregate<string,string|bool>
 */
final class Address implements \ArrayAccess, \Countable, \IteratorAggregate, \JsonSerializable
{
    /** @internal */
    public function __construct(private readonly Customer $customer, public readonly int $index)
    {
    }

    public function offsetExists(mixed $offset): bool
    {
        return $this->offsetGet($offset) !== null;
    }

    public function offsetGet(mixed $offset): string|bool|null
    {
        $name = self::name($offset);
        Fields::addressId($name); // an unknown name throws
        return $this->customer->address($this->index)[$name] ?? null;
    }

    public function offsetSet(mixed $offset, mixed $value): void
    {
        $this->customer->setAddress($this->index, [self::name($offset) => $value]);
    }

    public function offsetUnset(mixed $offset): void
    {
        $this->customer->setAddress($this->index, [self::name($offset) => null]);
    }

    public function __get(string $name): string|bool|null
    {
        return $this->offsetGet($name);
    }

    public function __set(string $name, mixed $value): void
    {
        $this->offsetSet($name, $value);
    }

    public function __isset(string $name): bool
    {
        return $this->offsetExists($name);
    }

    public function __unset(string $name): void
    {
        $this->offsetUnset($name);
    }

    /** The number of fields set. */
    public function count(): int
    {
        return count($this->toArray());
    }

    /** @return \ArrayIterator<string,string|bool> */
    public function getIterator(): \ArrayIterator
    {
        return new \ArrayIterator($this->toArray());
    }

    /** @return array<string,string|bool> the fields that are set */
    public function toArray(): array
    {
        return $this->customer->address($this->index);
    }

    /** @return array<string,string|bool> */
    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    private static function name(mixed $offset): string
    {
        if (!is_string($offset)) {
            throw new InvalidValueException('an address field is named by a string, not '
                . get_debug_type($offset), FFI::E_INVALID);
        }
        return $offset;
    }
}
