<?php

declare(strict_types=1);

namespace Patron;

/**
 * What activating one pending customer did (patron_activation).  The values
 * are copied out; plan($i) gives the ready merge plan of candidate $i, owned
 * by this object (from Db::activate() only: a batch's results are copies).
 */
final class Activation
{
    public const ACTIVATED = 'activated';
    public const MERGED = 'merged';
    public const REVIEW = 'review';
    public const FAILED = 'failed';

    private const OUTCOMES = [1 => self::ACTIVATED, 2 => self::MERGED, 3 => self::REVIEW, 4 => self::FAILED];

    /** @var list<Candidate> */
    public readonly array $candidates;
    /** "activated", "merged", "review" or "failed" */
    public readonly string $outcome;
    /** The pending customer's id. */
    public readonly int $customerId;
    /** The new number, or the number of the customer it was merged into; else null. */
    public readonly ?string $number;
    /** The survivor's id after a merge, else 0. */
    public readonly int $mergedInto;
    /** The journal id of the merge (to undo it), else 0. */
    public readonly int $journalId;
    /** What happened, in words. */
    public readonly string $message;

    private ?\FFI\CData $ptr;

    /**
     * @param bool $owned true: free the result with this object, plans available;
     *                    false: only copy the values (the pointer is lent for one call)
     *
     * @internal
     */
    public function __construct(\FFI\CData $ptr, bool $owned)
    {
        $lib = FFI::lib();
        $this->ptr = $owned ? $ptr : null;
        $o = $lib->patron_activation_outcome($ptr);
        $this->outcome = self::OUTCOMES[$o] ?? "outcome $o";
        $this->customerId = (int) $lib->patron_activation_customer($ptr);
        $this->number = $lib->patron_activation_number($ptr);
        $this->mergedInto = (int) $lib->patron_activation_merged_into($ptr);
        $this->journalId = (int) $lib->patron_activation_journal($ptr);
        $this->message = (string) $lib->patron_activation_message($ptr);
        $score = $lib->new('double');
        $decision = $lib->new('int');
        $candidates = [];
        for ($i = 0, $n = $lib->patron_activation_candidate_count($ptr); $i < $n; $i++) {
            $id = $lib->new('int64_t');
            $st = $lib->patron_activation_candidate(
                $ptr,
                \FFI::addr($id),
                \FFI::addr($score),
                \FFI::addr($decision),
                $i
            );
            if ($st !== FFI::OK) {
                FFI::raise($st, '');
            }
            $candidates[] = new Candidate(
                (int) $id->cdata,
                (float) $score->cdata,
                (string) $lib->patron_decision_name($decision->cdata)
            );
        }
        $this->candidates = $candidates;
    }

    public function __destruct()
    {
        // Plans handed out keep this object alive, so none is in use here.
        if ($this->ptr !== null) {
            FFI::lib()->patron_activation_free($this->ptr);
            $this->ptr = null;
        }
    }

    /** The ready merge plan for candidate $i (the candidate survives, the pending customer is the duplicate). */
    public function plan(int $i = 0): MergePlan
    {
        if ($this->ptr === null) {
            throw new StateException(
                'plans are kept only for Db::activate(); build one with Db::mergePlan()',
                FFI::E_STATE
            );
        }
        $p = FFI::lib()->patron_activation_plan($this->ptr, $i);
        if ($p === null || \FFI::isNull($p)) {
            throw new RangeException("no candidate $i", FFI::E_RANGE);
        }
        return new MergePlan($p, $this);
    }
}
