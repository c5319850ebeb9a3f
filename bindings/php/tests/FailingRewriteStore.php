<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\PdoStore;

/** A PdoStore whose journalRewrite() fails after doing its work, on demand. */
final class FailingRewriteStore extends PdoStore
{
    public bool $fail = false;

    public function journalRewrite(int $id, string $payload): void
    {
        parent::journalRewrite($id, $payload);
        if ($this->fail) {
            throw new \RuntimeException("disk full while rewriting journal entry $id");
        }
    }
}
