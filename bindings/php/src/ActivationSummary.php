<?php

declare(strict_types=1);

namespace Patron;

/** What Db::activatePending() did: counts and one Activation per customer. */
final class ActivationSummary
{
    /** @param list<Activation> $results */
    public function __construct(
        public readonly int $activated,
        public readonly int $merged,
        public readonly int $review,
        public readonly int $failed,
        public readonly array $results,
    ) {
    }
}
