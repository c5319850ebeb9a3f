<?php

declare(strict_types=1);

namespace Patron;

/**
 * `$customer->properties`: a live view of a customer's custom properties
 * that writes the record itself:
 *
 *     $c->properties['loyalty.level'] = 'gold';   // sets one (checked at once)
 *     unset($c->properties['loyalty.level']);     // removes it
 *     $c->properties = ['a' => '1'];              // replaces them all
 *
 * Reading a key that is not there gives null.
 *
 * @implements \ArrayAccess<string,?string>
 * @implements \IteratorAggregate<string,string>
 */
final class PropertyMap implements \ArrayAccess, \Countable, \IteratorAggregate, \JsonSerializable
{
    /** @internal */
    public function __construct(private readonly Customer $customer)
    {
    }

    public function count(): int
    {
        return count($this->toArray());
    }

    public function offsetExists(mixed $offset): bool
    {
        return $this->customer->property(self::key($offset)) !== null;
    }

    public function offsetGet(mixed $offset): ?string
    {
        return $this->customer->property(self::key($offset));
    }

    public function offsetSet(mixed $offset, mixed $value): void
    {
        $this->customer->setProperty(self::key($offset), Fields::toText($value));
    }

    public function offsetUnset(mixed $offset): void
    {
        $this->customer->setProperty(self::key($offset), null);
    }

    /** @return \ArrayIterator<string,string> */
    public function getIterator(): \ArrayIterator
    {
        return new \ArrayIterator($this->toArray());
    }

    /** @return array<string,string> */
    public function toArray(): array
    {
        return $this->customer->properties();
    }

    /** @return array<string,string> */
    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    private static function key(mixed $offset): string
    {
        if (!is_string($offset) && !is_int($offset)) {
            throw new InvalidValueException('a property is named by a string key; $properties[] = ... has '
                . 'no key', FFI::E_INVALID);
        }
        return (string) $offset;
    }
}
