<?php

declare(strict_types=1);

namespace Patron;

/**
 * A merge plan (patron_merge_plan): a survivor (position 0) and duplicates
 * (1..), and per field the value each holds, the proposed choice and whether
 * they conflict.  Building and editing it changes nothing in the store;
 * Db::merge() applies it in one transaction.
 *
 *     $plan = $db->mergePlan($survivorId, [$dupId]);
 *     foreach ($plan->conflicts() as $field) { ... }
 *     $plan->take('email', 1);            // the duplicate's email
 *     $plan->set('notes', 'checked');     // a value of our own
 *     $journalId = $db->merge($plan);
 */
final class MergePlan
{
    /** choice(): the value is the caller's own (set()). */
    public const CUSTOM = -1;
    /** choice(): the field is not merged (system fields, the password hash). */
    public const NOT_MERGED = -2;
    /** patron_merge_lock */
    public const LOCK_ANY = -1;
    public const LOCK_UNLOCKED = 0;
    public const LOCK_LOCKED = 1;

    private ?\FFI\CData $ptr;

    /**
     * @param object|null $owner the object that owns the plan (an Activation),
     *                           kept alive with it; null: this object owns it
     *
     * @internal
     */
    public function __construct(\FFI\CData $ptr, private readonly ?object $owner = null)
    {
        $this->ptr = $ptr;
    }

    public function __destruct()
    {
        if ($this->ptr !== null && $this->owner === null) {
            FFI::lib()->patron_merge_plan_free($this->ptr);
        }
        $this->ptr = null;
    }

    /** @internal */
    public function cdata(): \FFI\CData
    {
        return $this->ptr;
    }

    /** Number of records: 1 + the number of duplicates. */
    public function count(): int
    {
        return FFI::lib()->patron_merge_plan_count($this->ptr);
    }

    /** Record $k as loaded when the plan was built (0: the survivor), as a copy. */
    public function record(int $k): Customer
    {
        $c = FFI::lib()->patron_merge_plan_record($this->ptr, $k);
        if ($c === null || \FFI::isNull($c)) {
            throw new RangeException("the plan has no record $k", FFI::E_RANGE);
        }
        return Customer::copyOf($c);
    }

    /** The record whose value field $field takes (0..), CUSTOM, or NOT_MERGED. */
    public function choice(string $field): int
    {
        $lib = FFI::lib();
        $c = $lib->new('int');
        $this->check($lib->patron_merge_plan_choice($this->ptr, \FFI::addr($c), Fields::id($field)));
        return (int) $c->cdata;
    }

    /** The value the survivor will have (null: empty). */
    public function value(string $field): ?string
    {
        return FFI::lib()->patron_merge_plan_value($this->ptr, Fields::id($field));
    }

    /** Do the records hold different non-empty values for $field? */
    public function conflict(string $field): bool
    {
        return FFI::lib()->patron_merge_plan_conflict($this->ptr, Fields::id($field)) === 1;
    }

    /** @return list<string> the fields whose values conflict */
    public function conflicts(): array
    {
        $out = [];
        foreach (array_keys(Fields::customer()) as $name) {
            if ($this->conflict($name)) {
                $out[] = $name;
            }
        }
        return $out;
    }

    /**
     * One field of the plan, as the Python binding's FieldPlan: the record
     * its value is taken from (0.., CUSTOM, or NOT_MERGED), the value the
     * survivor will have, whether the records conflict, and the value each
     * record holds (index 0: the survivor; null: empty).  Values are the
     * library's strings, as value() gives them.
     *
     * @return array{name:string,choice:int,value:?string,conflict:bool,values:list<?string>}
     */
    public function field(string $field): array
    {
        $lib = FFI::lib();
        $id = Fields::id($field);
        $values = [];
        for ($k = 0, $n = $this->count(); $k < $n; $k++) {
            $values[] = $lib->patron_customer_get($lib->patron_merge_plan_record($this->ptr, $k), $id);
        }
        return ['name' => $field, 'choice' => $this->choice($field), 'value' => $this->value($field),
            'conflict' => $this->conflict($field), 'values' => $values];
    }

    /**
     * Every merged field (system fields and the password hash left out) as
     * field() gives it, by name.
     *
     * @return array<string,array{name:string,choice:int,value:?string,conflict:bool,values:list<?string>}>
     */
    public function fields(): array
    {
        $out = [];
        foreach (array_keys(Fields::customer()) as $name) {
            if ($this->choice($name) !== self::NOT_MERGED) {
                $out[$name] = $this->field($name);
            }
        }
        return $out;
    }

    /** Take $field from record $k ("login_user": the whole login, name and password hash). */
    public function take(string $field, int $k): self
    {
        $this->check(FFI::lib()->patron_merge_plan_take($this->ptr, Fields::id($field), $k));
        return $this;
    }

    /** True when Db::merge() would refuse the plan as it stands (a note does not). */
    public function blocked(): bool
    {
        return FFI::lib()->patron_merge_plan_blocked($this->ptr) !== 0;
    }

    /** The number of united addresses (equal ones after normalisation are one). */
    public function addressCount(): int
    {
        return (int) FFI::lib()->patron_merge_plan_address_count($this->ptr);
    }

    /** Keep or drop united address $i (0-based). */
    public function keepAddress(int $i, bool $keep = true): self
    {
        $this->check(FFI::lib()->patron_merge_plan_address_keep($this->ptr, $i, $keep ? 1 : 0));
        return $this;
    }

    /** Make united address $i the survivor's default. */
    public function defaultAddress(int $i): self
    {
        $this->check(FFI::lib()->patron_merge_plan_address_set_default($this->ptr, $i));
        return $this;
    }

    /** Take custom property $key from record $k. */
    public function takeProperty(string $key, int $k): self
    {
        $this->check(FFI::lib()->patron_merge_plan_prop_take($this->ptr, $key, $k));
        return $this;
    }

    /** Give $field a value of our own (null or "" empties it).  Not for the login. */
    public function set(string $field, mixed $value): self
    {
        $this->check(FFI::lib()->patron_merge_plan_set($this->ptr, Fields::id($field), Fields::toText($value)));
        return $this;
    }

    /** Lock the survivor (true), unlock it (false), or lock it if any record is locked (null, the default). */
    public function setLock(?bool $lock): self
    {
        $this->check(FFI::lib()->patron_merge_plan_set_lock(
            $this->ptr,
            $lock === null ? self::LOCK_ANY : ($lock ? self::LOCK_LOCKED : self::LOCK_UNLOCKED)
        ));
        return $this;
    }

    /** Allow a pending survivor, activating it with a number (default: refused). */
    public function setActivate(bool $activate): self
    {
        $this->check(FFI::lib()->patron_merge_plan_set_activate($this->ptr, (int) $activate));
        return $this;
    }

    /** @return list<string> why the plan cannot be applied as it stands (empty: it can) */
    public function problems(): array
    {
        $p = (string) FFI::lib()->patron_merge_plan_problems($this->ptr);
        return $p === '' ? [] : explode("\n", rtrim($p, "\n"));
    }

    public function toJson(bool $pretty = false): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char*');
        $this->check($lib->patron_merge_plan_to_json($this->ptr, \FFI::addr($out), $pretty ? 1 : 0));
        return (string) FFI::takeString($out);
    }

    /** @return array<string,mixed> */
    public function toArray(): array
    {
        return json_decode($this->toJson(), true, 512, JSON_THROW_ON_ERROR);
    }

    private function check(int $status): void
    {
        if ($status !== FFI::OK) {
            FFI::raise($status, (string) FFI::lib()->patron_merge_plan_errmsg($this->ptr));
        }
    }
}
