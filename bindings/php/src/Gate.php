<?php

declare(strict_types=1);

namespace Patron;

/** The login and order gate's answer (patron_gate). */
final class Gate
{
    private const VERDICTS = ['allowed', 'locked', 'pending', 'unknown', 'merged', 'erased'];

    /**
     * @param string $verdict    "allowed", "locked", "pending", "unknown", "merged" or "erased"
     * @param int    $customerId the customer (the survivor for "merged"), or 0
     * @param string $text       the library's short text for the verdict
     */
    public function __construct(
        public readonly string $verdict,
        public readonly int $customerId,
        public readonly string $text,
    ) {
    }

    /** @internal */
    public static function of(int $verdict, int $customerId): self
    {
        return new self(
            self::VERDICTS[$verdict] ?? "verdict $verdict",
            $customerId,
            (string) FFI::lib()->patron_gate_name($verdict)
        );
    }

    public function allowed(): bool
    {
        return $this->verdict === 'allowed';
    }
}
