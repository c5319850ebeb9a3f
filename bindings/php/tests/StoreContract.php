<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\Activation;
use Patron\CaseState;
use Patron\ConflictException;
use Patron\Customer;
use Patron\Db;
use Patron\ExistsException;
use Patron\InvalidValueException;
use Patron\LockedException;
use Patron\MergePlan;
use Patron\NotFoundException;
use Patron\StateException;
use PHPUnit\Framework\TestCase;

/**
 * The binding's behaviour, the same over every store: each concrete test
 * class opens a Db on its store and keeps the host's orders its own way.
 */
abstract class StoreContract extends TestCase
{
    /** Max Müller as the ERP has him. */
    public const MAX = [
        'first_name' => 'Max', 'last_name' => 'Müller', 'email' => 'max@example.de', 'phone' => '030 123456',
        'birth_date' => '1980-05-17',
        'addresses' => [['street' => 'Hauptstraße', 'house_number' => '12', 'postal_code' => '10115',
            'city' => 'Berlin']],
    ];
    /** The same person as a shop registration: other spellings, no email. */
    public const MAX_SHOP = [
        'first_name' => 'Max', 'last_name' => 'Mueller', 'phone' => '+49 30 123456', 'birth_date' => '1980-05-17',
        'addresses' => [['street' => 'Hauptstr.', 'house_number' => '12', 'postal_code' => '10115',
            'city' => 'Berlin']],
    ];
    public const JANA = [
        'first_name' => 'Jana', 'last_name' => 'Neu', 'email' => 'jana@example.de',
        'addresses' => [['street' => 'Weg', 'house_number' => '3', 'postal_code' => '80331', 'city' => 'München']],
    ];

    protected Db $db;

    abstract protected function openDb(): Db;

    /** Put order $ref of the host on customer $customerId. */
    abstract protected function addOrder(string $ref, int $customerId): void;

    /** The customer order $ref belongs to. */
    abstract protected function orderOwner(string $ref): int;

    protected function setUp(): void
    {
        $this->db = $this->openDb();
    }

    protected function tearDown(): void
    {
        unset($this->db);
    }

    public function testCreateLoadUpdateDelete(): void
    {
        $c = new Customer([
            'salutation' => 'Herr', 'title' => 'Dr.', 'first_name' => 'Jürgen', 'last_name' => "O'Brien",
            'company' => 'Brien & Söhne GmbH', 'email' => 'juergen@example.de', 'b2b' => true,
            'vat_id' => 'DE123456789', 'language' => 'de-AT', 'newsletter' => false,
            'order_text' => "Bitte mit Lieferschein.\nDanke!", 'login_user' => 'juergen',
            'login_hash' => '$2y$10$abcdefghijklmnopqrstuv', 'external_source' => 'shop', 'external_id' => '4711',
            'tags' => ['stammkunde', 'vip'], 'properties' => ['loyalty.level' => 'gold'],
        ]);
        $c->addAddress(['label' => 'Rechnung', 'street' => 'Schloßallee', 'house_number' => '1a',
            'postal_code' => '60311', 'city' => 'Frankfurt am Main', 'default' => true]);
        $c->addAddress(['label' => 'Lager', 'street' => 'Ring', 'house_number' => '5', 'postal_code' => '1010',
            'city' => 'Wien', 'country' => 'AT']);
        $this->assertNull($c->id);
        $this->assertSame('new', $c->state());

        $this->assertSame($c, $this->db->create($c));
        $this->assertGreaterThan(0, $c->id);
        $this->assertSame('K000001', $c->number);
        $this->assertSame('active', $c->state);
        $this->assertSame(1, $c->revision);
        $this->assertIsInt($c->created_at);

        $l = $this->db->load($c->id);
        foreach (
            ['salutation', 'title', 'first_name', 'last_name', 'company', 'email', 'b2b', 'vat_id',
                     'language', 'newsletter', 'order_text', 'login_user', 'external_source', 'external_id',
                     'number', 'state', 'revision'] as $f
        ) {
            $this->assertSame($c->{$f}, $l->{$f}, $f);
        }
        $this->assertTrue($l->b2b);
        $this->assertFalse($l->newsletter);
        $this->assertSame(['stammkunde', 'vip'], $l->tags->toArray());
        $this->assertSame(['loyalty.level' => 'gold'], $l->properties->toArray());
        $this->assertCount(2, $l->addresses);
        $this->assertSame('Schloßallee', $l->addresses[0]['street']);
        $this->assertTrue($l->addresses[0]['default']);
        $this->assertSame('AT', $l->address(1)['country']);
        $this->assertSame('DE', $l->address(0)['country']);
        // The password hash is kept but never exported.
        $this->assertSame('$2y$10$abcdefghijklmnopqrstuv', $l->login_hash);
        $this->assertArrayNotHasKey('login_hash', $l->toArray());
        $this->assertTrue($l->toArray()['has_password']);

        $this->assertSame($c->id, $this->db->findByNumber('K000001')->id);
        $this->assertSame($c->id, $this->db->findByEmail('JUERGEN@example.de')->id);
        $this->assertSame($c->id, $this->db->findByLogin('juergen')->id);
        $this->assertSame($c->id, $this->db->findByExternal('shop', '4711')->id);
        $this->assertSame([$c->id], $this->db->lookup('email', 'juergen@example.de'));
        $this->assertSame([], $this->db->lookup('email', 'nobody@example.de'));

        // Update with revision check.
        $l->last_name = 'Obrien';
        $l->removeTag('vip');
        $l->setProperty('loyalty.level', null);
        $l->setAddress(1, ['city' => 'Graz', 'postal_code' => '8010']);
        $this->db->update($l);
        $this->assertSame(2, $l->revision);
        $again = $this->db->load($c->id);
        $this->assertSame('Obrien', $again->last_name);
        $this->assertSame(['stammkunde'], $again->tags->toArray());
        $this->assertSame([], $again->properties->toArray());
        $this->assertSame('Graz', $again->addresses[1]['city']);

        $c->first_name = 'Stale';
        try {
            $this->db->update($c); // still revision 1
            $this->fail('a stale update must conflict');
        } catch (ConflictException $e) {
            $this->assertSame(-5, $e->getCode());
            $this->assertNotSame('', $e->getMessage());
        }
        $this->assertSame('Jürgen', $this->db->load($c->id)->first_name);

        // A second customer, list, delete; numbers are never given twice.
        $d = $this->db->create(['last_name' => 'Zwei']);
        $this->assertSame('K000002', $d->number);
        $this->assertSame([$c->id, $d->id], $this->db->list());
        $this->assertSame([$d->id], $this->db->list(afterId: $c->id));
        $this->assertSame([$c->id], $this->db->list(limit: 1));
        $this->db->delete($d->id);
        $this->assertSame([$c->id], $this->db->list());
        try {
            $this->db->load($d->id);
            $this->fail('a deleted customer must be gone');
        } catch (NotFoundException $e) {
            $this->assertStringContainsString((string) $d->id, $e->getMessage());
        }
        $this->assertSame('K000003', $this->db->create(['last_name' => 'Drei'])->number);
        $this->expectException(ExistsException::class);
        $this->db->create(['last_name' => 'Wieder', 'number' => 'K000002']);
    }

    public function testValuesAreCheckedAtOnce(): void
    {
        $c = new Customer(['last_name' => 'Muster']);
        foreach (
            ['email' => 'not-an-email', 'birth_date' => '1980-13-45', 'b2b' => 'maybe',
                     'language' => 'deutsch'] as $field => $bad
        ) {
            try {
                $c->{$field} = $bad;
                $this->fail("$field=$bad must be refused");
            } catch (InvalidValueException $e) {
                $this->assertSame(-2, $e->getCode());
                $this->assertStringContainsString($field, $e->getMessage());
            }
            $this->assertNull($c->{$field});
        }
        try {
            $c->addAddress(['street' => 'Weg', 'country' => 'XX']);
            $this->fail('an unknown country must be refused');
        } catch (InvalidValueException $e) {
            $this->assertSame(0, $c->addressCount());
        }
        $this->expectException(InvalidValueException::class);
        $c->no_such_field = 'x';
    }

    public function testCloneIsDeepAndFreedOnce(): void
    {
        $c = new Customer(['last_name' => 'Original', 'tags' => ['a']]);
        $d = clone $c;
        $d->last_name = 'Kopie';
        $d->addTag('b');
        $this->assertSame('Original', $c->last_name);
        $this->assertSame(['a'], $c->tags->toArray());
        $this->assertSame(['a', 'b'], $d->tags->toArray());
        unset($c);
        $this->assertSame('Kopie', $d->last_name);
    }

    public function testMatchWithExplanationsAndDedupe(): void
    {
        $max = $this->db->create(self::MAX);
        $jana = $this->db->create(self::JANA);
        $candidates = $this->db->match(new Customer(self::MAX_SHOP));
        $this->assertCount(1, $candidates);
        $best = $candidates[0];
        $this->assertSame($max->id, $best->id);
        $this->assertSame('merge', $best->decision);
        $this->assertGreaterThan(0.0, $best->score);
        $last = $best->field('last_name');
        $this->assertNotNull($last);
        $this->assertSame('mueller', $last['a']);
        $this->assertSame('mueller', $last['b']);
        $this->assertGreaterThan(0.0, $last['weight']);
        $this->assertNotSame('', $last['level']);
        // score = prior + the field weights + adjustment (address floor, name+address ceiling)
        $sum = array_sum(array_column($best->explanation, 'weight'));
        $this->assertEqualsWithDelta($best->score, $best->prior + $sum + $best->adjustment, 1e-6);
        $this->assertEqualsWithDelta(1.0 / (1.0 + 2 ** -$best->score), $best->probability, 1e-9);
        $this->assertSame('', $best->rule);
        $this->assertArrayHasKey('holders', $last);
        $this->assertArrayHasKey('level_weight', $last);

        // A stored customer is not its own candidate; Jana has none.
        $this->assertSame([], $this->db->match($this->db->load($jana->id)));
        // The email mode: plus tags and googlemail.
        $this->db->create(['last_name' => 'Fischer', 'email' => 'evafischer@gmail.com']);
        $byEmail = $this->db->match(new Customer(['email' => 'Eva.Fischer+shop@googlemail.com']), 'email');
        $this->assertCount(1, $byEmail);

        $twin = $this->db->create(self::MAX_SHOP);
        $dd = $this->db->dedupe();
        $pair = array_values(array_filter($dd->pairs, fn($p) => $p->idA === $max->id && $p->idB === $twin->id));
        $this->assertCount(1, $pair);
        $this->assertSame('merge', $pair[0]->decision);
        $this->assertSame($max->id, $dd->clusterOf($twin->id));
        $this->assertSame($max->id, $dd->clusterOf($twin));
        $this->assertSame(0, $dd->clusterOf($jana->id));
        $this->assertSame([$max->id => [$max->id, $twin->id]], $dd->clusters);
    }

    public function testReviewQueue(): void
    {
        // issue 12: the queue, the decisions, the same shapes as Python
        $this->assertSame('not_duplicate', CaseState::NotDuplicate->value);
        $this->assertSame(CaseState::NotDuplicate, CaseState::of('distinct'));
        $max = $this->db->create(self::MAX);
        $twin = $this->db->create(self::MAX_SHOP);
        $jana = $this->db->create(self::JANA);
        $jana2 = $this->db->create(['first_name' => 'Jana', 'last_name' => 'Neu', 'email' => 'jana@example.de']);
        $stats = $this->db->reviewScan();
        $this->assertTrue($stats['full']);
        $this->assertSame(2, $stats['open']);
        $cases = $this->db->reviewCases();
        $this->assertCount(2, $cases);
        $members = array_map(fn($c) => $c->members, $cases);
        sort($members);
        $this->assertSame([[$max->id, $twin->id], [$jana->id, $jana2->id]], $members);
        $this->assertSame(CaseState::Open, $cases[0]->state);
        $this->assertGreaterThanOrEqual($cases[1]->score, $cases[0]->score);
        $this->assertNotSame('', $cases[0]->reason);
        $janaCase = array_values(array_filter($cases, fn($c) => $c->members === [$jana->id, $jana2->id]))[0];
        $maxCase = array_values(array_filter($cases, fn($c) => $c->members === [$max->id, $twin->id]))[0];
        $this->db->reviewDecide($janaCase->id, 'distinct', 'anna', 'zwei Personen');
        $got = $this->db->reviewCase($janaCase->id);
        $this->assertSame(CaseState::NotDuplicate, $got->state);
        $this->assertSame(['anna', 'zwei Personen'], [$got->decidedBy, $got->note]);
        $this->assertCount(1, $this->db->reviewCases());
        $this->assertCount(2, $this->db->reviewCases([CaseState::Open, 'not_duplicate']));
        $this->assertSame(1, $this->db->reviewScan(true)['open']);
        try {
            $this->db->reviewDecide($janaCase->id, 'maybe', 'anna');
            $this->fail('an unknown state is refused');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('maybe', $e->getMessage());
        }
        $plan = $this->db->reviewPlan($maxCase->id);
        $this->assertFalse($plan->blocked());
        $this->assertSame(1, $plan->addressCount()); // Hauptstraße 12 = Hauptstr. 12
        $jid = $this->db->reviewMerge($maxCase->id, 'anna', $plan);
        $this->assertSame(CaseState::Merged, $this->db->reviewCase($maxCase->id)->state);
        $this->assertSame($jid, $this->db->reviewCase($maxCase->id)->journal);
        $this->db->undo($jid);
        $this->assertSame(CaseState::Open, $this->db->reviewCase($maxCase->id)->state);
    }

    public function testReviewHtml(): void
    {
        // issue 12, point 8: the page of `patron review --html`, from PHP
        $this->db->create(self::MAX);
        $this->db->create(self::MAX_SHOP);
        $evil = ['first_name' => 'Eve', 'last_name' => '<script>alert(1)</script>', 'email' => 'eve@example.com'];
        $this->db->create($evil);
        $this->db->create($evil);
        $this->db->reviewScan();
        $cases = $this->db->reviewCases();
        $this->assertCount(2, $cases);
        $page = $this->db->reviewHtml();
        $this->assertStringStartsWith('<!DOCTYPE html>', $page);
        $this->assertSame(2, substr_count($page, '<article class="case '));
        foreach ($cases as $c) {
            $this->assertStringContainsString('id="case-' . $c->id . '"', $page);
        }
        $this->assertStringContainsString('&lt;script&gt;alert(1)&lt;/script&gt;', $page);
        $this->assertSame(1, substr_count($page, '<script'));
        $this->db->reviewDecide($cases[0]->id, CaseState::Deferred, 'anna');
        $this->assertSame(1, substr_count($this->db->reviewHtml(), '<article class="case '));
        $deferred = $this->db->reviewHtml(['deferred']);
        $this->assertSame(1, substr_count($deferred, '<article class="case '));
        $this->assertStringContainsString('id="case-' . $cases[0]->id . '"', $deferred);
        $both = $this->db->reviewHtml([CaseState::Open, 'deferred']);
        $this->assertSame(2, substr_count($both, '<article class="case '));
        try {
            $this->db->reviewHtml([]);
            $this->fail('no state is refused');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('no case state', $e->getMessage());
        }
    }

    public function testHouseholdFrequencyAndConfiguration(): void
    {
        $max = $this->db->create(self::MAX);
        $erika = $this->db->create(
            ['first_name' => 'Erika', 'birth_date' => '1983-02-01', 'email' => 'erika@example.de'] + self::MAX
        );
        $c = array_values(array_filter($this->db->match($this->db->load($erika->id)), fn($x) => $x->id === $max->id));
        $this->assertCount(1, $c);
        $this->assertSame('household', $c[0]->decision);
        $this->assertSame('household', $c[0]->rule);
        $last = $c[0]->field('last_name');
        $this->assertTrue($last['frequency']);
        $this->assertSame(2, $last['holders']);
        $this->assertSame(2, $last['customers']);
        $dd = $this->db->dedupe();
        $this->assertSame(0, $dd->clusterOf($erika->id));
        $this->assertSame(min($max->id, $erika->id), $dd->householdOf($erika->id));
        $this->assertSame(min($max->id, $erika->id), $dd->householdOf($max->id));

        $s = $this->db->matchSettings();
        $this->assertSame(0.98, $s['merge_probability']);
        $this->assertSame('DE', $s['default_country']);
        $this->db->setMatchSettings(['merge_probability' => 0.99, 'default_country' => 'AT']);
        $s = $this->db->matchSettings();
        $this->assertSame(0.99, $s['merge_probability']);
        $this->assertSame('AT', $s['default_country']);
        $this->db->setMatchProbability('phone', 'exact', 0.8, 0.01);
        $this->assertSame([0.8, 0.01], $this->db->matchProbability('phone', 'exact'));
        $this->db->addIdentifier('kundenkarte');
        $this->assertSame(['kundenkarte'], $this->db->identifiers());
        $this->db->removeIdentifier('kundenkarte');
        $this->assertSame([], $this->db->identifiers());
        $this->db->resetMatchConfig();
        $this->assertSame(0.98, $this->db->matchSettings()['merge_probability']);
    }

    public function testEstimate(): void
    {
        // too few customers: nothing stored, the report says why, no error
        $r = $this->db->estimate();
        $this->assertFalse($r->stored);
        $this->assertContains('too_few', $r->flags);
        $this->assertStringContainsString('too few', $r->message);
        $this->assertSame([0.88, 0.0003], $this->db->matchProbability('birth_date', 'exact'));
        // a store with duplicates: every tenth person registered twice
        $firsts = ['Anna', 'Bernd', 'Clara', 'Dieter', 'Eva', 'Frank', 'Gisela', 'Hans', 'Ines', 'Jens'];
        $lasts = ['Adler', 'Brandt', 'Corbach', 'Dressler', 'Ebert', 'Fiedler', 'Gerber', 'Hauser', 'Imhof',
            'Jansen', 'Kessler', 'Lindner', 'Maurer', 'Nagel', 'Oswald', 'Pohl', 'Quast', 'Reuter', 'Sauer',
            'Thiele', 'Ulrich', 'Vollmer', 'Wendt', 'Xander', 'Yilmaz', 'Zeller', 'Arndt', 'Bock', 'Conrad',
            'Dietz', 'Ernst', 'Franke', 'Glaser'];
        for ($i = 0; $i < 400; $i++) {
            $birth = sprintf('19%02d-%02d-%02d', 40 + $i % 60, 1 + $i % 12, 1 + ($i * 3) % 28);
            for ($copy = 0; $copy < ($i % 10 === 0 ? 2 : 1); $copy++) {
                $this->db->create([
                    'first_name' => $firsts[$i % 10], 'last_name' => $lasts[($i * 7) % count($lasts)],
                    'email' => "p$i.$copy@example.de", 'birth_date' => $birth,
                    'addresses' => [['street' => "Weg $i", 'house_number' => (string) (1 + $i % 90),
                        'postal_code' => sprintf('%05d', 10115 + ($i * 37) % 800), 'city' => 'Stadt']],
                ]);
            }
        }
        $dry = $this->db->estimate(dryRun: true);
        $this->assertFalse($dry->stored);
        $this->assertTrue($dry->converged);
        $this->assertSame([], $dry->flags);
        $this->assertSame([0.88, 0.0003], $this->db->matchProbability('birth_date', 'exact'));
        $r = $this->db->estimate(seed: 1, randomPairs: 20000);
        $this->assertTrue($r->stored);
        $this->assertSame(440, $r->customers);
        $this->assertSame(20000, $r->randomPairs);
        $this->assertGreaterThan(0, $r->candidatePairs);
        $this->assertGreaterThan(0, $r->iterations);
        $this->assertGreaterThan(0.0, $r->prior);
        $this->assertLessThan(0.01, $r->prior);
        $this->assertStringContainsString('model stored', $r->message);
        $this->assertNotSame([0.88, 0.0003], $this->db->matchProbability('birth_date', 'exact'));
        try {
            $this->db->estimate(seed: -1);
            $this->fail('a negative seed was taken');
        } catch (InvalidValueException $e) {
            $this->assertStringContainsString('negative', $e->getMessage());
        }
        $this->db->resetMatchConfig();
        $this->assertSame([0.88, 0.0003], $this->db->matchProbability('birth_date', 'exact'));
    }

    public function testMergeWithPlanEditingAndUndo(): void
    {
        $a = $this->db->create(self::MAX + ['login_user' => 'max', 'notes' => 'ERP']);
        $b = $this->db->create(self::MAX_SHOP + ['email' => 'max.m@example.de', 'company' => 'Max GmbH',
                'tags' => ['shop'], 'notes' => 'Shop']);
        $this->addOrder('A-100', $a->id);
        $this->addOrder('B-200', $b->id);
        $this->addOrder('B-201', $b->id);

        $plan = $this->db->mergePlan($a->id, [$b->id]);
        $this->assertSame(2, $plan->count());
        $this->assertSame('Mueller', $plan->record(1)->last_name);
        $this->assertSame([], $plan->problems());
        $this->assertTrue($plan->conflict('email'));
        $this->assertContains('email', $plan->conflicts());
        $this->assertNotContains('last_name', $plan->conflicts()); // Müller = Mueller
        $this->assertSame(0, $plan->choice('email'));
        $this->assertSame('max@example.de', $plan->value('email'));
        $this->assertSame(1, $plan->choice('company')); // the survivor has none
        $this->assertSame(MergePlan::NOT_MERGED, $plan->choice('revision'));
        // Edit: the duplicate's email, a phone of our own.
        $plan->take('email', 1)->set('phone', '030 999999');
        $this->assertSame(1, $plan->choice('email'));
        $this->assertSame(MergePlan::CUSTOM, $plan->choice('phone'));
        $this->assertSame('030 999999', $plan->fields()['phone']['value']);
        // Per-record values, as Python's MergePlan.fields: 0 the survivor, 1 the duplicate.
        $email = $plan->fields()['email'];
        $this->assertSame(['name' => 'email', 'choice' => 1, 'value' => 'max.m@example.de', 'conflict' => true,
            'values' => ['max@example.de', 'max.m@example.de']], $email);
        $this->assertSame([null, 'Max GmbH'], $plan->field('company')['values']);
        $this->assertArrayNotHasKey('revision', $plan->fields());
        $this->assertArrayNotHasKey('login_hash', $plan->fields());
        $this->assertNotSame([], $plan->toArray());
        $this->assertStringNotContainsString('login_hash', $plan->toJson());
        try {
            $plan->set('email', 'broken');
            $this->fail('a plan value is checked like a field');
        } catch (InvalidValueException $e) {
            $this->assertSame('max.m@example.de', $plan->value('email'));
        }
        // Nothing is changed by a plan.
        $this->assertSame('max@example.de', $this->db->load($a->id)->email);

        $journalId = $this->db->merge($plan);
        $this->assertGreaterThan(0, $journalId);
        $s = $this->db->load($a->id);
        $this->assertSame('max.m@example.de', $s->email);
        $this->assertSame('030 999999', $s->phone);
        $this->assertSame('Max GmbH', $s->company);
        $this->assertContains('shop', $s->tags->toArray());
        $this->assertSame('merged', $this->db->load($b->id)->state);
        $this->assertSame($a->id, $this->db->load($b->id)->merged_into);
        $this->assertSame($a->id, $this->db->findByNumber($b->number)->id); // the number leads to the survivor
        foreach (['A-100', 'B-200', 'B-201'] as $ref) {
            $this->assertSame($a->id, $this->orderOwner($ref), $ref);
        }
        $journal = $this->db->journal();
        $this->assertSame('merge', end($journal)['kind']);
        $export = $this->db->export([$a->id, $b->id]);
        $this->assertCount(2, $export);
        $this->assertArrayNotHasKey('login_hash', $export[0]);

        // A merged record cannot be edited or merged again.
        $gone = $this->db->load($b->id);
        $gone->first_name = 'X';
        try {
            $this->db->update($gone);
            $this->fail('a merged record cannot be updated');
        } catch (StateException $e) {
            $this->assertNotSame('', $e->getMessage());
        }

        $undoId = $this->db->undo($journalId);
        $this->assertGreaterThan($journalId, $undoId);
        $this->assertSame('max@example.de', $this->db->load($a->id)->email);
        $this->assertNull($this->db->load($a->id)->company);
        $this->assertSame('active', $this->db->load($b->id)->state);
        $this->assertSame($b->id, $this->db->findByNumber($b->number)->id);
        $this->assertSame($a->id, $this->orderOwner('A-100'));
        $this->assertSame($b->id, $this->orderOwner('B-200'));
        $this->assertSame($b->id, $this->orderOwner('B-201'));
        $kinds = array_column($this->db->journal(), 'kind');
        $this->assertSame(['merge', 'undo'], array_slice($kinds, -2));
        $this->expectException(StateException::class);
        $this->db->undo($journalId);
    }

    public function testMergeShortcutAndPlanErrors(): void
    {
        $a = $this->db->create(['last_name' => 'A']);
        $b = $this->db->create(['last_name' => 'B']);
        try {
            $this->db->mergePlan($a->id, [$a->id]);
            $this->fail('the survivor cannot be its own duplicate');
        } catch (InvalidValueException $e) {
            $this->assertNotSame('', $e->getMessage());
        }
        try {
            $this->db->mergePlan($a->id, [999]);
            $this->fail('a missing record');
        } catch (NotFoundException $e) {
            $this->assertStringContainsString('999', $e->getMessage());
        }
        $j = $this->db->merge($a->id, [$b->id]);
        $this->assertGreaterThan(0, $j);
        $this->assertSame('merged', $this->db->load($b->id)->state);
    }

    public function testRegisterReportsAnActiveCustomersEmail(): void
    {
        $kai = $this->db->create(['first_name' => 'Kai', 'last_name' => 'Stern', 'email' => 'kai@example.de']);
        $shop = $this->db->register(
            ['first_name' => 'Kai', 'last_name' => 'Stern', 'email' => 'KAI@example.de'],
            $existing
        );
        $this->assertSame($kai->id, $existing);
        $this->assertSame('pending', $shop->state);
        $this->db->register(['first_name' => 'Ina', 'last_name' => 'Neu', 'email' => 'ina@example.de'], $none);
        $this->assertNull($none);
    }

    public function testActivationInteractiveShowsCandidatesAndChangesNothing(): void
    {
        $max = $this->db->create(self::MAX);
        $dup = $this->db->register(self::MAX_SHOP);
        $this->assertSame('pending', $dup->state);
        $this->assertNull($dup->number);
        $jana = $this->db->register(self::JANA);
        $this->assertSame([$dup->id, $jana->id], $this->db->list('pending'));

        $a = $this->db->activate($dup->id);
        $this->assertSame(Activation::REVIEW, $a->outcome);
        $this->assertStringContainsString('review', $a->message);
        $this->assertCount(1, $a->candidates);
        $this->assertSame($max->id, $a->candidates[0]->id);
        $this->assertSame('merge', $a->candidates[0]->decision);
        $this->assertSame('pending', $this->db->load($dup->id)->state);

        $b = $this->db->activate($jana->id, 'interactive');
        $this->assertSame(Activation::ACTIVATED, $b->outcome);
        $this->assertSame('K000002', $b->number);
        $this->assertSame('active', $this->db->load($jana->id)->state);

        // The shop decides: merge with the ready plan, survivor the existing customer.
        $plan = $a->plan(0);
        $this->assertSame($max->id, $plan->record(0)->id);
        $this->assertSame($dup->id, $plan->record(1)->id);
        unset($a); // the plan keeps its activation alive
        $j = $this->db->merge($plan);
        $this->assertGreaterThan(0, $j);
        $this->assertSame([], $this->db->list('pending'));
        $this->assertSame('merged', $this->db->load($dup->id)->state);

        try {
            $this->db->activate($max->id);
            $this->fail('an active customer is not pending');
        } catch (StateException $e) {
            $this->assertStringContainsString('pending', $e->getMessage());
        }
        $this->expectException(NotFoundException::class);
        $this->db->activate(999);
    }

    public function testActivatePendingAutoAndEmailModes(): void
    {
        $max = $this->db->create(self::MAX);
        $dup = $this->db->register(self::MAX_SHOP);
        $new = $this->db->register(['first_name' => 'Jana', 'last_name' => 'Neu', 'email' => 'jana@example.de']);
        $seen = [];
        $sum = $this->db->activatePending('auto', false, function (Activation $r) use (&$seen) {
            $seen[] = $r->customerId . ':' . $r->outcome;
        });
        $this->assertSame([1, 1, 0, 0], [$sum->activated, $sum->merged, $sum->review, $sum->failed]);
        $this->assertSame(["{$dup->id}:merged", "{$new->id}:activated"], $seen);
        $this->assertSame($max->id, $sum->results[0]->mergedInto);
        $this->assertSame('K000001', $sum->results[0]->number);
        $this->assertGreaterThan(0, $sum->results[0]->journalId);
        $this->assertSame('K000002', $sum->results[1]->number);
        $this->assertSame('merged', $this->db->load($dup->id)->state);
        $none = $this->db->activatePending('auto');
        $this->assertSame([0, 0, 0, 0], [$none->activated, $none->merged, $none->review, $none->failed]);

        // Email mode: the same mailbox in another spelling merges; a similar name does not.
        $a = $this->db->register(['first_name' => 'Eva', 'last_name' => 'Fischer',
            'email' => 'eva.fischer+shop@gmail.com']);
        $b = $this->db->register(['first_name' => 'Eva', 'last_name' => 'Fischer', 'email' => 'eva@example.de']);
        $erp = $this->db->create(['first_name' => 'E.', 'last_name' => 'Fischer-Schulz',
            'email' => 'EvaFischer@googlemail.com']);
        $sum = $this->db->activatePending('email');
        $this->assertSame([1, 1, 0, 0], [$sum->activated, $sum->merged, $sum->review, $sum->failed]);
        $this->assertSame($erp->id, $this->db->load($a->id)->merged_into);
        $this->assertSame('active', $this->db->load($b->id)->state);

        // The callback can stop the batch, and its exception comes through.
        $this->db->register(['last_name' => 'Eins', 'email' => 'eins@example.de']);
        $this->db->register(['last_name' => 'Zwei', 'email' => 'zwei@example.de']);
        $sum = $this->db->activatePending('auto', false, fn() => false);
        $this->assertCount(1, $sum->results);
        try {
            $this->db->activatePending('auto', false, function () {
                throw new \DomainException('shop hook failed');
            });
            $this->fail('the exception of the callback must come through');
        } catch (\DomainException $e) {
            $this->assertSame('shop hook failed', $e->getMessage());
        }
        $this->assertSame([], $this->db->list('pending'));
    }

    public function testAutoNeverMergesIntoALockedCustomerAndRelease(): void
    {
        $max = $this->db->create(self::MAX);
        $this->db->lock($max->id, 'Betrug');
        $dup = $this->db->register(self::MAX_SHOP);
        $a = $this->db->activate($dup->id, 'auto');
        $this->assertSame(Activation::ACTIVATED, $a->outcome);
        $this->assertCount(1, $a->candidates);

        $other = $this->db->register(self::MAX_SHOP + ['email' => 'max2@example.de']);
        $this->assertSame('K000003', $this->db->release($other->id));
        $this->assertSame('active', $this->db->load($other->id)->state);
        $this->assertContains('release', array_column($this->db->journal(), 'kind'));
        $this->expectException(StateException::class);
        $this->db->release($other->id);
    }

    public function testLockAndTheGate(): void
    {
        $max = $this->db->create(['first_name' => 'Max', 'last_name' => 'Muster', 'email' => 'max@example.de',
            'login_user' => 'max']);
        $ina = $this->db->create(['first_name' => 'Ina', 'last_name' => 'Ohne', 'email' => 'ina@example.de']);
        $g = $this->db->canLogin('max');
        $this->assertTrue($g->allowed());
        $this->assertSame($max->id, $g->customerId);
        $this->assertSame($ina->id, $this->db->canLogin('INA@example.de')->customerId);
        $this->assertTrue($this->db->canOrder($max->id)->allowed());

        $this->db->lock($max->id, 'Zahlungsausfall');
        $l = $this->db->load($max->id);
        $this->assertTrue($l->locked);
        $this->assertSame('Zahlungsausfall', $l->lock_reason);
        $this->assertIsInt($l->locked_at);
        $g = $this->db->canLogin('max');
        $this->assertSame('locked', $g->verdict);
        $this->assertFalse($g->allowed());
        $this->assertSame($max->id, $g->customerId);
        $this->assertSame('locked', $this->db->canOrder($max->id)->verdict);
        $this->assertSame([$max->id], $this->db->list(locked: true));
        $this->assertSame([$ina->id], $this->db->list(locked: false));
        try {
            $this->db->register(['last_name' => 'Neu', 'email' => 'Max@Example.de']);
            $this->fail('a locked customer cannot come back under a new account');
        } catch (LockedException $e) {
            $this->assertStringContainsString('locked', $e->getMessage());
        }
        try {
            $this->db->lock($max->id, '');
            $this->fail('a lock needs a reason');
        } catch (InvalidValueException $e) {
            $this->assertNotSame('', $e->getMessage());
        }
        $this->db->unlock($max->id);
        $this->db->unlock($max->id);
        $this->assertTrue($this->db->canLogin('max')->allowed());
        $this->assertSame(['lock', 'unlock'], array_column($this->db->journal(), 'kind'));

        $this->assertSame('unknown', $this->db->canLogin('nobody')->verdict);
        $this->assertSame(0, $this->db->canLogin('nobody')->customerId);
        $this->assertSame('unknown', $this->db->canOrder(999)->verdict);
        $p = $this->db->register(['last_name' => 'Shop', 'email' => 'shop@example.de', 'login_user' => 'shopper']);
        $this->assertSame('pending', $this->db->canLogin('shopper')->verdict);
        $this->assertSame('pending', $this->db->canOrder($p->id)->verdict);
        try {
            $this->db->register(['last_name' => 'Zwei', 'email' => 'SHOP@example.de']);
            $this->fail('a second registration is reported');
        } catch (ExistsException $e) {
            $this->assertStringContainsString('already registered', $e->getMessage());
        }
        // A merged customer's orders go to the survivor.
        $num = $this->db->release($p->id);
        $this->db->merge($ina->id, [$p->id]);
        $g = $this->db->canOrder($p->id);
        $this->assertSame('merged', $g->verdict);
        $this->assertSame($ina->id, $g->customerId);
        $this->assertSame($ina->id, $this->db->findByNumber($num)->id);
        $this->assertTrue($this->db->canLogin('shopper')->allowed());
    }

    public function testGroups(): void
    {
        $a = $this->db->create(['last_name' => 'A']);
        $this->assertSame([], $this->db->groups());
        $this->db->groupAdd('Endkunden');
        $this->db->groupAdd('Händler');
        try {
            $this->db->groupAdd('Händler');
            $this->fail('a group name is unique');
        } catch (ExistsException $e) {
            $this->assertStringContainsString('Händler', $e->getMessage());
        }
        $this->db->groupSet('Händler', 'discount_percent', 7.5);
        $this->db->groupSet('Händler', 'price_category', 'B');
        try {
            $this->db->groupSet('Händler', 'discount_percent', '101');
            $this->fail('a discount is at most 100');
        } catch (InvalidValueException $e) {
            $this->assertNotSame('', $e->getMessage());
        }
        $groups = array_column($this->db->groups(), null, 'name');
        $this->assertEquals(7.5, $groups['Händler']['discount_percent']);
        $this->assertSame('B', $groups['Händler']['price_category']);
        $this->assertTrue($groups['Endkunden']['default']);
        $this->assertFalse($groups['Händler']['default']);

        $b = $this->db->create(['last_name' => 'B']);
        $this->assertSame('Endkunden', $b->group); // joins the default group
        $this->db->groupAssign('Händler', $a->id);
        $this->db->groupAssign('Händler', $b->id);
        $this->assertSame('Händler', $this->db->load($a->id)->group);
        $this->assertSame([$a->id, $b->id], $this->db->list(group: 'Händler'));
        $this->assertSame(2, array_column($this->db->groups(), null, 'name')['Händler']['customers']);
        try {
            $this->db->groupDelete('Händler');
            $this->fail('a group with active customers stays');
        } catch (StateException $e) {
            $this->assertStringContainsString('2 active customers', $e->getMessage());
        }
        try {
            $this->db->groupDelete('Endkunden');
            $this->fail('the default group stays');
        } catch (StateException $e) {
            $this->assertStringContainsString('default group', $e->getMessage());
        }
        $this->db->groupRename('Händler', 'Großhandel');
        $this->assertSame('Großhandel', $this->db->load($a->id)->group);
        $this->db->groupAssign('Endkunden', $a->id);
        $this->db->groupAssign('Endkunden', $b->id);
        $this->db->groupDelete('Großhandel');
        $this->assertSame(['Endkunden'], array_column($this->db->groups(), 'name'));
        $this->expectException(NotFoundException::class);
        $this->db->groupRename('Nix', 'Neu');
    }
}
