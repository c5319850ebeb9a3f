<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_RANGE: an index or buffer out of range. */
class RangeException extends Exception
{
}
