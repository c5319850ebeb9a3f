<?php

declare(strict_types=1);

namespace Patron;

/**
 * Base of every error the binding throws.  getCode() is the library's
 * patron_status (negative), or 0 for errors of the binding itself; the
 * message is the library's message for the call that failed.
 */
class Exception extends \RuntimeException
{
    /** The exception class for each patron_status. */
    private const CLASSES = [
        FFI::E_NOMEM => OutOfMemoryException::class,
        FFI::E_INVALID => InvalidValueException::class,
        FFI::E_NOT_FOUND => NotFoundException::class,
        FFI::E_EXISTS => ExistsException::class,
        FFI::E_CONFLICT => ConflictException::class,
        FFI::E_STORE => StoreException::class,
        FFI::E_UNSUPPORTED => UnsupportedException::class,
        FFI::E_ABI => AbiException::class,
        FFI::E_STATE => StateException::class,
        FFI::E_AMBIGUOUS => AmbiguousException::class,
        FFI::E_RANGE => RangeException::class,
        FFI::E_LOCKED => LockedException::class,
    ];

    /** The patron_status of the failure (same as getCode()). */
    public function status(): int
    {
        return $this->getCode();
    }

    public static function forStatus(int $status, string $message, ?\Throwable $previous = null): self
    {
        $class = self::CLASSES[$status] ?? self::class;
        return new $class($message, $status, $previous);
    }

    /** The patron_status a store callback returns for this throwable. */
    public static function statusOf(\Throwable $e): int
    {
        if ($e instanceof self && $e->getCode() < 0) {
            return $e->getCode();
        }
        return FFI::E_STORE;
    }
}
