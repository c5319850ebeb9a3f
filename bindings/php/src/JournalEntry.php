<?php

declare(strict_types=1);

namespace Patron;

/** A journal entry as a store keeps it (patron_journal_entry). */
final class JournalEntry
{
    /**
     * @param string $payload JSON written and read by the library: opaque to a
     *                        store, which keeps it as it is (it holds
     *                        before-images, password hashes included)
     */
    public function __construct(
        public int $id,
        public int $time,
        public string $kind,
        public int $customerId,
        public int $undoneBy,
        public string $payload,
    ) {
    }
}
