<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_CONFLICT: the record changed since it was loaded (stale revision): load, reapply, retry. */
class ConflictException extends Exception
{
}
