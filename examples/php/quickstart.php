<?php                                      // in a Composer project that requires patron/patron
require 'vendor/autoload.php';

$pdo = new PDO('sqlite:shop.db');          // the shop's own database: sqlite:, mysql:, pgsql:
$store = new Patron\PdoStore($pdo, ['orders' => null]);   // or ['orders' => ['table' => 'orders', ...]]
$store->createSchema();                    // once; does nothing when the tables are there
$db = Patron\Db::fromStore($store);        // or Patron\Db::memory(), Patron\Db::sqlite('patron.db')
$c = $db->create(['first_name' => 'Anna', 'last_name' => 'Müller', 'email' => 'anna@example.de']);
echo $c->number, "\n";                     // K000001
foreach ($db->match(['first_name' => 'A.', 'last_name' => 'Mueller', 'email' => 'anna@example.de']) as $cand) {
    echo $cand->id, ' ', $cand->decision, "\n";
}
