<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_ABI: the store's struct version is unknown to the library. */
class AbiException extends Exception
{
}
