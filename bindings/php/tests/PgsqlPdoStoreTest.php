<?php

declare(strict_types=1);

namespace Patron\Tests;

/** The store contract on PostgreSQL (PATRON_TEST_PGSQL_DSN). */
final class PgsqlPdoStoreTest extends ServerPdoStores
{
    protected static function driver(): string
    {
        return 'pgsql';
    }
}
