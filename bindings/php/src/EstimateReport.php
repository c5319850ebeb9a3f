<?php

declare(strict_types=1);

namespace Patron;

/** What Db::estimate() did (patron_estimate_report). */
final class EstimateReport
{
    /**
     * @param list<string> $flags why the model was kept: 'not_converged', 'too_few', 'degenerate'
     */
    public function __construct(
        /** the estimated model is stored in the store and in force */
        public readonly bool $stored,
        /** every EM pass with enough pairs converged to a usable estimate */
        public readonly bool $converged,
        public readonly array $flags,
        public readonly int $customers,
        public readonly int $candidatePairs,
        public readonly int $randomPairs,
        public readonly int $iterations,
        /** expected number of duplicate pairs in the store */
        public readonly float $matches,
        /** P(two random customers are one person) */
        public readonly float $prior,
        public readonly float $seconds,
        /** one line for people: what was done, or why the defaults were kept */
        public readonly string $message,
    ) {
    }
}
