#!/usr/bin/env python3
"""Generate names_table.h: German given names and their variants/short forms.

Run from this directory: python3 gen_names_table.py > names_table.h
Each group is "canonical: variant, variant, ...".  Two names count as
variants when one of them is the canonical name of a group the other is in
(Hans ~ Johannes, Klaus ~ Nikolaus; not Klaus ~ Niklas).  Names are written
folded (ä → ae, ß → ss), as the normaliser produces them.  Names that are
common given names of their own and could plausibly belong to two members
of one household are left out on purpose (Jan/Johannes, Hanna/Johanna).
"""
GROUPS = """
johannes: hans, hannes, johann, jo, hansi
johann: hans, hannes, hansi
josef: joseph, sepp, seppl, beppo, jupp, josip
katharina: kathi, kati, kathrin, katarina, catharina, kaethe, trine, kathy, katinka
stefanie: steffi, stephanie, steffie, stefani
alexander: alex, sascha, alexandre, xander
alexandra: alex, sandra, alexa
christian: chris, krischan, christl
christina: chris, christine, tina, kristina
christine: chris, tina, christina, kristin
christoph: chris, christopher, christof, stoffel
christopher: chris, christoph
michael: micha, michi, mike, michel, mischa
michaela: micha, michi, michaele
andreas: andi, andy, anderl, res
andrea: andi
thomas: tom, thommy, tommy, tommi
wolfgang: wolf, wolfi
friedrich: fritz, frieder, fiete, fred
friederike: rike, frieda, frauke
wilhelm: willi, willy, wim, helm
wilhelmine: mina, minna, helmine
heinrich: heinz, hinrich, hein, heiner
ludwig: lutz, luggi, louis
elisabeth: lisbeth, liesel, elsbeth, else, elli, betty, sisi, lisa, elisa, ilse, liesl, lies
margarete: grete, greta, gretel, margit, marga, margarethe, meta, maggie, margret
magdalena: lena, leni, magda, lene
maximilian: max, maxi, maxim
matthias: matze, mathias, matthes, hias
nikolaus: klaus, claus, niko, nico, nick, niklas, nikolas, nicolas, niclas
peter: pit, piet, pete
robert: bob, robby, rob
rudolf: rudi, ruedi, dolf
gerhard: gerd, gert, hardy
bernhard: bernd, berni, bernt
reinhard: reini, reiner, rainer
eberhard: ebi, ebbe
dietrich: dieter, dietz, dirk
georg: schorsch, schorsche
barbara: babsi, baerbel, barbel, babette
susanne: susi, sanne, susanna, suse
sabine: bine, biene
gabriele: gabi, gaby, gabriela
brigitte: gitte, britta, brigitta
ursula: ulla, uschi, ursel
renate: reni, rena
monika: moni, monica
johanna: hanne, hannerl, jo
franziska: franzi, fanny, ziska
franz: franzl, franzi
theresa: resi, therese, thesi, reserl
therese: resi, theresa
anna: anni, annie, aenne, annerl, ann
anne: anni, aenne
maria: mariechen, mimi, mitzi, ria
marie: mariechen
jakob: jacob, jockel, kobi, jaap
benjamin: ben, benni, benny
daniel: dani, danny
daniela: dani, ela
tobias: tobi
florian: flo, flori
sebastian: basti, sebi, bastian
julia: jule, juli, julchen
julius: jule, juli
patrick: paddy, pat
oliver: olli, olly
philipp: phil, philip, phillip
konstantin: konny, kosta, constantin, tino
karl: carl, kalle, karli, charly
carl: karl, kalle
manfred: manni, fred
norbert: nobby, norbi
ralf: ralph
markus: marcus, markos
stefan: stephan, steve, steff
tatjana: tanja
melanie: mel, melli
jessica: jessi, jess
vanessa: nessi, vanni
jennifer: jenny, jenni
nicole: nicky, niki, nici
miriam: miri, mirjam
jasmin: jasmina, yasmin
sophie: sophia, sofie, sofia
charlotte: lotte, lotta, charly
mathilda: tilda, tilly, mathilde, thilda
helene: lene, leni, helena
marlene: marlen
amelie: amalie, amelia, amely
luisa: luise, louisa, louise
clara: klara
dorothea: dora, doris, thea, dorle
ingrid: inge
ingeborg: inge, ingeburg
adelheid: heidi, adele
judith: jutta
martina: tina
carina: karina
zoe: zoey
theodor: theo, teddy
leopold: poldi, leo
leonhard: leo, lenz
valentin: valle, vale
timotheus: tim, timo
tilman: till, tillmann
kai: kay
anton: toni, tony
elias: eli
soeren: soren
bjoern: bjorn
ernst: erni
eduard: edi, eddi, eddy
siegfried: siggi, sigi
detlef: detlev
guenter: guenther, gunter, gunther
juergen: jurgen, jorgen
joerg: jorg
ruediger: rudiger, ruedi
hermann: herrmann, hemmi
walter: walther, walti
werner: wernher
horst: horsti
helmut: helmuth
uwe: uve
kurt: curt
konrad: conrad, kuno, conny
cornelia: conny, nele, cornelie
emanuel: manuel, emmanuel, manu
immanuel: manuel
gottfried: friedel, gotti
albert: berti, albrecht
engelbert: engel, bert
hubert: hubsi, bert
norman: norm
walburga: burgi, walli
xaver: vere
alois: lois, aloysius
ignaz: naz
"""


# Salutations and titles that are removed wherever they stand.
STRONG_TITLES = """dr mr mme mrs dipl drhc frau herr mlle prof dring drjur drmed herrn diplom
diplvw doktor drphil profdr diplinf dipling diplkff diplkfm ehepaar familie drrernat eheleute
diplpsych professor""".split()

# Parts of titles that are removed only right after a title ("Dr. med.")
# or when written with a dot and longer than one letter ("Ing.", "Fr.").
WEAK_TITLES = """c h ba fr hc hr ma ms bsc fam ing jun jur llm mag mba med msc nat oec phd pol
rer sen vet dent mult phil""".split()

# Name particles ("von der Müller" -> "mueller", particles "von der").
PARTICLES = """af av da de di do du la le op te zu das dei del dem den der des dos ten ter
van vom von zum zur della""".split()

WORD_BITS = 8  # 256 slots for the words
NAME_BITS = 11  # 2048 for the names (mostly a single probe)


def name_hash(s):
    """names.c: name_hash: the first two bytes, the last one and the length
    (n >= 1), mixed by one multiplication."""
    b = s.encode()
    n = len(b)
    x = b[0] | (b[1] if n > 1 else 0) << 8 | b[n - 1] << 16 | (n & 0xFF) << 24
    return (x * 2654435761) & 0xFFFFFFFF


def slots(keys, bits):
    """Open addressing: from the top bits of name_hash(key), the next free
    slot (linear probing)."""
    size = 1 << bits
    table = [None] * size
    for k in keys:
        i = name_hash(k) >> (32 - bits)
        while table[i] is not None:
            i = (i + 1) % size
        table[i] = k
    return table


def main():
    entries = set()
    for line in GROUPS.strip().splitlines():
        canon, _, rest = line.partition(":")
        canon = canon.strip()
        entries.add((canon, canon, 1))
        for v in rest.split(","):
            v = v.strip()
            if v and v != canon:
                entries.add((v, canon, 0))
    rows = sorted(entries)
    print("/* Generated by gen_names_table.py.  Do not edit. */")
    print("#ifndef PATRON_MATCH_NAMES_TABLE_H\n#define PATRON_MATCH_NAMES_TABLE_H\n")
    print("/* name, group (its canonical name), is_canonical; sorted by name */")
    print("static const struct name_entry name_table[%d] = {" % len(rows))
    for n, g, c in rows:
        print('    {"%s", "%s", %d},' % (n, g, c))
    print("};\n")
    first, end = {}, {}
    for i, (n, _, _) in enumerate(rows):
        first.setdefault(n, i)
        end[n] = i + 1
    assert len(rows) < 1 << 16
    table = slots(sorted(first), NAME_BITS)
    print("/* each name's entries [lo, hi) at the top NAME_BITS bits of")
    print(" * name_hash(name), or the next slot that was free; an empty slot has")
    print(" * hi 0 */")
    print("#define NAME_BITS %d\n#define NAME_SLOTS (1u << NAME_BITS)" % NAME_BITS)
    print("static const struct name_slot name_slot[NAME_SLOTS] = {")
    for i, k in enumerate(table):
        if k:
            print("    [%d] = {%d, %d}," % (i, first[k], end[k]))
    print("};\n")
    kinds = {}
    for w in STRONG_TITLES:
        kinds[w] = "WORD_STRONG"
    for w in WEAK_TITLES:
        assert w not in kinds
        kinds[w] = "WORD_WEAK"
    for w in PARTICLES:
        assert w not in kinds
        kinds[w] = "WORD_PARTICLE"
    longest = max(len(w) for w in kinds)
    table = slots(sorted(kinds), WORD_BITS)
    print("/* title and particle words at the top WORD_BITS bits of name_hash(word),")
    print(" * or the next slot that was free; an empty slot has length 0 */")
    print("#define WORD_BITS %d\n#define WORD_SLOTS (1u << WORD_BITS)\n#define WORD_MAX %d" % (WORD_BITS, longest))
    print("static const struct name_word name_words[WORD_SLOTS] = {")
    for i, w in enumerate(table):
        if w:
            print('    [%d] = {"%s", %d, %s},' % (i, w, len(w), kinds[w]))
    print("};\n\n#endif")


if __name__ == "__main__":
    main()
