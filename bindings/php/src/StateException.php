<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_STATE: not allowed in the record's current state (merged record, not pending, plan with problems, ...). */
class StateException extends Exception
{
}
