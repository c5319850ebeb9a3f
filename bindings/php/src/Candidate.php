<?php

declare(strict_types=1);

namespace Patron;

/** A match candidate: a stored customer, its score, the verdict, and why. */
final class Candidate
{
    /**
     * @param string $decision "merge" (the same customer) or "review" (perhaps)
     * @param list<array{field:string,a:string,b:string,level:string,weight:float}> $explanation
     *        per compared field: the two normalised values (the customer's and
     *        the candidate's, "" when missing), the comparison level
     *        ("exact", "phonetic", ...) and the weight it added to the score
     */
    public function __construct(
        public readonly int $id,
        public readonly float $score,
        public readonly string $decision,
        public readonly array $explanation = [],
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
