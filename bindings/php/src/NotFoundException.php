<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_NOT_FOUND: no customer (or entry) with this key.  A store callback throws it to answer "not found". */
class NotFoundException extends Exception
{
}
