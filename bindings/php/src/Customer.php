<?php

declare(strict_types=1);

namespace Patron;

/**
 * A customer record in memory (patron_customer), detached from any store:
 * reading and changing it touches no store until Db::create() / update().
 *
 * Every scalar field is a property with its snake_case name:
 *
 *     $c = new Customer(['first_name' => 'Max', 'last_name' => 'Müller']);
 *     $c->email = 'max@example.de';
 *     echo $c->number, $c->state;       // "K000001", "active" once created
 *
 * Values are read as the library gives them (strings), except id, revision,
 * the timestamps and merged_into (int) and b2b, newsletter, locked (bool);
 * an unset field reads as null.  Setting checks the value at once and throws
 * InvalidValueException with the library's message; null or "" clears.
 * `addresses`, `tags` and `properties` are live views of the record's
 * lists (AddressList, TagList, PropertyMap): `$c->addresses[0]['city'] =
 * 'Graz'`, `$c->tags[] = 'vip'`, `$c->properties['k'] = 'v'` change the
 * record, and assigning an array replaces a list as a whole; toArray() on a
 * view, or the methods addresses(), tags(), properties(), give plain arrays.
 *
 * The record is freed when the object goes away; `clone` makes a deep copy.
 *
 * The properties below are generated from the library's field table by
 * tools/properties.php (tests/CustomerPropertiesTest.php checks them);
 * read-only ones are the library's system fields.
 *
 * @generated-properties-begin
 * @property-read int|null $id
 * @property string|null $number
 * @property-read string|null $state
 * @property string|null $salutation
 * @property string|null $title
 * @property string|null $first_name
 * @property string|null $last_name
 * @property string|null $company
 * @property string|null $email
 * @property string|null $phone
 * @property string|null $mobile
 * @property string|null $fax
 * @property string|null $birth_date
 * @property string|null $language
 * @property bool|null $b2b
 * @property string|null $vat_id
 * @property string|null $payment_terms
 * @property string|null $price_category
 * @property string|null $group
 * @property bool|null $newsletter
 * @property string|null $notes
 * @property string|null $order_text
 * @property string|null $login_user
 * @property string|null $login_hash
 * @property string|null $external_source
 * @property string|null $external_id
 * @property-read bool|null $locked
 * @property-read string|null $lock_reason
 * @property-read int|null $locked_at
 * @property-read int|null $created_at
 * @property-read int|null $updated_at
 * @property-read int|null $revision
 * @property-read int|null $merged_into
 * @property-read int|null $newsletter_at
 * @property string|null $newsletter_source
 * @property-read int|null $erased_at
 * @generated-properties-end
 * @property AddressList $addresses
 * @property TagList $tags
 * @property PropertyMap $properties
 */
final class Customer
{
    private \FFI\CData $ptr;

    /**
     * A new, empty customer, with the given fields set (scalar fields by
     * name, plus optional 'addresses', 'tags', 'properties').
     *
     * @param array<string,mixed> $fields
     */
    public function __construct(array $fields = [])
    {
        $lib = FFI::lib();
        $p = $lib->new('patron_customer*');
        $st = $lib->patron_customer_new(\FFI::addr($p));
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
        $this->ptr = $p;
        try {
            $this->assign($fields);
        } catch (\Throwable $e) {
            // A constructor that throws gets no __destruct: free here.
            $lib->patron_customer_free($p);
            unset($this->ptr);
            throw $e;
        }
    }

    /**
     * Wrap a record the caller owns and hands over (freed with this object).
     *
     * @internal
     */
    public static function adopt(\FFI\CData $ptr): self
    {
        $c = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $c->ptr = $ptr;
        return $c;
    }

    /**
     * A copy of a record owned by somebody else (a plan, a store callback).
     *
     * @internal
     */
    public static function copyOf(\FFI\CData $ptr): self
    {
        $lib = FFI::lib();
        $p = $lib->new('patron_customer*');
        $st = $lib->patron_customer_clone($ptr, \FFI::addr($p));
        if ($st !== FFI::OK) {
            FFI::raise($st, '');
        }
        return self::adopt($p);
    }

    /** @internal The patron_customer* (owned by this object). */
    public function cdata(): \FFI\CData
    {
        return $this->ptr;
    }

    public function __destruct()
    {
        if (isset($this->ptr)) {
            FFI::lib()->patron_customer_free($this->ptr);
            unset($this->ptr);
        }
    }

    public function __clone()
    {
        $lib = FFI::lib();
        $p = $lib->new('patron_customer*');
        $st = $lib->patron_customer_clone($this->ptr, \FFI::addr($p));
        if ($st !== FFI::OK) {
            unset($this->ptr); // never free the original's record twice
            FFI::raise($st, '');
        }
        $this->ptr = $p;
    }

    /**
     * Set several fields and lists at once, as the constructor does.
     *
     * @param array<string,mixed> $fields
     */
    public function assign(array $fields): self
    {
        foreach ($fields as $name => $value) {
            $this->__set((string) $name, $value);
        }
        return $this;
    }

    public function __get(string $name): mixed
    {
        return match ($name) {
            'addresses' => new AddressList($this),
            'tags' => new TagList($this),
            'properties' => new PropertyMap($this),
            default => Fields::fromText($name, $this->get($name)),
        };
    }

    public function __set(string $name, mixed $value): void
    {
        switch ($name) {
            case 'addresses':
                $this->setAddresses(self::listOf($name, $value));
                return;
            case 'tags':
                $this->setTags(self::listOf($name, $value));
                return;
            case 'properties':
                $this->setProperties(self::listOf($name, $value));
                return;
        }
        $this->set($name, $value);
    }

    public function __isset(string $name): bool
    {
        if (in_array($name, ['addresses', 'tags', 'properties'], true)) {
            return true;
        }
        return isset(Fields::customer()[$name]) && $this->get($name) !== null;
    }

    public function __unset(string $name): void
    {
        $this->__set($name, in_array($name, ['addresses', 'tags', 'properties'], true) ? [] : null);
    }

    /** The raw string of field `$name` (null: unset). */
    public function get(string $name): ?string
    {
        return FFI::lib()->patron_customer_get($this->ptr, Fields::id($name));
    }

    /** Set field `$name` (null or "" clears it). */
    public function set(string $name, mixed $value): self
    {
        $lib = FFI::lib();
        $st = $lib->patron_customer_set($this->ptr, Fields::id($name), Fields::toText($value));
        $this->check($st);
        return $this;
    }

    /**
     * Carry the time a newsletter consent was given (or withdrawn) where
     * this customer comes from into a customer never saved (an import or a
     * migration): Db::create() keeps it instead of stamping the time of the
     * save.  Seconds since 1970 (an int, its decimal string, or a
     * DateTimeInterface), not before 1990, not more than 5 minutes in the
     * future; give newsletter with it.  null takes it back.
     * InvalidValueException for a bad time, StateException for a customer
     * saved before.
     */
    public function setConsentTime(int|string|\DateTimeInterface|null $at): self
    {
        $v = $at instanceof \DateTimeInterface ? (string) $at->getTimestamp() : ($at === null ? null : (string) $at);
        $this->check(FFI::lib()->patron_customer_set_consent_time($this->ptr, $v));
        return $this;
    }

    public function id(): int
    {
        return (int) FFI::lib()->patron_customer_id($this->ptr);
    }

    public function revision(): int
    {
        return (int) FFI::lib()->patron_customer_revision($this->ptr);
    }

    /** "new", "pending", "active", "merged" or "erased". */
    public function state(): string
    {
        $names = [0 => 'new', 1 => 'pending', 2 => 'active', 3 => 'merged', 4 => 'erased'];
        return $names[FFI::lib()->patron_customer_state($this->ptr)] ?? 'unknown';
    }

    public function isLocked(): bool
    {
        return FFI::lib()->patron_customer_locked($this->ptr) === 1;
    }

    // ---- addresses -------------------------------------------------------

    public function addressCount(): int
    {
        return FFI::lib()->patron_customer_address_count($this->ptr);
    }

    /**
     * Append an address (country "DE", private billing unless given) and
     * return its index.  On a bad value nothing is appended.
     *
     * @param array<string,mixed> $fields address fields by name
     */
    public function addAddress(array $fields = []): int
    {
        $lib = FFI::lib();
        $index = $lib->new('size_t');
        $this->check($lib->patron_customer_address_add($this->ptr, \FFI::addr($index)));
        $i = (int) $index->cdata;
        try {
            $this->setAddress($i, $fields);
        } catch (\Throwable $e) {
            $lib->patron_customer_address_remove($this->ptr, $i);
            throw $e;
        }
        return $i;
    }

    /**
     * Address `$i` as name => value (set fields only).
     *
     * @return array<string,string|bool>
     */
    public function address(int $i): array
    {
        if ($i < 0 || $i >= $this->addressCount()) {
            throw new RangeException("no address $i", FFI::E_RANGE);
        }
        $lib = FFI::lib();
        $out = [];
        foreach (Fields::address() as $name => $id) {
            $v = $lib->patron_customer_address_get($this->ptr, $i, $id);
            if ($v !== null) {
                $out[$name] = Fields::fromText($name, $v, true);
            }
        }
        return $out;
    }

    /**
     * Set fields of address `$i` (others stay; null or "" clears one).
     *
     * @param array<string,mixed> $fields
     */
    public function setAddress(int $i, array $fields): self
    {
        if ($i < 0 || $i >= $this->addressCount()) {
            throw new RangeException("no address $i", FFI::E_RANGE);
        }
        $lib = FFI::lib();
        foreach ($fields as $name => $value) {
            $st = $lib->patron_customer_address_set(
                $this->ptr,
                $i,
                Fields::addressId((string) $name),
                Fields::toText($value)
            );
            $this->check($st);
        }
        return $this;
    }

    public function removeAddress(int $i): self
    {
        $this->check(FFI::lib()->patron_customer_address_remove($this->ptr, $i));
        return $this;
    }

    /** @return list<array<string,string|bool>> */
    public function addresses(): array
    {
        $out = [];
        for ($i = 0, $n = $this->addressCount(); $i < $n; $i++) {
            $out[] = $this->address($i);
        }
        return $out;
    }

    /** @param list<array<string,mixed>> $addresses */
    public function setAddresses(array $addresses): self
    {
        while ($this->addressCount() > 0) {
            $this->removeAddress($this->addressCount() - 1);
        }
        foreach ($addresses as $a) {
            $this->addAddress(self::listOf('address', $a));
        }
        return $this;
    }

    // ---- tags ------------------------------------------------------------

    /** @return list<string> */
    public function tags(): array
    {
        $lib = FFI::lib();
        $out = [];
        for ($i = 0, $n = $lib->patron_customer_tag_count($this->ptr); $i < $n; $i++) {
            $out[] = (string) $lib->patron_customer_tag_get($this->ptr, $i);
        }
        return $out;
    }

    public function hasTag(string $tag): bool
    {
        return in_array($tag, $this->tags(), true);
    }

    /** Add a tag (a tag already there is not added twice). */
    public function addTag(string $tag): self
    {
        $this->check(FFI::lib()->patron_customer_tag_add($this->ptr, $tag));
        return $this;
    }

    /** Remove a tag; NotFoundException if it is not there. */
    public function removeTag(string $tag): self
    {
        $this->check(FFI::lib()->patron_customer_tag_remove($this->ptr, $tag));
        return $this;
    }

    /** @param list<string> $tags */
    public function setTags(array $tags): self
    {
        foreach ($this->tags() as $t) {
            $this->removeTag($t);
        }
        foreach ($tags as $t) {
            $this->addTag((string) $t);
        }
        return $this;
    }

    // ---- properties ------------------------------------------------------

    /** @return array<string,string> */
    public function properties(): array
    {
        $lib = FFI::lib();
        $key = $lib->new('const char*');
        $value = $lib->new('const char*');
        $out = [];
        for ($i = 0, $n = $lib->patron_customer_prop_count($this->ptr); $i < $n; $i++) {
            $this->check($lib->patron_customer_prop_at($this->ptr, \FFI::addr($key), \FFI::addr($value), $i));
            $out[\FFI::string($key)] = \FFI::isNull($value) ? '' : \FFI::string($value);
        }
        return $out;
    }

    public function property(string $key): ?string
    {
        return FFI::lib()->patron_customer_prop_get($this->ptr, $key);
    }

    /** Set a property; null removes it. */
    public function setProperty(string $key, ?string $value): self
    {
        $this->check(FFI::lib()->patron_customer_prop_set($this->ptr, $key, $value));
        return $this;
    }

    /** @param array<string,string> $properties */
    public function setProperties(array $properties): self
    {
        foreach (array_keys($this->properties()) as $k) {
            $this->setProperty((string) $k, null);
        }
        foreach ($properties as $k => $v) {
            $this->setProperty((string) $k, Fields::toText($v));
        }
        return $this;
    }

    // ---- whole record ----------------------------------------------------

    /** Check the whole record, rules across fields included. */
    public function validate(): self
    {
        $this->check(FFI::lib()->patron_customer_validate($this->ptr));
        return $this;
    }

    /** The record as JSON (no password hash: "has_password" instead). */
    public function toJson(bool $pretty = false): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->check($lib->patron_customer_to_json($this->ptr, \FFI::addr($out), $pretty ? 1 : 0));
        return (string) FFI::takeString($out);
    }

    /** @return array<string,mixed> the record as toJson() gives it, decoded */
    public function toArray(): array
    {
        return json_decode($this->toJson(), true, 512, JSON_THROW_ON_ERROR);
    }

    /** @return array<string,mixed> */
    public function __debugInfo(): array
    {
        return isset($this->ptr) ? $this->toArray() : [];
    }

    private function check(int $status): void
    {
        if ($status !== FFI::OK) {
            FFI::raise($status, (string) FFI::lib()->patron_customer_errmsg($this->ptr));
        }
    }

    /** @return array<mixed> */
    private static function listOf(string $what, mixed $value): array
    {
        if (
            $value instanceof AddressList || $value instanceof Address || $value instanceof TagList
            || $value instanceof PropertyMap
        ) {
            return $value->toArray(); // a copy first: $a->tags = $a->tags keeps them
        }
        if (!is_array($value)) {
            throw new InvalidValueException(
                "$what must be an array, not " . get_debug_type($value),
                FFI::E_INVALID
            );
        }
        return $value;
    }
}
