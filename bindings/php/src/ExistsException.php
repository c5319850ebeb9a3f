<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_EXISTS: the key is taken (customer number, external reference, a number given before, a group name).  A store callback throws it to answer "exists". */
class ExistsException extends Exception
{
}
