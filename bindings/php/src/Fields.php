<?php

declare(strict_types=1);

namespace Patron;

/**
 * The library's field names and ids (patron_field_name / _from_name), read
 * once from the loaded library, so a newer library's fields work without a
 * change here.  Field names are snake_case: "first_name", "postal_code".
 *
 * @internal
 */
final class Fields
{
    /** Customer fields read as int (or null when unset). */
    public const INT_FIELDS = ['id', 'revision', 'created_at', 'updated_at', 'locked_at', 'merged_into'];
    /** Customer fields read as bool (null when unset). */
    public const BOOL_FIELDS = ['b2b', 'newsletter', 'locked'];
    /** Address fields read as bool. */
    public const BOOL_ADDRESS_FIELDS = ['default'];

    /** @var array<string,int>|null */
    private static ?array $fields = null;
    /** @var array<string,int>|null */
    private static ?array $addressFields = null;

    /** @return array<string,int> name => id, in id order */
    public static function customer(): array
    {
        if (self::$fields === null) {
            self::$fields = [];
            $lib = FFI::lib();
            for ($id = 1; $id < 1000; $id++) {
                $name = $lib->patron_field_name($id);
                if ($name === null) {
                    break;
                }
                self::$fields[$name] = $id;
            }
        }
        return self::$fields;
    }

    /** @return array<string,int> name => id, in id order */
    public static function address(): array
    {
        if (self::$addressFields === null) {
            self::$addressFields = [];
            $lib = FFI::lib();
            for ($id = 1; $id < 1000; $id++) {
                $name = $lib->patron_address_field_name($id);
                if ($name === null) {
                    break;
                }
                self::$addressFields[$name] = $id;
            }
        }
        return self::$addressFields;
    }

    /** The id of customer field `$name`; InvalidValueException if there is none. */
    public static function id(string $name): int
    {
        $id = self::customer()[$name] ?? null;
        if ($id === null) {
            throw new InvalidValueException("unknown customer field '$name'", FFI::E_INVALID);
        }
        return $id;
    }

    public static function addressId(string $name): int
    {
        $id = self::address()[$name] ?? null;
        if ($id === null) {
            throw new InvalidValueException("unknown address field '$name'", FFI::E_INVALID);
        }
        return $id;
    }

    /** A PHP value as the library's string form (NULL clears a field). */
    public static function toText(mixed $value): ?string
    {
        if ($value === null) {
            return null;
        }
        if (is_bool($value)) {
            return $value ? '1' : '0';
        }
        if ($value instanceof \DateTimeInterface) {
            return $value->format('Y-m-d');
        }
        if (is_int($value) || is_float($value) || is_string($value) || $value instanceof \Stringable) {
            return (string) $value;
        }
        throw new InvalidValueException('a field value must be a string, number, bool, date or null, not '
            . get_debug_type($value), FFI::E_INVALID);
    }

    /** The library's string form of customer field `$name` as a PHP value. */
    public static function fromText(string $name, ?string $value, bool $address = false): mixed
    {
        if ($value === null) {
            return null;
        }
        if ($address) {
            return in_array($name, self::BOOL_ADDRESS_FIELDS, true) ? $value === '1' : $value;
        }
        if (in_array($name, self::INT_FIELDS, true)) {
            return (int) $value;
        }
        if (in_array($name, self::BOOL_FIELDS, true)) {
            return $value === '1';
        }
        return $value;
    }
}
