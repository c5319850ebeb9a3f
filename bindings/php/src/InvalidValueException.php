<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_INVALID: an argument or field value is not acceptable; the message names the field. */
class InvalidValueException extends Exception
{
}
