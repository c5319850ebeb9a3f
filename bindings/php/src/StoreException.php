<?php

declare(strict_types=1);

namespace Patron;

/** PATRON_E_STORE: a store callback failed; the library rolled the call back.  getPrevious() is the exception a PHP store threw, if one did. */
class StoreException extends Exception
{
}
