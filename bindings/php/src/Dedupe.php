<?php

declare(strict_types=1);

namespace Patron;

/** The result of Db::dedupe(), copied out of the library's patron_pairs. */
final class Dedupe
{
    /**
     * @param list<Pair>      $pairs    every MERGE or REVIEW pair, by idA then idB
     * @param array<int,int>  $clusters customer id => cluster id (the smallest id of its cluster),
     *                                  for customers in a MERGE pair
     */
    public function __construct(
        public readonly array $pairs,
        public readonly array $clusters,
        /** @var array<int,int> customer id => household id (the closure of its MERGE and HOUSEHOLD pairs) */
        public readonly array $households = [],
    ) {
    }

    /** The household of customer $id ("one catalogue per household"), or 0. */
    public function household(int $id): int
    {
        return $this->households[$id] ?? 0;
    }

    /** The cluster of customer $id, or 0 if no MERGE pair holds it. */
    public function cluster(int $id): int
    {
        return $this->clusters[$id] ?? 0;
    }

    /** @return array<int,list<int>> cluster id => its customer ids, ascending */
    public function groups(): array
    {
        $out = [];
        foreach ($this->clusters as $id => $cluster) {
            $out[$cluster][] = $id;
        }
        foreach ($out as &$ids) {
            sort($ids);
        }
        ksort($out);
        return $out;
    }
}
