<?php

declare(strict_types=1);

namespace Patron;

/**
 * The state of a review case (patron_case_state), a string-backed enum:
 * CaseState::NotDuplicate->value === 'not_duplicate', and the decisions
 * take the enum or its string.
 */
enum CaseState: string
{
    case Open = 'open';
    case Merged = 'merged';
    case NotDuplicate = 'not_duplicate';
    case Household = 'household';
    case Deferred = 'deferred';

    /** The C value (PATRON_CASE_*). */
    public function code(): int
    {
        return match ($this) {
            self::Open => 0,
            self::Merged => 1,
            self::NotDuplicate => 2,
            self::Household => 3,
            self::Deferred => 4,
        };
    }

    /** From the enum or its token; 'distinct' is not_duplicate. */
    public static function of(self|string $s): self
    {
        if ($s instanceof self) {
            return $s;
        }
        $v = self::tryFrom($s === 'distinct' ? 'not_duplicate' : $s);
        if ($v === null) {
            throw new InvalidValueException(
                "unknown case state '$s' (one of: open, merged, not_duplicate, household, deferred)",
                FFI::E_INVALID
            );
        }
        return $v;
    }
}
