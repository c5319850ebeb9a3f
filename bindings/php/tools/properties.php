<?php

/*
 * Generates the @property tags of Patron\Customer from the loaded library's
 * field table (patron_field_count, _name, _kind, _flags), so that IDEs and
 * static analysers see every field.  Run after the library gains a field:
 *
 *     PATRON_LIBRARY=build/src/libpatron.so.1 php -d ffi.enable=1 bindings/php/tools/properties.php
 *
 * It rewrites the lines between @generated-properties-begin and -end in
 * src/Customer.php; with --check it changes nothing and exits 1 when they
 * differ (tests/CustomerPropertiesTest.php does the same check).
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

/** The docblock lines for every customer field, in id order. */
function patron_property_lines(): array
{
    $lines = [];
    foreach (array_keys(Patron\Fields::customer()) as $name) {
        $type = Patron\Fields::phpType($name);
        $tag = Patron\Fields::isSystem($name) ? '@property-read' : '@property';
        $lines[] = " * $tag $type|null \$$name";
    }
    return $lines;
}

/** Customer.php with the generated lines in place. */
function patron_properties_apply(string $source): string
{
    $begin = ' * @generated-properties-begin';
    $end = ' * @generated-properties-end';
    $a = strpos($source, $begin . "\n");
    $b = strpos($source, $end . "\n");
    if ($a === false || $b === false || $b < $a) {
        throw new RuntimeException('Customer.php lacks the @generated-properties markers');
    }
    $head = substr($source, 0, $a + strlen($begin) + 1);
    $body = implode("\n", patron_property_lines()) . "\n";
    return $head . $body . substr($source, $b);
}

if (realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    $file = __DIR__ . '/../src/Customer.php';
    $old = (string) file_get_contents($file);
    $new = patron_properties_apply($old);
    if (in_array('--check', $argv, true)) {
        if ($old !== $new) {
            fwrite(STDERR, "src/Customer.php: the @property tags differ from the library's fields; run "
                . "tools/properties.php\n");
            exit(1);
        }
        exit(0);
    }
    if ($old !== $new) {
        file_put_contents($file, $new);
        echo "src/Customer.php: @property tags updated\n";
    }
}
