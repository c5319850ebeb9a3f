<?php

/*
 * Loads the Patron classes without Composer: require this file, then use
 * Patron\Db and friends.  (With Composer, the PSR-4 map in composer.json
 * does the same.)
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Patron\\', 7) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 7)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
