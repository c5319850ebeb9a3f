<?php

declare(strict_types=1);

namespace Patron;

/**
 * The result of Db::dedupe(), copied out of the library's patron_pairs; the
 * same shape as the Python binding's Dedupe.
 */
final class Dedupe
{
    /**
     * @param list<Pair>            $pairs    every MERGE or REVIEW pair, by idA then idB
     * @param array<int,list<int>>  $clusters cluster id (the smallest id of its cluster) => its customer
     *                                        ids, ascending: the transitive closure of the MERGE pairs
     * @param array<int,list<int>>  $households household id => its customer ids, ascending: the
     *                                        closure of the MERGE and HOUSEHOLD pairs
     */
    public function __construct(
        public readonly array $pairs,
        public readonly array $clusters,
        public readonly array $households = [],
    ) {
    }

    /** The household of customer $id ("one catalogue per household"), or 0. */
    public function householdOf(int|Customer $id): int
    {
        $id = $id instanceof Customer ? $id->id() : $id;
        foreach ($this->households as $household => $members) {
            if (in_array($id, $members, true)) {
                return $household;
            }
        }
        return 0;
    }

    /** The cluster of customer $id, or 0 if no MERGE pair holds it. */
    public function clusterOf(int|Customer $id): int
    {
        $id = $id instanceof Customer ? $id->id() : $id;
        foreach ($this->clusters as $cluster => $members) {
            if (in_array($id, $members, true)) {
                return $cluster;
            }
        }
        return 0;
    }
}
