#!/usr/bin/env python3
"""Quality test of the matcher (issues 4 and 11): generate the data sets into
a temporary directory, run `patron dedupe` on each (or the harness), score
the pairs with the reference scorer and compare.

    run_quality.py DATA_DIR patron dedupe      # the command-line tool
    run_quality.py DATA_DIR match_quality --out   # the harness (quality.c)

DATA_DIR is ../shared/data (gen_customers.py, febrl/, score_pairs.py).
Exits 77 (skipped) when it is missing, 1 when a floor is missed.

Both commands measure the product: the harness loads the rows into a memory
store through the public API and calls patron_db_dedupe, as the tool does.
(Until issue 10 the harness ran a fork of the batch algorithm, which
compared birth dates the library refuses, such as FEBRL's 1902-78-03, digit
by digit; the product leaves such a value out, so FEBRL4 and FEBRL3 recall
were a little lower for the product than the fork reported: 0.9838 against
0.9842 and 0.9798 against 0.9821.  Since issue 11's birth-date-as-given,
`patron dedupe` compares such a date again - a batch may, as
PATRON_BATCH_BIRTH_AS_GIVEN - while the harness, through a store, still
leaves it out: the store refuses it.  So the two commands differ on FEBRL
only in the pairs holding such a date, and the tool has floors of its own,
DEDUPE_FLOORS.)

The data sets: the development generator (`--people 20000 --seed 7`),
FEBRL4, FEBRL3, FEBRL4 with its soc_sec_id column declared an identifier
(`--identifier soc_sec_id`, issue 11's point 6), and the life-event set of tests/match/gen_life_events.py
(people who moved, married, got a second mailbox, registered at work,
deliver to a Packstation; colleagues sharing a company's contact data,
very common names in one city, households), which no rule was tuned on.

Printed per data set, beside the reference scorer's MERGE precision/recall/
F1 and MERGE+REVIEW recall (after transitive closure, score_pairs.py):

  M+R          MERGE+REVIEW recall with the pairs judged `household` left
               out (household apart)
  M+R+H        MERGE+REVIEW recall with the pairs judged `household` counted
               as reviewed (household as review).  Issue 11: a pair that
               looks like a household "stays REVIEW by design" -
               PATRON_DECISION_HOUSEHOLD is the review verdict for it; such a
               pair is no DISTINCT, a merchant sees it (`patron dedupe`
               prints it as `household`, `patron match` lists it,
               patron_pairs_household() clusters it; the review queue,
               `patron review`, holds MERGE and REVIEW pairs only).  Every
               `any_recall` floor and target below holds this figure, on
               every set alike; M+R is printed beside it.
  review/1k    REVIEW pairs that are not one person, per 1 000 records
               (raw pairs, before closure): the review load of a merchant
  household    pairs judged `household`, and how many of them are one person
  names-differ MERGE pairs whose given AND last names both clearly differ
               (not a typo, an initial, a shared name part or swapped names):
               the issue says there must be none
  shop rule    the naive rule of shop systems as a baseline: same email, or
               same last name + street + postal code (case and blanks
               ignored), every such pair a MERGE
  situations   (life-event set) per situation, the true pairs found as MERGE
               and as MERGE or REVIEW, and the false MERGE pairs

With the harness each set is run twice: with the built-in defaults, and
after patron_db_estimate() on the loaded store (quality --estimate: the
model estimated from the set itself, then the dedupe with it).  Both rows
are printed, with a summary table at the end; the floors hold the defaults
only (issue 11: "the built-in defaults must do well on their own").
`patron dedupe` reads a file and has no store to estimate on: one row.

Two kinds of figures: TARGETS are the issues' goals and are printed with
every run; FLOORS are what the test enforces.  Where they differ the goal is
not reached yet, for a reason the issue's own rules set: on FEBRL4 about
forty true pairs share surname and address but have another first name and
another birth date - exactly the household pattern that must never be a
MERGE (they are HOUSEHOLD, which M+R+H counts as reviewed) - and on FEBRL3
the library refuses birth dates that are no real dates
(1902-78-03), so through a store those pairs are compared without them
(`patron dedupe` compares them as given).
"""
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
LIFE = "life-events-8000-seed11"
# FEBRL4 with its soc_sec_id column declared an identifier (issue 11, point 6)
SSN = "febrl4-soc_sec_id"
# options per data set for both commands
SET_ARGS = {SSN: ["--identifier", "soc_sec_id"]}
# the life-event generator's kinds of records that duplicate another
DUP_KINDS = {"moved", "married", "mailbox", "work", "packstation", "typo", "packstation-dup",
             "colleague-dup", "namesake-dup"}

# data set → (minimum figures); names as printed by score_pairs.py
TARGETS = {
    "german-20000-seed7": {"merge_precision": 0.995, "merge_recall": 0.97, "any_recall": 0.99},
    "febrl4": {"merge_f1": 0.995, "merge_precision": 0.999, "any_recall": 0.998},
    "febrl3": {"merge_f1": 0.99},
    SSN: {"merge_f1": 0.999},  # Splink publishes 0.9992 with it
    # issue 11's targets for held-out German shop data
    LIFE: {"merge_precision": 0.99, "merge_recall": 0.90, "any_recall": 0.98},
}
# issue 11: false REVIEW pairs per 1 000 records on the generator
TARGET_REVIEW_LOAD = {"german-20000-seed7": 40.0}
# What the product reaches (patron_db_dedupe, issue 10), rounded down in the
# third decimal, so that any loss fails:
#   german-20000-seed7  P 0.9961  R 0.9956  any 1.0000
#   febrl4              P 1.0000  R 0.9838  F1 0.9918
#   febrl3              P 1.0000  R 0.9798  F1 0.9898
#   life events         P 0.9408  R 0.4538  any 0.8188 (issue 11, before its
#                       evidence model: the caps of score.c hold back moves,
#                       second mailboxes and marriages)
#   after issue 11's evidence model (helper F: caps removed, value
#   frequencies, household verdict, the two safety rules):
#   german-20000-seed7  P 0.9870  R 0.9935  any 0.9935 (households apart)
#   febrl4              P 1.0000  R 0.9782  F1 0.9890
#   febrl3              P 1.0000  R 0.9777  F1 0.9887
#   life events         P 0.9571  R 0.6833  any 0.7700
# The floors moved down where the issue's own rules cost: on the generator
# about 45 of its false MERGE pairs are namesakes with one email at two
# addresses and father/son pairs with one address and phone but two
# mailboxes - exactly "a move with the same name and personal email" and
# "a second mailbox" that issue 11 says are MERGE; the 81 true pairs with
# another given name at one address are HOUSEHOLD now (not REVIEW); on
# FEBRL4/3 about 50 true pairs have both names replaced and are held at
# REVIEW by the "other_names" rule (a MERGE only with an identifier, see
# soc_sec_id).
#   helper h/match, built-in defaults that hold on data they were not tuned
#   on: contact values (email, phone, address, company) lose fast with their
#   holders (tf_power 6: c holders are c people), a role mailbox (info@,
#   kontakt@, ...) is the company's, not a person's, one building is one
#   fact (address_max 13), a Packstation beside a home is no move,
#   given-name variants count as other names for the names rule, garbled
#   given names at one address are REVIEW rather than HOUSEHOLD, an
#   identifier one typo apart agrees:
#   german-20000-seed7  P 0.9895  R 0.9935  any 0.9952  review/1k 12.0
#   febrl4              P 1.0000  R 0.9772  F1 0.9885  any 0.9896
#   febrl3              P 1.0000  R 0.9771  F1 0.9884  any 0.9867
#   life events         P 0.9761  R 0.6989  any 0.7710  review/1k 33.1
#   (FEBRL4 recall gave 0.001 to address_max: FEBRL pairs with a garbled
#   name and no other field lean on five agreeing address fields.  The
#   life-event recall is bounded by candidates: 437 of its 2 100 true pairs
#   share no blocking key - moves with a new mailbox, registrations at work.)
#   helper h/match, second round: the batch keys every record by its full
#   name too, kept only while at most 6 records hold it (a rare name); the
#   full name's own frequency lifts given and last name to REVIEW (never
#   MERGE); a company record with a personal work mailbox against a
#   private one weighs its employer's address, mailbox and phone at most
#   -1 each (registered at work); a name and nothing else in common is
#   REVIEW (name_only rule); Sophi / Sophie is no gender pair:
#   german-20000-seed7  P 0.9898  R 0.9936  any 0.9952  review/1k 17.7
#   febrl4              P 1.0000  R 0.9772  F1 0.9885  any 0.9900
#   febrl3              P 1.0000  R 0.9774  F1 0.9886  any 0.9882
#   life events         P 0.9761  R 0.6989  any 0.9294  review/1k 90.4
#   (registered at work 222 of 230 pairs MERGE or REVIEW, was 0; moved 293
#   of 413, was 229.  The review load of the life-event set rose with it:
#   its 50 last names and 80 given names make many namesakes at work.)
#   helper h/mfloor: a whole name standing in the other field (FEBRL's
#   "harrison capurso" / "capurso ruby") is a shared name, not another
#   given name, so the household rule no longer decides such a pair; the
#   same house number on two streets is no evidence (was a second
#   disagreement beside the street's):
#   german-20000-seed7  P 0.9898  R 0.9936  any 0.9952  review/1k 17.7
#   febrl4              P 1.0000  R 0.9800  F1 0.9899  any 0.9914
#   febrl3              P 1.0000  R 0.9807  F1 0.9903  any 0.9904
#   life events         P 0.9761  R 0.6989  any 0.9294  review/1k 90.5
#   helper h/mlife: a rare full name counts in full beside a person's own
#   evidence (a phone, a birth date, an identifier, a mailbox that is more
#   than the name: thomas.mueller@ is the name again, namesakes build it
#   too); female forms beyond an appended a/e (Peter/Petra, Stefan/
#   Stefanie, Ulrich/Ulrike) are other given names; a half swap through a
#   name that is only alike (Angelika Peters / "Meyer Peter") with the
#   other names apart, and given names alike only by their beginning
#   (Maria / Marianne), fall under the other_names rule:
#   german-20000-seed7  P 0.9898  R 0.9936  any 0.9952  review/1k 17.8
#   febrl4              P 1.0000  R 0.9800  F1 0.9899  any 0.9914
#   febrl3              P 1.0000  R 0.9801  F1 0.9900  any 0.9904
#   life events         P 0.9776  R 0.7243  any 0.9294  review/1k 90.4
#   (moved 166 of 413 MERGE, was 117.  Of the rest, 120 share nothing but
#   the name - a new mailbox, no phone - and 230 registrations at work
#   share only the name too: in a set of 50 last names and 80 given names
#   such a pair is more often a namesake than not, so they stay REVIEW or
#   DISTINCT; 30 moves share only a name-built mailbox, which this set's
#   namesakes share as well (23 of them would be false MERGE pairs).)
#   and a pair judged household where one record has no last name is
#   REVIEW (that it is another person of one family is not known):
#   febrl4 any 0.9914 -> 0.9918; the German sets have no such pair.
#   and an initial whose own mailbox spells another given name with that
#   letter ("J. Frank", jens1960@ / Johanna Frank at one address) is another
#   given name, not an initial that fits:
#   german-20000-seed7  P 0.9909  R 0.9936  any 0.9952  review/1k 17.2
#   (seed 8: P 0.9906 -> 0.9917; FEBRL and the life-event set unchanged)
#   and after merging h/mlife: a half swap through a name "only alike" is
#   two people (rule other_names) only where the two are a given name's and
#   a surname's form (Peter / Peters, Guenter / Guenther, Frank / Franz),
#   not a typo (pulford / pulfrd): FEBRL3 F1 0.98996 -> 0.9903, FEBRL4 R
#   0.9800 -> 0.9802; the German sets (incl. h/mlife's held-out generator,
#   seeds 1-3) unchanged.
#   and the same given name under another last name is MERGE only at one
#   home few customers hold or beside evidence of the person's own (rule
#   name_change: neighbours, colleagues at their firm's address, strangers
#   at one Packstation are REVIEW):
#   life events         P 0.9776 -> 0.9796  R 0.7243  any 0.9335
#   (the held-out Zipf generator, seeds 1-3: P +0.009..+0.012, R +0..+0.003;
#   the development generator, FEBRL3 and FEBRL4 unchanged)
#   and u of an agreeing birth date 0.001 -> 0.0003 (two people of one block
#   share one about 1 in 25 000 times): a full name and a birth date after
#   a move with a new mailbox and phone are REVIEW, no longer DISTINCT:
#   life events         P 0.9784  R 0.7279  any 0.9418 (P through the
#   closure: no new false MERGE pair; 0.9335 -> 0.9418 M+R)
#   febrl4              R 0.9800 -> 0.9804; febrl3 any 0.9904 -> 0.9911
#   (the held-out Zipf generator, seeds 1-5: R +0.003..+0.009, M+R
#   +0.002..+0.004, false REVIEW/1k +0..+0.5; the development generator
#   unchanged)
#   helper h/mfloor, second round: another house number on a street that
#   agrees weighs -5.0 (another building) instead of -3.95 (the number
#   level's m counts moves); a birth date agreeing in its year only weighs
#   0 instead of -4.6; Sven / Svenja are two given names; FEBRL4 with
#   soc_sec_id declared an identifier joins the sets:
#   german-20000-seed7  P 0.9919  R 0.9936  any 0.9952  review/1k 18.0
#   febrl4              P 1.0000  R 0.9802  F1 0.9900  any 0.9918
#   febrl3              P 1.0000  R 0.9809  F1 0.9903  any 0.9904
#   febrl4-soc_sec_id   P 1.0000  R 0.9982  F1 0.9991  any 0.9996 (was F1 0.99900)
#   life events         P 0.9789  R 0.7243  any 0.9335  review/1k 86.8
#   (h/mlife's held-out generator, seeds 1-3: P +0.002..+0.006, R unchanged.)
#   Of the generator's 35 false MERGE pairs, 18 are two namesakes with one
#   identical mailbox (thomas.mueller@gmail.com) at two addresses: the
#   generator builds 4 of its 6 mailbox styles from the name alone over 11
#   providers and draws namesakes independently, so about 1 in 100 namesake
#   pairs share a mailbox - which no provider allows.  Weighing such a
#   mailbox down (5.5 bits beside agreeing names) cost the life-event set
#   34 true MERGE pairs (people at a Packstation, people who moved; R
#   0.7243 -> 0.7066) and h/mlife's set, whose providers keep mailboxes
#   unique, R -0.028..-0.034 per seed: left as evidence.  Without those 18
#   pairs the generator's precision would be 0.9950.
#   h/mfloor and h/mlife together:
#   german-20000-seed7  P 0.9923  R 0.9936  any 0.9952  review/1k 18.1
#   febrl4              P 1.0000  R 0.9804  F1 0.9901  any 0.9918
#   febrl3              P 1.0000  R 0.9809  F1 0.9903  any 0.9911
#   febrl4-soc_sec_id   P 1.0000  R 0.9982  F1 0.9991  any 0.9996
#   life events         P 0.9797  R 0.7279  any 0.9418  review/1k 87.1
#   and (h/mlife, third round) the same given name with a mailbox or phone only the pair holds
#   lifts a pair the evidence calls distinct to REVIEW (rule own_evidence:
#   a move with a new mailbox and the same mobile, a marriage and a move
#   with the old mailbox):
#   life events         any 0.9418 -> 0.9439, review/1k 90.8 unchanged
#   german-20000-seed7  review/1k 18.5 -> 19.2 (both changes), P/R unchanged
#   (the held-out Zipf generator, seeds 1-5: any +0.008..+0.013, review/1k
#   +0..+0.3)
#   helper h/mfloor, third round: two mailboxes one character apart, each
#   built from nothing but its own record's name (gerhard.stein-krueger@ /
#   gerhardstein-krueger@, namesakes in one city), weigh 0 instead of +2.58
#   (the likeness is the names' again):
#   german-20000-seed7  P 0.9923 -> 0.9926  review/1k 18.8 -> 17.5
#   (seeds 8 / 9: P 0.9926 / 0.9945 -> 0.9926 / 0.9946, review/1k 16.4 / 15.8
#   -> 15.7 / 15.1; life events and h/mlife's held-out generator, seeds 1-3:
#   review/1k -0.1..-0.5; recall unchanged on every set; FEBRL unchanged.)
#   What is left of the generator's false MERGE pairs (seed 7, 31 raw pairs;
#   seeds 8 / 9: 10 / 16 one mailbox, 14 / 16 one address, 6 / 0 one street)
#   is its construction against issue 11's own rules: 16 namesakes with one
#   identical name-built mailbox at two addresses ("a move with the same
#   name and a personal email is MERGE"), 13 pairs at one address - household
#   members with the same given name (or its initial): name and address and
#   nothing that disagrees but a second mailbox or phone ("the same name,
#   address and phone with a second mailbox is MERGE") - and 2 namesakes on
#   one street at another house number, the pattern that is one person in
#   FEBRL3/4 (FEBRL replaces house numbers): holding it at REVIEW cost
#   FEBRL3 F1 0.9903 -> 0.9852..0.9888, so it stays evidence.
#   FEBRL4 MERGE+REVIEW recall: of its 41 missed true pairs, 24 are
#   HOUSEHOLD - 21 with another given name (FEBRL draws a new one, not a
#   typo: jenna / jake, joshua / kimberly) and a birth date replaced or
#   missing; 3 with a birth date one typo apart that the library refuses as
#   no real date (1993-10-19 / 1993-18-19), one of them also with a given
#   name garbled beyond the household rule's tolerance (jack / jsk).  17
#   share no blocking key; a key of name code + postal code would find 6
#   (4 MERGE) at 4.4 times the pairs scored on the 136 k file, last name
#   code + initial + postal code 1 at +20 %, postal code + street + initial
#   1 at +39 %: no key was added.
#   helper h/mlife, fourth round (checked on the life-event set seeds 11 and
#   3 and h/mlife's held-out Zipf generator seeds 1-5):
#   - a move changes the home's landline with the address: where the
#     addresses differ and a landline is among two differing phones, the
#     phone counts at least -1 (moved_landline_floor; a mobile keeps -3.31):
#     Zipf generator R +0.003..+0.005, life R +0.0006, review/1k +1..+2.5;
#     the generator's review/1k 18.8 -> 20.4, P/R unchanged;
#   - given names that share one but each keep another, clearly apart
#     (Hannah Maria / Maria Marianne), are another given name for the
#     household rule: 3 false MERGE pairs fewer, no recall change;
#   - a full name only the pair holds counts in full at one place of
#     strangers (a company both name, a Packstation) where a chance namesake
#     among the place's holders is unlikely (place_name_surprise):
#     colleagues registered twice 22 -> 28 of 38 MERGE, no false MERGE;
#   german-20000-seed7  P 0.9923  R 0.9936  any 0.9952  review/1k 20.4
#   febrl4, febrl3, febrl4-soc_sec_id unchanged
#   life events         P 0.9805  R 0.7316  any 0.9439  review/1k 87.9
#   Tried and left out, with the reason: birth dates a generation apart
#   (>= 15 years, not a typo) as two people - the largest group of false
#   MERGE pairs on both German sets is father and son of one name at one
#   address with nothing but name and address in common - cost FEBRL4 R
#   0.980 -> 0.955 and FEBRL3 0.981 -> 0.946: FEBRL replaces whole birth
#   dates, and its pairs look exactly alike (same score, 6.22).  A
#   name-built mailbox as the person's own evidence when only the pair holds
#   the full name (R +0.006..+0.018 on the German sets): the development
#   generator's same-town namesakes share one (P 0.9923 -> 0.9896).
#   h/mfloor's third round and h/mlife's fourth together:
#   german-20000-seed7  P 0.9926  R 0.9936  any 0.9952  review/1k 19.2
#   febrl4, febrl3, febrl4-soc_sec_id unchanged
#   life events         P 0.9805  R 0.7316  any 0.9439  review/1k 87.4
#   helper h/birth: `patron dedupe` compares a birth date that is no real
#   date as given (PATRON_BATCH_BIRTH_AS_GIVEN; 64 rows of FEBRL4, 35 of
#   FEBRL3, e.g. 1945-04-93) instead of leaving it out; the harness (a
#   store, which refuses such a date) is unchanged:
#   febrl4 (dedupe)     P 1.0000  R 0.9804 -> 0.9816  F1 0.9901 -> 0.9907
#                       any 0.9918 -> 0.9924
#   febrl3 (dedupe)     P 1.0000  R 0.9809 -> 0.9823  F1 0.9903 -> 0.9910
#                       any 0.9911 -> 0.9917
#   german-20000-seed7, febrl4-soc_sec_id, life events unchanged (no such
#   dates; soc_sec_id already settles those pairs).
#   helper h/genp (issue 11, generator precision; checked on the generator
#   seeds 7/8/9, FEBRL3/4 (+ soc_sec_id), life events seeds 11/3 and the
#   held-out stand-in, a Zipf DE/AT/CH generator with mailboxes unique per
#   provider, seeds 1-5):
#   - two different mobile numbers where the addresses agree count -5.3
#     (home_mobiles_differ, m 1 in 40): generator false MERGE 31/30/34 ->
#     29/30/34, stand-in 32/22/25/22/28 -> 30/22/25/21/27, no recall change
#     anywhere; the same at -4.6 gains nothing, -6.5 the same pairs.
#   Tried and left out, with the figures: the brief's conditional
#   dependence of a name-built mailbox on the name (two namesakes share
#   thomas.mueller@web.de about 1 in styles x providers, so it weighs
#   log2(0.9 x 40) = 5.2 beside agreeing names at two addresses): generator
#   false MERGE 17/20/17 (P 0.9949/0.9941/0.9970), but on the stand-in,
#   whose providers give a mailbox once (as real ones do), moved-mail MERGE
#   136/134/140/114/121 -> 114/102/117/88/103 (R -0.015..-0.026) and life
#   moved 170/195 -> 164/187, with no precision gained there; with the
#   full name's frequency as a condition (given x last holders / customers
#   >= 0.5: a chance namesake expected) generator 22/23/23 (seed 7 P
#   0.9937) and stand-in R -0.001..-0.006.  Two differing mobiles counted
#   -5.3 after a move as well: stand-in moved-mail -5..-11 (it gives movers
#   a new mobile).  An initial beside a full given name at one home held at
#   REVIEW (housemates share initials): generator R 0.9936 -> 0.9784.
#   helper h/life (issue 11, held-out recall; same sets as h/genp), each
#   step's figures against the one before (CLI `patron dedupe`):
#   - personal_contact: a mobile number or a mailbox that is no role
#     mailbox and not name-built at a public provider, held by the pair
#     only, beside the same given and last name weighs >= 13, and after a
#     move the other contact field's disagreement >= -1: stand-in R
#     0.762/0.747/0.759/0.762/0.747 -> 0.791/0.775/0.795/0.802/0.776, life
#     0.7316/0.7400 -> 0.7352/0.7453, no false MERGE added on any set;
#   - a half swap whose records both hold a known given name in the
#     given-name field is two people (Thomas Krause / Nicole Thomas): the
#     one names-differ MERGE of stand-in seed 1 gone, nothing else changed;
#   - a national phone number in the dialling plan of the first address's
#     country (Austrian 0664 ... was +49 664 ...): stand-in R +0.004..0.011,
#     review/1k -2..-9, 2 false MERGE more (one given name, another last
#     name, one home and one phone: rule name_change reads a marriage);
#   - a name-built mailbox held by the pair only is own evidence under a
#     full name that is a surprise by its parts: stand-in R +0.0005..0.0016;
#   - personal_contact under a double name keeping the other (PARTIAL) and
#     for a landline kept at another address, not where a birth date or
#     identifier differs: stand-in R -> 0.817/0.804/0.817/0.831/0.799, life
#     0.7399/0.7532, no false MERGE added;
#   generator seeds 7/8/9, FEBRL3/4 (+ soc_sec_id): every figure unchanged
#   by h/life's steps.  Tried and left out: a name-built mailbox at a public
#   provider held by the pair only as personal_contact (the issue's "a move
#   with the same name and a personal email"): stand-in R +0.007..0.015, but
#   generator false MERGE 29/30/34 -> 76/78/89 and life 20/31 -> 34/37 -
#   both generators give one such mailbox to two namesakes, which real
#   providers do not; left to a decision on the generators.
#   A name change at one home MERGE only beside an agreeing mailbox, phone
#   or birth date: generator 1 false MERGE fewer, FEBRL3 R 0.9823 -> 0.9801,
#   FEBRL4 0.9816 -> 0.9776.  Another street as one event at the address
#   floor (-6) even where postal code and city agree (the generator plants
#   its namesakes in one town): generator P 0.9946/0.9930/0.9953, but
#   FEBRL3 R 0.9823 -> 0.9777 (F1 below 0.990), FEBRL4 0.9816 -> 0.9770.
#   Re-measured on top of h/life's personal contact rules: the mailbox
#   capped at 5.2 bits gives generator P 0.9955/0.9941/0.9970 for stand-in
#   R -0.017..-0.025, with the name-frequency condition 0.9943/0.9934/
#   0.9958 for stand-in R -0.001..-0.004 and M+R -0.002..-0.004.  So the
#   generator's P 0.995 is not reached by evidence that holds on the
#   held-out stand-in: its remaining false MERGE pairs are two people
#   holding one mailbox (which providers do not hand out twice), or one
#   name at one address with nothing that tells the two apart.
#   From here on `any` (and every any_recall floor and target) counts the
#   pairs judged household as reviewed - the figure printed as M+R+H; M+R
#   (households apart) is printed beside it.  Before the next change:
#   german-20000-seed7  M+R 0.9952  M+R+H 1.0000
#   febrl4              M+R 0.9918  M+R+H 0.9966   (dedupe 0.9924 / 0.9966)
#   febrl3              M+R 0.9911  M+R+H 0.9951   (dedupe 0.9917 / 0.9951)
#   febrl4-soc_sec_id   M+R 0.9996  M+R+H 0.9998
#   life events         M+R 0.9439  M+R+H 0.9439
#   helper h/fblock: a street in one postal code that only two customers
#   live in is a blocking key of its own (the rare street, house number
#   left out; dropped, never windowed, when more hold it): FEBRL4's pairs
#   whose house number was mistyped, dropped or moved into the address
#   addition beside a garbled name - 7 of the 17 true pairs that shared no
#   key, each alone in its street.  Allowed up to 6 holders (as the rare
#   name) it found nothing more on FEBRL and made neighbours candidates on
#   the German sets: false REVIEW/1k +1 (generator seed 7) to +9 (the
#   held-out stand-in), one false MERGE more on 4 of 8 German sets.  With
#   two: FEBRL4 pairs scored 6 013 -> 6 031, the 136 k and 1 M generator
#   files unchanged:
#   febrl4              R 0.9804 -> 0.9812  F1 0.9901 -> 0.9905
#                       M+R 0.9918 -> 0.9930  M+R+H 0.9966 -> 0.9980
#                       (dedupe R 0.9816 -> 0.9828, F1 0.9907 -> 0.9913,
#                       M+R+H 0.9966 -> 0.9980)
#   german-20000-seed7, febrl3, febrl4-soc_sec_id, life events unchanged
#   (the generator seeds 8 and 9 and life-event seed 3 byte for byte; the
#   held-out stand-in, seeds 1-5: 0-4 new false REVIEW pairs per 6 000
#   people, P/R/M+R unchanged)
#   helper QREC (recall without precision lost anywhere): a name-built
#   freemail mailbox held by the pair is personal where the full name's
#   parts expect <= 0.5 namesakes (name_mailbox_expect); a marriage + move
#   with the mobile kept or a mailbox naming one of the two last names is a
#   personal contact value, and its two addresses weigh -1 (one event); a
#   move with a new mailbox beside an exact full name only the pair holds
#   and an agreeing birth date weighs the mailbox -1.  MERGE R before ->
#   after (P never lower; generator seeds 7/8/9, FEBRL3/4/4+ssn: not one
#   pair changed):
#   life-event seeds 11 / 3   0.7399 -> 0.7487   0.7532 -> 0.7595
#   stand-in seeds 1..5       0.8170/0.8041/0.8170/0.8305/0.7985 ->
#                             0.8276/0.8164/0.8322/0.8406/0.8117
#   Tried and dropped: (1) every name-built freemail mailbox as personal:
#   generator false MERGE 29/30/34 -> 76/78/89 (P 0.9869/0.9865/0.9870),
#   life 20/31 -> 34/37, stand-in +72 true / +3 false; the dev generator's
#   colliding namesakes all have names of E = cf*cl/N >= 0.78, the
#   stand-in's true pairs gained at E <= 0.5: 33 of 72.  (2) a marriage's
#   personal mailbox naming no last name (gabriele2005@): generator seed 9
#   +1 false MERGE for 1 stand-in pair.  (3) a double name's new mailbox as
#   one event (-1) without a shared contact: life +7, stand-in +5 true,
#   +3 false MERGE (all on the stand-in's placeholder birth date
#   1980-05-17).  (4) any move's new mailbox at -1.5: generator false
#   REVIEW/1k 19 -> 51, stand-in +12 true / +8 false MERGE; with an
#   agreeing birth date only: life +66 true, stand-in +6 true / +8 false
#   (placeholder); with the full name held by <= 3: life +28, nothing else;
#   <= 4: one false MERGE (seed 4, placeholder) - kept at 2 (only the
#   pair).  (5) registrations at work (only the name is shared) as MERGE
#   below a name-rarity cut-off, full name held by the pair alone: E <=
#   0.002 / 0.005 / 0.01 / 0.02 gives stand-in work pairs +2 / +7 / +14 /
#   +25 (of ~600), against namesake pairs holding a name alone (any
#   pattern) 1 / 3 / 19 / 88 on all sets, and of the company-vs-private
#   pattern 0 / 0 / 2 / 12 (generator); R +0.001 at best for a rule that
#   overturns "a name is no identity" (name_only): not landed.
FLOORS = {
    "german-20000-seed7": {"merge_precision": 0.992, "merge_recall": 0.993, "any_recall": 0.999},
    "febrl4": {"merge_f1": 0.989, "merge_precision": 0.999, "merge_recall": 0.979, "any_recall": 0.998},
    "febrl3": {"merge_f1": 0.990, "merge_precision": 0.999, "merge_recall": 0.980, "any_recall": 0.995},
    SSN: {"merge_f1": 0.999, "merge_precision": 0.999, "merge_recall": 0.998},
    LIFE: {"merge_precision": 0.980, "merge_recall": 0.745, "any_recall": 0.943},
}
# `patron dedupe` on top of FLOORS: it compares FEBRL's birth dates that are
# no real dates as given (see above), which the harness's store refuses.
DEDUPE_FLOORS = {
    "febrl4": {"merge_f1": 0.991, "merge_recall": 0.982, "any_recall": 0.998},
    "febrl3": {"merge_f1": 0.991, "merge_recall": 0.982, "any_recall": 0.995},
}
# MERGE pairs of two people with different given and last names: a hard
# failure on every set (the "other_names" rule, tests/match/test_model.c).
NAMES_DIFFER_MAX = {"german-20000-seed7": 0, "febrl4": 0, "febrl3": 0, SSN: 0, LIFE: 0}
# After patron_db_estimate, on every set, at most this much below the
# defaults (issue 11: a merchant who runs `patron estimate` must not get
# worse results).  Before the estimate's guard the life-event set fell
# from MERGE P 0.9805 / M+R 0.9439 to 0.9515 / 0.8043; with it (main
# f2c77df + guard) the life-event sets keep the defaults and the others
# gain: generator seed 7 P 0.9926 -> 0.9977, FEBRL3 R 0.9809 -> 0.9841,
# FEBRL4 R 0.9804 -> 0.9830.
ESTIMATE_MAX_LOSS = {"merge_precision": 0.002, "any_recall": 0.005}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ---- names ------------------------------------------------------------------------

def fold(s):
    s = s.strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in s).split()


def osa(a, b):
    """Damerau-Levenshtein (optimal string alignment) distance."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            c = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + c)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def close(ta, tb):
    """Two name token lists that may be one name: empty, a shared token, an
    initial, or a typo."""
    if not ta or not tb:
        return True
    for x in ta:
        for y in tb:
            if x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y)):
                return True
            if min(len(x), len(y)) >= 3 and osa(x, y) <= 2:
                return True
    return False


def names_clearly_differ(ra, rb):
    fa, la = fold(ra.get("first_name", "")), fold(ra.get("last_name", ""))
    fb, lb = fold(rb.get("first_name", "")), fold(rb.get("last_name", ""))
    if close(fa, fb) or close(la, lb):
        return False
    return not (close(fa, lb) and close(la, fb))  # swapped


# ---- the naive shop rule -------------------------------------------------------------

def shop_rule_pairs(records):
    keys = defaultdict(list)
    for rid, r in records.items():
        email = r.get("email", "").strip().lower()
        if email:
            keys[("e", email)].append(rid)
        last, street, plz = (" ".join(r.get(k, "").lower().split())
                             for k in ("last_name", "street", "postal_code"))
        if last and street and plz:
            keys[("a", last, street, plz)].append(rid)
    pairs = set()
    for ids in keys.values():
        if len(ids) > 200:  # a key that many share is no identity (and would be slow)
            continue
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                pairs.add(tuple(sorted((ids[i], ids[j]))))
    return pairs


# ---- scoring ---------------------------------------------------------------------------

def score(py, data, truth, pairs_csv):
    s = run([py, os.path.join(data, "score_pairs.py"), truth, pairs_csv])
    m = re.search(r"^RESULT (.*)$", s.stdout, re.M)
    return m.group(1), dict((k, float(v)) for k, v in (x.split("=") for x in m.group(1).split()))


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def evaluate(name, py, data, csv_path, truth_path, raw_pairs, tmp, kinds_path=None):
    """Everything beside the reference scorer's figures.  Returns the figures
    for the floors and the lines to print."""
    records = dict((r["id"], r) for r in read_csv(csv_path))
    person = dict((r["id"], r["person"]) for r in read_csv(truth_path))
    kind = dict((r["id"], r["kind"]) for r in read_csv(kinds_path)) if kinds_path else {}
    rows = []
    with open(raw_pairs, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if not row or row[0] in ("id_a", "a") or len(row) < 4:
                continue
            rows.append((row[0], row[1], row[3].strip().lower()))
    # the reference scorer counts anything but `merge` as review: give it
    # MERGE and REVIEW only (households apart), then MERGE, REVIEW and
    # HOUSEHOLD (households as review, the figure the floors hold)
    def scored_with(decisions, tag):
        path = os.path.join(tmp, name + tag + "_scored.csv")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["id_a", "id_b", "score", "decision"])
            for a, b, d in rows:
                if d in decisions:
                    w.writerow([a, b, "0", "merge" if d == "merge" else "review"])
        return score(py, data, truth_path, path)
    _, apart = scored_with(("merge", "review"), "_apart")
    _, figures = scored_with(("merge", "review", "household"), "")
    figures["any_recall_apart"] = apart["any_recall"]
    # MERGE figures are the same in both (a household pair is no MERGE)
    result = ("merge_precision=%.4f merge_recall=%.4f merge_f1=%.4f M+R %.4f (household apart) / "
              "M+R+H %.4f (household as review)"
              % (figures["merge_precision"], figures["merge_recall"], figures["merge_f1"],
                 apart["any_recall"], figures["any_recall"]))
    same = lambda a, b: a in person and person.get(a) == person.get(b)
    n = max(1, len(records))
    false_review = sum(1 for a, b, d in rows if d == "review" and not same(a, b))
    households = [(a, b) for a, b, d in rows if d == "household"]
    names_differ = [(a, b) for a, b, d in rows
                    if d == "merge" and a in records and b in records and not same(a, b)
                    and names_clearly_differ(records[a], records[b])]
    figures["review_load"] = 1000.0 * false_review / n
    figures["names_differ"] = len(names_differ)
    lines = ["review/1k %.1f (%d false REVIEW pairs, %d records)   household %d (%d one person)"
             "   names-differ MERGE %d"
             % (figures["review_load"], false_review, len(records), len(households),
                sum(1 for a, b in households if same(a, b)), len(names_differ))]
    for a, b in names_differ[:3]:
        ra, rb = records[a], records[b]
        lines.append("  names-differ: %s %s %s | %s %s %s" % (a, ra["first_name"], ra["last_name"],
                                                              b, rb["first_name"], rb["last_name"]))

    base = os.path.join(tmp, name + "_shoprule.csv")
    with open(base, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id_a", "id_b", "score", "decision"])
        for a, b in sorted(shop_rule_pairs(records)):
            w.writerow([a, b, "0", "merge"])
    _, bf = score(py, data, truth_path, base)
    lines.append("shop rule (same email, or last name + street + postal code): merge_precision=%.4f "
                 "merge_recall=%.4f merge_f1=%.4f" % (bf["merge_precision"], bf["merge_recall"],
                                                      bf["merge_f1"]))

    if kind:
        # a true pair's situation: the kind of the record that made it a
        # duplicate; a false MERGE pair's: both records' kinds
        by_person = defaultdict(list)
        for rid, pid in person.items():
            by_person[pid].append(rid)
        decided = dict(((min(a, b), max(a, b)), d) for a, b, d in rows)
        stats = defaultdict(lambda: [0, 0, 0])  # true pairs, merge, merge|review
        for ids in by_person.values():
            for i in range(len(ids)):
                for j in range(i + 1, len(ids)):
                    a, b = min(ids[i], ids[j]), max(ids[i], ids[j])
                    ka, kb = kind.get(a, "?"), kind.get(b, "?")
                    k = ka if ka in DUP_KINDS else kb if kb in DUP_KINDS else ka
                    d = decided.get((a, b))
                    st = stats[k]
                    st[0] += 1
                    st[1] += d == "merge"
                    st[2] += d in ("merge", "review")
        false_merge = defaultdict(int)
        for a, b, d in rows:
            if d == "merge" and not same(a, b):
                false_merge["~".join(sorted((kind.get(a, "?"), kind.get(b, "?"))))] += 1
        lines.append("true pairs by situation (merge/merge+review/all): " + ", ".join(
            "%s %d/%d/%d" % (k, v[1], v[2], v[0]) for k, v in sorted(stats.items())))
        lines.append("false MERGE pairs by situations: " + (", ".join(
            "%s %d" % kv for kv in sorted(false_merge.items())) or "none"))
    return result, figures, lines


def main():
    data, command = sys.argv[1], sys.argv[2:]
    if not os.path.isfile(os.path.join(data, "score_pairs.py")):
        print("skipped: no test data at %s" % data)
        return 77
    py = sys.executable
    failed = []
    summary = []
    defaults_figures = {}
    with tempfile.TemporaryDirectory(prefix="patron-quality-") as tmp:
        sets = {
            "german-20000-seed7": [os.path.join(data, "gen_customers.py"), "--people", "20000",
                                   "--seed", "7"],
            "febrl4": [os.path.join(data, "febrl", "to_customers.py"),
                       os.path.join(data, "febrl", "dataset4a.csv"),
                       os.path.join(data, "febrl", "dataset4b.csv")],
            "febrl3": [os.path.join(data, "febrl", "to_customers.py"),
                       os.path.join(data, "febrl", "dataset3.csv")],
            SSN: [os.path.join(data, "febrl", "to_customers.py"), "--with-ssn",
                  os.path.join(data, "febrl", "dataset4a.csv"),
                  os.path.join(data, "febrl", "dataset4b.csv")],
            LIFE: [os.path.join(HERE, "gen_life_events.py"), "--people", "8000", "--seed", "11",
                   "--kinds", os.path.join(tmp, LIFE + "_kinds.csv")],
        }
        for name, gen in sets.items():
            csv_path = os.path.join(tmp, name + ".csv")
            truth = os.path.join(tmp, name + "_truth.csv")
            run([py] + gen + ["--out", csv_path, "--truth", truth])
            kinds = os.path.join(tmp, name + "_kinds.csv") if name == LIFE else None
            # the built-in defaults; then, with the harness, the same store
            # after patron_db_estimate (printed, not held to the floors)
            runs = [("defaults", [])]
            if command[-1] == "--out":
                runs.append(("after estimate", ["--estimate"]))
            for label, extra in runs:
                tag = name + ("_est" if extra else "")
                pairs = os.path.join(tmp, tag + "_pairs.csv")
                t0 = time.time()
                own = SET_ARGS.get(name, [])
                if command[-1] == "--out":
                    q = run(command[:-1] + extra + own + ["--out", pairs, csv_path])
                else:
                    with open(pairs, "w") as out:
                        q = subprocess.run(command + own + [csv_path], check=True, stdout=out,
                                           stderr=subprocess.PIPE, text=True)
                took = time.time() - t0
                result, figures, lines = evaluate(tag, py, data, csv_path, truth, pairs, tmp, kinds)
                print("%-24s %-14s %s  (%.2f s)" % (name, label, result, took))
                for line in lines:
                    print("    " + line)
                for line in q.stderr.splitlines():
                    print("    " + line)
                for k, goal in TARGETS[name].items():
                    if figures[k] < goal:
                        print("    below the issue's target: %s %.4f < %.3f" % (k, figures[k], goal))
                if name in TARGET_REVIEW_LOAD and figures["review_load"] > TARGET_REVIEW_LOAD[name]:
                    print("    above the issue's target: review/1k %.1f > %.0f"
                          % (figures["review_load"], TARGET_REVIEW_LOAD[name]))
                if figures["names_differ"]:
                    print("    the issue's target is no MERGE of two people with different given and "
                          "last names: %d" % figures["names_differ"])
                summary.append((name, label, figures))
                if extra:
                    # the floors are the defaults' (issue 11: "without
                    # estimation"); after the estimate: no worse than them
                    base = defaults_figures.get(name)
                    for k, loss in ESTIMATE_MAX_LOSS.items():
                        if base and figures[k] < base[k] - loss:
                            failed.append("%s after estimate: %s %.4f < defaults' %.4f - %.3f"
                                          % (name, k, figures[k], base[k], loss))
                    continue
                defaults_figures[name] = figures
                floors = dict(FLOORS[name])
                if command[-1] != "--out":
                    floors.update(DEDUPE_FLOORS.get(name, {}))
                for k, low in floors.items():
                    if figures[k] < low:
                        failed.append("%s: %s %.4f < %.3f" % (name, k, figures[k], low))
                limit = NAMES_DIFFER_MAX[name]
                if limit is not None and figures["names_differ"] > limit:
                    failed.append("%s: names-differ MERGE pairs %d > %d"
                                  % (name, figures["names_differ"], limit))
    print("summary: MERGE P / R / F1, MERGE+REVIEW R with households apart (M+R) and as review "
          "(M+R+H, the floors' figure), false REVIEW pairs per 1 000 records")
    for name, label, f in summary:
        print("  %-24s %-14s P %.4f  R %.4f  F1 %.4f  M+R %.4f  M+R+H %.4f  review/1k %.1f"
              % (name, label, f["merge_precision"], f["merge_recall"], f["merge_f1"],
                 f["any_recall_apart"], f["any_recall"], f["review_load"]))
    for f in failed:
        print("BELOW FLOOR " + f)
    bad = len(set(f.split(":")[0].split(" after")[0] for f in failed))
    print("%d passed, %d failed" % (len(sets) - bad, bad))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
