<?php

declare(strict_types=1);

namespace Patron;

/** A match candidate: a stored customer, its score, the verdict, and why. */
final class Candidate
{
    /**
     * @param string $decision "merge" (the same customer), "review" (perhaps) or
     *        "household" (another person of the same household)
     * @param list<array<string,string|float|bool|int>> $explanation
     *        per compared field (keys field, a, b, level, weight, level_weight,
     *        frequency, holders, customers): the two normalised values (the customer's and
     *        the candidate's, "" when missing), the comparison level
     *        ("exact", "phonetic", ...), the weight it added to the score and,
     *        when the value's frequency adjusted it (frequency true), how many
     *        of how many customers hold it and the level's own weight
     * @param float  $probability the match probability, 2^score / (1 + 2^score)
     * @param string $rule the safety rule that decided ("household", "other_names",
     *        "shared_email", "name_only", "name_change", "own_evidence",
     *        "other_building"), "" when the probability alone decided
     */
    public function __construct(
        public readonly int $id,
        public readonly float $score,
        public readonly string $decision,
        public readonly array $explanation = [],
        public readonly float $probability = 0.0,
        public readonly string $rule = '',
        public readonly float $prior = 0.0,
        public readonly float $adjustment = 0.0,
    ) {
    }

    /** The explanation of one field, or null. */
    public function field(string $name): ?array
    {
        foreach ($this->explanation as $e) {
            if ($e['field'] === $name) {
                return $e;
            }
        }
        return null;
    }
}
