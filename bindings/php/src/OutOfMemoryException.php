<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_NOMEM: the library ran out of memory. */
class OutOfMemoryException extends Exception
{
}
