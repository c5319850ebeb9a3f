<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_LOCKED: the customer is locked (e.g. registration with a locked customer's email). */
class LockedException extends Exception
{
}
