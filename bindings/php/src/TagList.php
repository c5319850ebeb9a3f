<?php

declare(strict_types=1);

namespace Patron;

/**
 * `$customer->tags`: a live view of a customer's tags that writes the
 * record itself:
 *
 *     $c->tags[] = 'vip';                 // adds a tag (once)
 *     unset($c->tags[0]);                 // removes the first
 *     $c->tags = ['a', 'b'];              // replaces them all
 *     in_array('vip', $c->tags->toArray(), true) === $c->tags->contains('vip');
 *
 * @implements \ArrayAccess<int,string>
 * @implements \IteratorAggregate<int,string>
 */
final class TagList implements \ArrayAccess, \Countable, \IteratorAggregate, \JsonSerializable
{
    /** @internal */
    public function __construct(private readonly Customer $customer)
    {
    }

    public function contains(string $tag): bool
    {
        return $this->customer->hasTag($tag);
    }

    public function count(): int
    {
        return count($this->toArray());
    }

    public function offsetExists(mixed $offset): bool
    {
        return is_int($offset) && isset($this->toArray()[$offset]);
    }

    public function offsetGet(mixed $offset): string
    {
        return $this->toArray()[$this->index($offset)];
    }

    /** $tags[] = 'x' adds a tag; $tags[$i] = 'x' replaces tag $i. */
    public function offsetSet(mixed $offset, mixed $value): void
    {
        if (!is_string($value)) {
            throw new InvalidValueException(
                'a tag must be a string, not ' . get_debug_type($value),
                FFI::E_INVALID
            );
        }
        if ($offset === null) {
            $this->customer->addTag($value);
            return;
        }
        $tags = $this->toArray();
        $tags[$this->index($offset)] = $value;
        $this->customer->setTags($tags);
    }

    public function offsetUnset(mixed $offset): void
    {
        $this->customer->removeTag($this->offsetGet($offset));
    }

    /** @return \ArrayIterator<int,string> */
    public function getIterator(): \ArrayIterator
    {
        return new \ArrayIterator($this->toArray());
    }

    /** @return list<string> */
    public function toArray(): array
    {
        return $this->customer->tags();
    }

    /** @return list<string> */
    public function jsonSerialize(): array
    {
        return $this->toArray();
    }

    private function index(mixed $offset): int
    {
        if (!is_int($offset) || !isset($this->toArray()[$offset])) {
            throw new RangeException('no tag ' . var_export($offset, true), FFI::E_RANGE);
        }
        return $offset;
    }
}
