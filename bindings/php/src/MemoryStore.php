<?php

declare(strict_types=1);

namespace Patron;

/**
 * The library's memory store (patron_memstore), shared by the Db handles
 * opened on it with Db::memory($store).  It can keep references of the host
 * (orders, invoices) so that merges re-link them and undo moves them back.
 * Freed when the last Db on it and this object are gone.
 */
final class MemoryStore
{
    private \FFI\CData $ptr;

    public function __construct()
    {
        $lib = FFI::lib();
        $p = $lib->new('patron_memstore*');
        $st = $lib->patron_memstore_new(\FFI::addr($p));
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
        $this->ptr = $p;
    }

    public function __destruct()
    {
        if (isset($this->ptr)) {
            FFI::lib()->patron_memstore_free($this->ptr);
            unset($this->ptr);
        }
    }

    /** @internal */
    public function cdata(): \FFI\CData
    {
        return $this->ptr;
    }

    /**
     * Keep reference `$refId` of `$kind` ("order") for customer $customerId
     * (0 removes it).  A pinned reference cannot move: a merge of its
     * customer is refused with a reason.
     */
    public function setRef(string $kind, string $refId, int $customerId, bool $pinned = false): void
    {
        $st = FFI::lib()->patron_memstore_set_ref($this->ptr, $kind, $refId, $customerId, $pinned ? 1 : 0);
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
    }

    /** The customer a reference belongs to (0: unknown reference). */
    public function refOwner(string $kind, string $refId): int
    {
        return (int) FFI::lib()->patron_memstore_ref_owner($this->ptr, $kind, $refId);
    }
}
