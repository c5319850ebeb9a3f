<?php

/*
 * PHPUnit bootstrap: the Patron classes and the tests' own helpers, without
 * Composer.  PATRON_LIBRARY should name the built libpatron.so.1; without
 * it the soname is looked up by the dynamic linker.
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

spl_autoload_register(static function (string $class): void {
    $ns = 'Patron\\Tests\\';
    if (strncmp($class, $ns, strlen($ns)) === 0) {
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($ns))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

fprintf(
    STDERR,
    "patron PHP binding: libpatron %s from %s, PHP %s, ffi.enable=%s\n",
    (string) Patron\FFI::lib()->patron_version_string(),
    Patron\FFI::path(),
    PHP_VERSION,
    (string) ini_get('ffi.enable')
);
