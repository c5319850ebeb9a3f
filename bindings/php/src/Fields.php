<?php

declare(strict_types=1);

namespace Patron;

/**
 * The library's fields — ids, names, kinds and flags (patron_field_count,
 * _name, _kind, _flags) — read once from the loaded library, so a newer
 * library's fields work without a change here.  Field names are snake_case:
 * "first_name", "postal_code".
 *
 * @internal
 */
final class Fields
{
    /** patron_kind values that read as something other than string. */
    public const KIND_TIMESTAMP = 5;
    public const KIND_BOOL = 6;
    public const KIND_INTEGER = 8;
    /** PATRON_FIELD_* flags. */
    public const FLAG_SYSTEM = 1;
    public const FLAG_SECRET = 2;

    /** @var array<string,int>|null */
    private static ?array $fields = null;
    /** @var array<string,int> name => kind */
    private static array $kinds = [];
    /** @var array<string,int> name => flags */
    private static array $flags = [];
    /** @var array<string,int>|null */
    private static ?array $addressFields = null;
    /** @var array<string,int> name => kind */
    private static array $addressKinds = [];

    /** @return array<string,int> name => id, in id order */
    public static function customer(): array
    {
        if (self::$fields === null) {
            self::$fields = [];
            $lib = FFI::lib();
            for ($id = 1, $n = $lib->patron_field_count(); $id <= $n; $id++) {
                $name = (string) $lib->patron_field_name($id);
                self::$fields[$name] = $id;
                self::$kinds[$name] = $lib->patron_field_kind($id);
                self::$flags[$name] = $lib->patron_field_flags($id);
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
            for ($id = 1, $n = $lib->patron_address_field_count(); $id <= $n; $id++) {
                $name = (string) $lib->patron_address_field_name($id);
                self::$addressFields[$name] = $id;
                self::$addressKinds[$name] = $lib->patron_address_field_kind($id);
            }
        }
        return self::$addressFields;
    }

    /** Maintained by the library (read-only through set()). */
    public static function isSystem(string $name): bool
    {
        self::customer();
        return ((self::$flags[$name] ?? 0) & self::FLAG_SYSTEM) !== 0;
    }

    /** Never shown or exported (the password hash). */
    public static function isSecret(string $name): bool
    {
        self::customer();
        return ((self::$flags[$name] ?? 0) & self::FLAG_SECRET) !== 0;
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

    /** The PHP type a customer field reads as ("string", "int" or "bool"), as fromText() gives it. */
    public static function phpType(string $name): string
    {
        self::customer();
        return match (self::$kinds[$name] ?? 0) {
            self::KIND_BOOL => 'bool',
            self::KIND_INTEGER, self::KIND_TIMESTAMP => 'int',
            default => 'string',
        };
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
            self::address();
            $kind = self::$addressKinds[$name] ?? 0;
        } else {
            self::customer();
            $kind = self::$kinds[$name] ?? 0;
        }
        return match ($kind) {
            self::KIND_BOOL => $value === '1',
            self::KIND_INTEGER, self::KIND_TIMESTAMP => (int) $value,
            default => $value,
        };
    }
}
