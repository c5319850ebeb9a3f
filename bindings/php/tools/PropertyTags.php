<?php

declare(strict_types=1);

namespace PatronTools;

use Patron\Fields;

/**
 * The @property tags of Patron\Customer, made from the loaded library's
 * field table (patron_field_count, _name, _kind, _flags); used by
 * tools/properties.php and tests/CustomerPropertiesTest.php.
 */
final class PropertyTags
{
    public const BEGIN = ' * @generated-properties-begin';
    public const END = ' * @generated-properties-end';

    /** @return list<string> the docblock lines for every customer field, in id order */
    public static function lines(): array
    {
        $lines = [];
        foreach (array_keys(Fields::customer()) as $name) {
            $tag = Fields::isSystem($name) ? '@property-read' : '@property';
            $lines[] = " * $tag " . Fields::phpType($name) . "|null \$$name";
        }
        return $lines;
    }

    /** $source (Customer.php) with the generated lines between the markers. */
    public static function apply(string $source): string
    {
        $a = strpos($source, self::BEGIN . "\n");
        $b = strpos($source, self::END . "\n");
        if ($a === false || $b === false || $b < $a) {
            throw new \RuntimeException('Customer.php lacks the @generated-properties markers');
        }
        $head = substr($source, 0, $a + strlen(self::BEGIN) + 1);
        return $head . implode("\n", self::lines()) . "\n" . substr($source, $b);
    }
}
