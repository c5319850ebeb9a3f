<?php

declare(strict_types=1);

namespace Patron;

/** Which customers Db::list() and a store's scan() select (patron_filter). */
final class Filter
{
    public const PENDING = 1;
    public const ACTIVE = 2;
    public const MERGED = 3;
    /** Personal data erased (Db::erase()). */
    public const ERASED = 4;
    /** patron_filter_lock */
    public const ANY = -1;
    public const UNLOCKED = 0;
    public const LOCKED = 1;

    /**
     * @param int|null    $state  null: any; else PENDING, ACTIVE, MERGED or ERASED
     * @param bool|null   $locked null: either
     * @param string|null $group  customer group name, null: any
     */
    public function __construct(
        public readonly ?int $state = null,
        public readonly ?bool $locked = null,
        public readonly ?string $group = null,
    ) {
    }

    /** A state given by name ("pending", "active", "merged", "erased") or number. */
    public static function stateOf(int|string|null $state): ?int
    {
        if ($state === null || $state === 0 || $state === 'any') {
            return null;
        }
        if (is_int($state)) {
            return $state;
        }
        return match ($state) {
            'pending' => self::PENDING,
            'active' => self::ACTIVE,
            'merged' => self::MERGED,
            'erased' => self::ERASED,
            default => throw new InvalidValueException("unknown state '$state'", FFI::E_INVALID),
        };
    }

    /** Does a record with these values pass? (for stores that filter in PHP) */
    public function accepts(int $state, bool $locked, ?string $group): bool
    {
        return ($this->state === null || $this->state === $state)
            && ($this->locked === null || $this->locked === $locked)
            && ($this->group === null || $this->group === $group);
    }
}
