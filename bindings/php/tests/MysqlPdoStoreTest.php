<?php

declare(strict_types=1);

namespace Patron\Tests;

/** The store contract on MySQL/MariaDB (PATRON_TEST_MYSQL_DSN). */
final class MysqlPdoStoreTest extends ServerPdoStores
{
    protected static function driver(): string
    {
        return 'mysql';
    }
}
