<?php

declare(strict_types=1);

namespace Patron;

/**
 * Customers deduplicated without storing them (patron/batch.h): each added
 * customer is checked as Db::create() would check it on an empty store with
 * the configuration of the Db it was made from, gets the id and number
 * create would give it there, and run() finds the pairs Db::dedupe() would
 * find.  Made by Db::batch(); freed when the object goes away (or by
 * close()).
 *
 *     $b = $db->batch();
 *     foreach ($b->addRows($rows) as $i => $r) {
 *         if (!$r->isOk()) {
 *             echo "row $i: $r->field: $r->error\n";
 *         }
 *     }
 *     $pairs = $b->run();
 *
 * A row is an array of customer field names to values, set in that order,
 * plus 'address' (an array of address fields: a row has at most one
 * address; 'addresses' with one such array is taken too), 'tags' (a list),
 * 'properties' (key => value) and 'birth_date_as_given' (a birth date that
 * is no real date, such as "1902-78-03", compared as given).  The values
 * are copied into buffers PHP owns, which the library borrows only for the
 * call.
 */
final class Batch
{
    /** Version of patron_batch_row declared in FFI.php. */
    public const ROW_VERSION = 1;
    /** patron_batch_value.field: an address field is this + its id. */
    public const ADDRESS = 0x100;
    public const TAG = 0x200;
    public const PROPERTY = 0x201;
    public const BIRTH_AS_GIVEN = 0x202;

    private ?\FFI\CData $ptr;

    /** @internal Use Db::batch(). */
    public function __construct(\FFI\CData $ptr)
    {
        $this->ptr = $ptr;
    }

    public function __destruct()
    {
        $this->close();
    }

    /** Free the batch now (also done when the object goes away). */
    public function close(): void
    {
        if ($this->ptr !== null) {
            FFI::lib()->patron_batch_free($this->ptr);
            $this->ptr = null;
        }
    }

    /** The number of customers added. */
    public function count(): int
    {
        return (int) FFI::lib()->patron_batch_count($this->p());
    }

    /** The message of the last failed call ("" if none). */
    public function errmsg(): string
    {
        return (string) FFI::lib()->patron_batch_errmsg($this->p());
    }

    /**
     * Add one customer; it gets its id (and its number, when it had none).
     * A refusal throws (InvalidValueException, ExistsException,
     * StateException) and adds nothing.
     *
     * @param Customer|array<string,mixed> $c
     */
    public function add(Customer|array $c): Customer
    {
        $c = is_array($c) ? new Customer($c) : $c;
        $this->check(FFI::lib()->patron_batch_add($this->p(), $c->cdata()));
        return $c;
    }

    /**
     * Add rows (see the class comment), checked and normalised on all cores,
     * as add() one by one would add them: the same ids, numbers, refusals
     * and messages.  One BatchRowResult per row, in order (keys as given);
     * a refused row is not added and does not throw.  Throws for the call as
     * a whole, adding nothing: InvalidValueException for a row that is no
     * array or names an unknown field, StateException after run(),
     * RangeException for too many customers, OutOfMemoryException.
     *
     * @param array<array-key,array<string,mixed>> $rows
     * @return array<array-key,BatchRowResult>
     */
    public function addRows(array $rows): array
    {
        $p = $this->p();
        if ($rows === []) {
            return [];
        }
        $keep = [];
        [$cRows, $names] = self::layOut($rows, $keep);
        $this->check(FFI::lib()->patron_batch_add_rows($p, \FFI::addr($cRows[0]), count($rows)));
        $out = [];
        $i = 0;
        foreach (array_keys($rows) as $key) {
            $out[$key] = self::result($cRows[$i], $names[$i]);
            $i++;
        }
        unset($keep); // the values were borrowed for the call only
        return $out;
    }

    /**
     * Check one row as addRows() would (its values, then the row as a whole;
     * not whether its number, external reference or login is taken) without
     * adding it: id is 0 and number null.
     *
     * @param array<string,mixed> $row
     */
    public function checkRow(array $row): BatchRowResult
    {
        $p = $this->p();
        $keep = [];
        [$cRows, $names] = self::layOut([$row], $keep);
        $st = FFI::lib()->patron_batch_check_row($p, \FFI::addr($cRows[0]));
        if ($st === FFI::E_ABI) {
            throw new AbiException('the library does not know batch rows of version ' . self::ROW_VERSION, $st);
        }
        return self::result($cRows[0], $names[0]);
    }

    /**
     * The pairs and clusters of the customers added; $mode "fields" or
     * "email".  Once per batch: StateException on a second call.
     */
    public function run(string $mode = 'fields'): Dedupe
    {
        $m = Db::matchMode($mode);
        $lib = FFI::lib();
        $out = $lib->new('patron_pairs*');
        $this->check($lib->patron_batch_run($this->p(), \FFI::addr($out), $m));
        return Db::takePairs($out);
    }

    /**
     * The rows as patron_batch_row[n] and, per row, the row key of each
     * value.  Every buffer the rows point at is appended to $keep.
     *
     * @param array<array-key,mixed> $rows
     * @param list<\FFI\CData> $keep
     * @return array{0: \FFI\CData, 1: list<list<string>>}
     */
    private static function layOut(array $rows, array &$keep): array
    {
        $lib = FFI::lib();
        $cRows = $lib->new('patron_batch_row[' . count($rows) . ']');
        $names = [];
        $i = 0;
        foreach ($rows as $key => $row) {
            if (!is_array($row)) {
                throw new InvalidValueException("batch row $key must be an array of field names to values, not "
                    . get_debug_type($row), FFI::E_INVALID);
            }
            $values = self::values($row, (string) $key);
            $r = $cRows[$i];
            $r->version = self::ROW_VERSION;
            $r->n_values = count($values);
            if ($values !== []) {
                $arr = $lib->new('patron_batch_value[' . count($values) . ']');
                $keep[] = $arr;
                foreach ($values as $j => [$field, $k, $v]) {
                    $arr[$j]->field = $field;
                    $arr[$j]->key = $k === null ? null : self::cString($lib, $k, $keep);
                    $arr[$j]->value = $v === null ? null : self::cString($lib, $v, $keep);
                    $arr[$j]->len = $v === null ? 0 : strlen($v);
                }
                $r->values = $lib->cast('const patron_batch_value*', \FFI::addr($arr[0]));
            }
            $names[] = array_column($values, 3);
            $i++;
        }
        return [$cRows, $names];
    }

    /**
     * One row as [field, key, value, row key] in order.
     *
     * @param array<array-key,mixed> $row
     * @return list<array{0: int, 1: ?string, 2: ?string, 3: string}>
     */
    private static function values(array $row, string $rowKey): array
    {
        $out = [];
        foreach ($row as $name => $value) {
            $name = (string) $name;
            if ($name === 'address' || $name === 'addresses') {
                $addresses = $name === 'address' ? [$value] : $value;
                if (!is_array($addresses) || count($addresses) > 1) {
                    throw new InvalidValueException("batch row $rowKey: a row has at most one address "
                        . "('address' => [...])", FFI::E_INVALID);
                }
                foreach ($addresses as $a) {
                    if (!is_array($a)) {
                        throw new InvalidValueException("batch row $rowKey: an address is an array of "
                            . 'address fields', FFI::E_INVALID);
                    }
                    foreach ($a as $an => $av) {
                        $an = (string) $an;
                        $out[] = [
                            self::ADDRESS + Fields::addressId($an), null, Fields::toText($av), "address.$an",
                        ];
                    }
                }
            } elseif ($name === 'tags') {
                if (!is_array($value)) {
                    throw new InvalidValueException(
                        "batch row $rowKey: 'tags' is a list of strings",
                        FFI::E_INVALID
                    );
                }
                foreach ($value as $t) {
                    $out[] = [self::TAG, null, Fields::toText($t), 'tags'];
                }
            } elseif ($name === 'properties') {
                if (!is_array($value)) {
                    throw new InvalidValueException(
                        "batch row $rowKey: 'properties' is an array of key => value",
                        FFI::E_INVALID
                    );
                }
                foreach ($value as $k => $v) {
                    $out[] = [self::PROPERTY, (string) $k, Fields::toText($v), "properties.$k"];
                }
            } elseif ($name === 'birth_date_as_given') {
                $out[] = [self::BIRTH_AS_GIVEN, null, Fields::toText($value), $name];
            } else {
                $out[] = [Fields::id($name), null, Fields::toText($value), $name];
            }
        }
        return $out;
    }

    /** @param list<string> $names */
    private static function result(\FFI\CData $r, array $names): BatchRowResult
    {
        $code = (int) $r->status;
        $refused = (int) $r->refused;
        $number = \FFI::string($r->number);
        return new BatchRowResult(
            (string) FFI::lib()->patron_status_name($code),
            $code,
            (int) $r->id,
            $number === '' ? null : $number,
            \FFI::string($r->errmsg),
            $code !== FFI::OK && $refused > 0 ? ($names[$refused - 1] ?? null) : null,
        );
    }

    /**
     * A `const char *` to a NUL-terminated copy of $s (NULs inside kept, so
     * that the library sees the length and refuses it); the buffer is
     * appended to $keep.
     *
     * @param list<\FFI\CData> $keep
     */
    private static function cString(\FFI $ffi, string $s, array &$keep): \FFI\CData
    {
        $len = strlen($s);
        $buf = $ffi->new('char[' . ($len + 1) . ']');
        if ($len > 0) {
            \FFI::memcpy($buf, $s, $len);
        }
        $buf[$len] = "\0";
        $keep[] = $buf;
        return $ffi->cast('const char*', \FFI::addr($buf[0]));
    }

    private function check(int $st): void
    {
        if ($st !== FFI::OK) {
            FFI::raise($st, (string) FFI::lib()->patron_batch_errmsg($this->p()));
        }
    }

    private function p(): \FFI\CData
    {
        if ($this->ptr === null) {
            throw new StateException('the Batch is closed', FFI::E_STATE);
        }
        return $this->ptr;
    }
}
