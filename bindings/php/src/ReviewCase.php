<?php

declare(strict_types=1);

namespace Patron;

/**
 * A duplicate case of the review queue (a snapshot): the cluster is
 * $members, a list of customer ids, as in the Python binding.
 */
final class ReviewCase
{
    /**
     * @param list<int> $members
     * @param list<array{a: int, b: int, score: float, decision: string, fields: list<array<string, mixed>>}> $pairs
     */
    public function __construct(
        public readonly int $id,
        public readonly CaseState $state,
        public readonly string $verdict,
        public readonly float $score,
        public readonly array $members,
        public readonly array $pairs,
        public readonly string $reason,
        public readonly ?string $decidedBy,
        public readonly int $decidedAt,
        public readonly ?string $note,
        public readonly int $journal,
        public readonly ?string $change,
        public readonly int $createdAt,
        public readonly int $updatedAt,
    ) {
    }

    /** @param array<string, mixed> $d the JSON of patron_case_to_json() */
    public static function fromArray(array $d): self
    {
        $pairs = [];
        foreach ($d['pairs'] ?? [] as $p) {
            $pairs[] = ['a' => (int) $p['a'], 'b' => (int) $p['b'], 'score' => (float) $p['score'],
                'decision' => (string) $p['decision'], 'fields' => $p['fields'] ?? []];
        }
        return new self(
            (int) $d['id'],
            CaseState::from((string) $d['state']),
            (string) $d['verdict'],
            (float) $d['score'],
            array_map('intval', $d['members']),
            $pairs,
            (string) ($d['reason'] ?? ''),
            isset($d['decided_by']) ? (string) $d['decided_by'] : null,
            (int) ($d['decided_at'] ?? 0),
            isset($d['note']) ? (string) $d['note'] : null,
            (int) ($d['journal'] ?? 0),
            isset($d['change']) ? (string) $d['change'] : null,
            (int) ($d['created_at'] ?? 0),
            (int) ($d['updated_at'] ?? 0),
        );
    }
}
