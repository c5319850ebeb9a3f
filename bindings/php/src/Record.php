<?php

declare(strict_types=1);

namespace Patron;

/**
 * A record the library hands to a store callback (insert, update): valid
 * only during that call.  A store keeps it with pack() and may copy the
 * columns it wants to query (number, email, state, group) with get().
 */
final class Record
{
    private ?\FFI\CData $ptr;

    /** @internal */
    public function __construct(\FFI\CData $ptr)
    {
        $this->ptr = $ptr;
    }

    /** @internal The call is over: the record is no longer the library's to lend. */
    public function release(): void
    {
        $this->ptr = null;
    }

    private function p(): \FFI\CData
    {
        if ($this->ptr === null) {
            throw new StateException(
                'a Record is valid only during the store callback it was given to',
                FFI::E_STATE
            );
        }
        return $this->ptr;
    }

    public function id(): int
    {
        return (int) FFI::lib()->patron_customer_id($this->p());
    }

    public function revision(): int
    {
        return (int) FFI::lib()->patron_customer_revision($this->p());
    }

    /** 1 pending, 2 active, 3 merged (0: never saved), as Filter::$state. */
    public function state(): int
    {
        return FFI::lib()->patron_customer_state($this->p());
    }

    public function locked(): bool
    {
        return FFI::lib()->patron_customer_locked($this->p()) === 1;
    }

    /** The raw string of field `$name`, or null. */
    public function get(string $name): ?string
    {
        return FFI::lib()->patron_customer_get($this->p(), Fields::id($name));
    }

    /** A copy as a Customer (owned by the caller, valid after the call). */
    public function toCustomer(): Customer
    {
        return Customer::copyOf($this->p());
    }

    /**
     * Every field, list and system value as one byte string
     * (patron_record_pack), with the id set to `$id` when given: an insert
     * stores the id it assigns, so that load() gives back what was stored.
     */
    public function pack(?int $id = null): string
    {
        $lib = FFI::lib();
        $src = $this->p();
        $copy = null;
        if ($id !== null && $id !== $this->id()) {
            $copy = $lib->new('patron_customer*');
            $st = $lib->patron_customer_clone($src, \FFI::addr($copy));
            if ($st !== FFI::OK) {
                FFI::raise($st, '');
            }
            $st = $lib->patron_record_set($copy, Fields::id('id'), (string) $id);
            if ($st !== FFI::OK) {
                $lib->patron_customer_free($copy);
                FFI::raise($st, (string) $lib->patron_customer_errmsg($src));
            }
            $src = $copy;
        }
        try {
            return self::packOf($src);
        } finally {
            if ($copy !== null) {
                $lib->patron_customer_free($copy);
            }
        }
    }

    /** @internal */
    public static function packOf(\FFI\CData $c): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $len = $lib->new('size_t');
        $st = $lib->patron_record_pack(\FFI::addr($out), \FFI::addr($len), $c);
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
        return (string) FFI::takeString($out, (int) $len->cdata);
    }
}
