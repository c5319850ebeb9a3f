<?php

declare(strict_types=1);

namespace Patron;

/** A pair found by Db::dedupe(): idA < idB. */
final class Pair
{
    public function __construct(
        public readonly int $idA,
        public readonly int $idB,
        public readonly float $score,
        public readonly string $decision,
    ) {
    }
}
