<?php

declare(strict_types=1);

namespace Patron;

/**
 * What a batch made of one row (Batch::addRows(), Batch::checkRow()): the
 * members of its patron_batch_row the library wrote, copied out.
 */
final class BatchRowResult
{
    public function __construct(
        /** "ok", or the status of the refusal: "invalid", "exists", "state", "nomem". */
        public readonly string $status,
        /** The patron_status: 0, or negative as the exceptions' getCode(). */
        public readonly int $code,
        /** Added: its id in the pairs (1, 2, ...); else 0. */
        public readonly int $id,
        /** Added: its customer number, given or made; else null. */
        public readonly ?string $number,
        /** Refused: why, in the words of the setter or create that refused it; else "". */
        public readonly string $error,
        /**
         * Refused for one value: the row's key it came from ("email",
         * "address.street", "tags", "properties.<key>",
         * "birth_date_as_given"); null when refused for the row as a whole
         * (or not refused).
         */
        public readonly ?string $field,
    ) {
    }

    public function isOk(): bool
    {
        return $this->code === FFI::OK;
    }

    /** Throw the exception a refused row stands for (nothing when it was added). */
    public function throwIfRefused(): void
    {
        if ($this->code !== FFI::OK) {
            throw Exception::forStatus($this->code, $this->error);
        }
    }
}
