<?php

declare(strict_types=1);

namespace Patron;

/** FFI cannot be used or libpatron cannot be loaded; the message says how to fix it. */
class FfiUnavailableException extends Exception
{
}
