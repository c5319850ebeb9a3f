<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_AMBIGUOUS: a lookup that must give one customer matches several. */
class AmbiguousException extends Exception
{
}
