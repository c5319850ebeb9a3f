<?php

/*
 * The shop activation workflow, with the customers in the shop's own
 * database (SQLite through PDO here; the same PdoStore works on MySQL/MariaDB
 * and PostgreSQL) next to the shop's orders table:
 *
 *   1. the ERP's customers are there already; customer groups with discounts;
 *   2. shoppers register in the online shop (pending, no customer number) and
 *      may even order before they are activated;
 *   3. the back office activates them: by email, side by side with a merge
 *      plan it edits, and the rest in a batch — merges move the shop's
 *      orders to the surviving customer in the same transaction;
 *   4. the gate: who may log in and order; a lock; the journal.
 *
 * Run:  PATRON_LIBRARY=build/src/libpatron.so.1 php -d ffi.enable=1 examples/php/shop_activation.php
 * It checks its own results and exits non-zero if one is wrong.
 */

declare(strict_types=1);

require __DIR__ . '/../../bindings/php/autoload.php';

use Patron\Activation;
use Patron\Db;
use Patron\ExistsException;
use Patron\LockedException;
use Patron\PdoStore;

$failed = 0;
function check(bool $ok, string $what): void
{
    global $failed;
    echo ($ok ? '  ok   ' : '  FAIL ') . $what . "\n";
    if (!$ok) {
        $failed++;
    }
}

// ---- the shop's database ------------------------------------------------------
$file = tempnam(sys_get_temp_dir(), 'shop') . '.sqlite';
$pdo = new PDO('sqlite:' . $file);
$pdo->exec('CREATE TABLE orders (id VARCHAR(32) NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL,
    total_cents INTEGER NOT NULL)');
$store = new PdoStore($pdo, ['orders' => ['table' => 'orders', 'id' => 'id', 'customer' => 'customer_id']]);
$store->createSchema();
$db = Db::fromStore($store);
$order = $pdo->prepare('INSERT INTO orders (id, customer_id, total_cents) VALUES (?, ?, ?)');
$ownerOf = function (string $id) use ($pdo): int {
    $st = $pdo->prepare('SELECT customer_id FROM orders WHERE id = ?');
    $st->execute([$id]);
    return (int) $st->fetchColumn();
};

echo "1. ERP customers and groups\n";
$db->groupAdd('Endkunden');                       // the first group is the default
$db->groupAdd('Händler');
$db->groupSet('Händler', 'discount_percent', 7.5);
$max = $db->create([
    'salutation' => 'Herr', 'first_name' => 'Max', 'last_name' => 'Müller', 'email' => 'max@example.de',
    'phone' => '030 123456', 'birth_date' => '1980-05-17',
    'addresses' => [['street' => 'Hauptstraße', 'house_number' => '12', 'postal_code' => '10115',
        'city' => 'Berlin', 'default' => true]],
]);
$mallory = $db->create(['first_name' => 'Mal', 'last_name' => 'Lory', 'email' => 'mallory@example.de']);
$db->lock($mallory->id, 'Zahlungsausfall');
$order->execute(['E-1001', $max->id, 12900]);
check($max->number === 'K000001' && $max->group === 'Endkunden', "Max is $max->number in group $max->group");

echo "2. Shop registrations\n";
$maxShop = $db->register([
    'first_name' => 'Max', 'last_name' => 'Mueller', 'phone' => '+49 30 123456', 'birth_date' => '1980-05-17',
    'login_user' => 'maxm', 'login_hash' => '$2y$10$shopshopshopshopshopsh',
    'addresses' => [['street' => 'Hauptstr.', 'house_number' => '12', 'postal_code' => '10115', 'city' => 'Berlin']],
]);
$evaShop = $db->register(['first_name' => 'Eva', 'last_name' => 'Fischer', 'email' => 'eva.fischer+shop@gmail.com',
    'login_user' => 'eva']);
$jana = $db->register(['first_name' => 'Jana', 'last_name' => 'Neu', 'email' => 'jana@example.de',
    'login_user' => 'jana',
    'addresses' => [['street' => 'Weg', 'house_number' => '3', 'postal_code' => '80331', 'city' => 'München']]]);
// Meanwhile the ERP enters Eva from a phone order, her mailbox spelt differently.
$eva = $db->create(['first_name' => 'E.', 'last_name' => 'Fischer-Schulz', 'email' => 'EvaFischer@googlemail.com',
    'group' => 'Händler']);
check($maxShop->state === 'pending' && $maxShop->number === null, 'registrations are pending, without a number');
try {
    $db->register(['last_name' => 'Lory', 'email' => 'Mallory@Example.de']);
    check(false, 'a locked customer must not come back');
} catch (LockedException $e) {
    check(true, 'locked customer refused: ' . $e->getMessage());
}
try {
    $db->register(['last_name' => 'Neu', 'email' => 'JANA@example.de']);
    check(false, 'a second registration must be reported');
} catch (ExistsException $e) {
    check(true, 'second registration reported: ' . $e->getMessage());
}
check($db->canLogin('maxm')->verdict === 'pending', 'a pending shopper may not log in yet');
$order->execute(['S-2001', $maxShop->id, 4990]);   // the shop took an order anyway
$order->execute(['S-2002', $maxShop->id, 1500]);

echo "3. Back office: activation\n";
$a = $db->activate($evaShop->id, 'email');
check($a->outcome === Activation::MERGED && $a->mergedInto === $eva->id,
    "Eva by email: $a->message");

$a = $db->activate($maxShop->id, 'interactive');
check($a->outcome === Activation::REVIEW && $a->candidates[0]->id === $max->id,
    sprintf('Max needs review: candidate #%d, %s, score %.1f', $a->candidates[0]->id, $a->candidates[0]->decision,
        $a->candidates[0]->score));
$plan = $a->plan(0);                                 // the ERP customer survives
echo '       side by side: ' . implode(', ', array_map(
    fn($f) => sprintf('%s "%s" / "%s"', $f, $plan->record(0)->{$f}, $plan->record(1)->{$f}),
    ['last_name', 'phone'])) . "\n";
check($plan->value('login_user') === 'maxm', 'the plan brings the shop login to the ERP customer');
$plan->set('notes', 'Shop-Konto zusammengeführt');
$journalId = $db->merge($plan);
$survivor = $db->load($max->id);
check($survivor->number === 'K000001' && $survivor->login_user === 'maxm', 'Max keeps K000001 and gets his login');
check($ownerOf('S-2001') === $max->id && $ownerOf('S-2002') === $max->id && $ownerOf('E-1001') === $max->id,
    "the shop's orders moved to K000001 in the same transaction");

$summary = $db->activatePending('auto', false, function (Activation $r) {
    echo "       batch: #$r->customerId $r->outcome $r->message\n";
});
check($summary->activated === 1 && $summary->merged === 0 && $db->list('pending') === [],
    'the batch activated the rest');
$janaNow = $db->load($jana->id);
check($janaNow->number === 'K000004' && $janaNow->group === 'Endkunden', "Jana is $janaNow->number");

echo "4. The gate, a lock, the journal\n";
check($db->canLogin('maxm')->allowed() && $db->canLogin('maxm')->customerId === $max->id, 'maxm logs in as K000001');
check($db->canLogin('eva')->customerId === $eva->id, 'eva logs in as the ERP customer');
check($db->canOrder($maxShop->id)->verdict === 'merged' && $db->canOrder($maxShop->id)->customerId === $max->id,
    'an order for the merged shop account goes to the survivor');
$db->lock($jana->id, 'Rücklastschrift');
check($db->canOrder($jana->id)->verdict === 'locked', 'a locked customer may not order');
$db->unlock($jana->id);
$kinds = array_column($db->journal(), 'kind');
check(in_array('merge', $kinds, true) && in_array('lock', $kinds, true), 'journal: ' . implode(', ', $kinds));

// Changed our mind about Max: undo restores records, numbers and orders.
$db->undo($journalId);
check($ownerOf('S-2001') === $maxShop->id && $db->load($maxShop->id)->state === 'pending',
    'undo: the shop account and its orders are back');

unset($db, $store, $plan, $a, $survivor);
$pdo = null;
@unlink($file);
echo $failed === 0 ? "shop activation: all checks passed\n" : "shop activation: $failed check(s) FAILED\n";
exit($failed === 0 ? 0 : 1);
