<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_UNSUPPORTED: the store lacks an optional callback this needs (journal, meta for groups). */
class UnsupportedException extends Exception
{
}
