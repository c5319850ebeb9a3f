<?php

/*
 * Generates the @property tags of Patron\Customer from the loaded library's
 * field table, so that IDEs and static analysers see every field.  Run it
 * after the library gains a field:
 *
 *     PATRON_LIBRARY=build/src/libpatron.so.1 php bindings/php/tools/properties.php
 *
 * It rewrites the lines between @generated-properties-begin and -end in
 * src/Customer.php; with --check it changes nothing and exits 1 when they
 * differ (tests/CustomerPropertiesTest.php makes the same check).
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';
require __DIR__ . '/PropertyTags.php';

$file = __DIR__ . '/../src/Customer.php';
$old = (string) file_get_contents($file);
$new = PatronTools\PropertyTags::apply($old);
if (in_array('--check', $argv, true)) {
    if ($old !== $new) {
        fwrite(STDERR, "src/Customer.php: the @property tags differ from the library's fields; "
            . "run tools/properties.php\n");
        exit(1);
    }
    exit(0);
}
if ($old !== $new) {
    file_put_contents($file, $new);
    echo "src/Customer.php: @property tags updated\n";
}
