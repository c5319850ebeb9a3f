#!/usr/bin/env python3
"""German shop customers whose lives happened between two orders.

The development generator (../shared/data/gen_customers.py) plants typing
errors; this one plants life events and shared contact data, the situations
a shop sees that the development generator does not:

  true duplicates (one person, two or three records)
    moved        new street, postal code and city; same name; the same or
                 another personal email; often another phone
    married      new last name or a double name; same given name; same birth
                 date or same email; same or new address
    mailbox      a second email address; same name, address and phone
    work         registered at work: company name, company address,
                 firstname.lastname@company mailbox, switchboard phone
    packstation  the same person once at home and once at a Packstation
    *-dup        a look-alike below (Packstation, colleague, namesake) who
                 registered twice
    typo         typing errors, initials, transliteration, swapped fields
  look-alikes (different people)
    packstation  strangers delivering to one Packstation (same "street",
                 number and postal code)
    colleague    colleagues registering with their company's address,
                 switchboard number and info@ mailbox
    namesake     a very common name (Thomas Müller, Anna Schmidt) many times
                 in one city, at other streets
    household    spouses, children: same address and last name, often one
                 landline, sometimes one family mailbox
    junior       father and son of one name at one address, with birth dates

Layout as gen_customers.py (and febrl/to_customers.py): the CSV has the
columns id, first_name, last_name, company, street, postal_code, city,
country, email, phone, birth_date; the truth file id, person.  --kinds
writes id, kind (the situation that made the record) for a per-situation
breakdown.

    gen_life_events.py --people 4000 --seed 11 --out X.csv --truth T.csv [--kinds K.csv]

Only the standard library; the same seed gives the same files.
"""
import argparse
import csv
import random
import sys

GIVEN_F = ("Anna Birgit Carola Dagmar Elisabeth Franziska Gudrun Hanna Ilse Johanna Karin "
           "Lieselotte Marion Nadine Olga Paulina Regina Sabine Tamara Ulrike Veronika "
           "Waltraud Yasemin Zeynep Annegret Bettina Christiane Doreen Edith Frauke Gesine "
           "Henriette Irmgard Josefine Kornelia Luise Mareike Nele Ottilie Roswitha").split()
GIVEN_M = ("Achim Bastian Conrad Detlef Egon Friedhelm Gerd Hartmut Ingo Joachim Konrad "
           "Lothar Mathias Nils Otmar Pascal Reinhard Siegfried Thomas Ulrich Volker Waldemar "
           "Xaver Yannick Axel Bernhard Clemens Dietmar Eckhard Fritz Gunnar Hubert Ivo "
           "Jochen Kurt Leonhard Michael Norbert Olaf Rolf").split()
FAMILY = ("Müller Schmidt Ackermann Baumgärtner Dreher Eichhorn Fleischer Gebauer Hellwig "
          "Immel Jansen Kämmerer Lindemann Marquardt Nolte Oberländer Pfeifer Quast "
          "Rademacher Sievers Trautmann Uhlig Vollmer Wächter Zeidler Bräuer Döring Engelke "
          "Fechner Gräber Haupt Kessler Lorenzen Mäder Niehaus Ostermann Prüfer Rößler "
          "Schüler Tetzlaff Urban Vetter Wirth Ziemann Aydın Kaczmarek Nowicki Öztürk "
          "Lehnert Brandl").split()
STREET = ("Am Anger|Ahornstraße|Bachgasse|Birkenallee|Domplatz|Eichenweg|Erlenstraße|"
          "Fasanenweg|Gartenfeld|Hafenstraße|Heideweg|Im Grund|Jägerstraße|Kiefernweg|"
          "Klosterstraße|Lerchenfeld|Marienstraße|Nelkenweg|Obere Gasse|Pappelallee|"
          "Querstraße|Rosenhof|Sonnenhang|Tannenstraße|Ulmenweg|Vogelsang|Weidenweg|"
          "Zum Steinbruch|Karl-Marx-Straße|Sankt-Georg-Straße|An den Eichen|Kirchplatz").split("|")
# postal code, city; the first is the city of the very common names
TOWN = [("10247", "Berlin"), ("10999", "Berlin"), ("13353", "Berlin"), ("22083", "Hamburg"),
        ("80469", "München"), ("50733", "Köln"), ("04277", "Leipzig"), ("01099", "Dresden"),
        ("30167", "Hannover"), ("90429", "Nürnberg"), ("28203", "Bremen"), ("45138", "Essen"),
        ("97082", "Würzburg"), ("35037", "Marburg"), ("72070", "Tübingen"), ("24937", "Flensburg"),
        ("54290", "Trier"), ("36037", "Fulda"), ("92637", "Weiden"), ("26721", "Emden"),
        ("99423", "Weimar"), ("19053", "Schwerin"), ("87435", "Kempten"), ("31134", "Hildesheim")]
PROVIDER = ["web.de", "gmx.de", "gmx.net", "t-online.de", "gmail.com", "posteo.de",
            "freenet.de", "mailbox.org", "arcor.de", "yahoo.de", "outlook.de"]
FIRM_WORD = ["Kanzlei", "Ingenieurbüro", "Spedition", "Druckerei", "Zahnarztpraxis", "Werkzeugbau",
             "Versicherungsbüro", "Logistik", "Softwarehaus", "Brauerei", "Orthopädietechnik"]
FIRM_FORM = ["GmbH", "AG", "GmbH & Co. KG", "KG", "e.K.", "OHG"]
INDUSTRIAL = ["Industriestraße", "Gewerbepark", "Am Technologiepark", "Werkstraße",
              "Daimlerstraße", "Robert-Bosch-Straße", "Carl-Zeiss-Ring"]
COMMON = [("Thomas", "Müller"), ("Michael", "Schmidt"), ("Anna", "Schmidt"), ("Sabine", "Müller")]

FOLD = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ı": "i"}


def fold(s):
    return "".join(FOLD.get(c, c) for c in s)


def mail_local(rng, first, last):
    f, l = fold(first).lower().replace(" ", ""), fold(last).lower().replace(" ", "")
    return rng.choice([f + "." + l, f[0] + l, f + l + str(rng.randint(1, 99)), l + "." + f,
                       f + "_" + l, f[0] + "." + l + str(rng.randint(60, 99))])


def landline(rng):
    return "0%d %d" % (rng.randint(200, 9999), rng.randint(100000, 9999999))


def mobile(rng):
    return "01%d%d %d" % (rng.choice([5, 6, 7]), rng.randint(0, 9), rng.randint(1000000, 9999999))


def birth(rng):
    return "%04d-%02d-%02d" % (rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))


def typo(rng, s):
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    k = rng.randrange(4)
    if k == 0:
        return s[:i] + s[i + 1:]
    if k == 1:
        return s[:i] + rng.choice("aeinrst") + s[i:]
    if k == 2:
        return s[:i] + rng.choice("aeinrstlo") + s[i + 1:]
    return s[:i - 1] + s[i] + s[i - 1] + s[i + 1:]


def phone_format(rng, p):
    if not p:
        return p
    d = p.replace(" ", "")
    return rng.choice([p, d, "+49 " + d[1:], "+49 (0)" + d[1:], d[:4] + "/" + d[4:]])


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.rows = []  # (record, person, kind)
        self.next_person = 0

    def person_id(self):
        self.next_person += 1
        return "P%06d" % self.next_person

    def new_person(self, female=None, last=None, town=None):
        rng = self.rng
        if female is None:
            female = rng.random() < 0.5
        first = rng.choice(GIVEN_F if female else GIVEN_M)
        if rng.random() < 0.06:  # a second given name
            first += " " + rng.choice(GIVEN_F if female else GIVEN_M)
        last = last or rng.choice(FAMILY)
        plz, city = town or rng.choice(TOWN)
        return {
            "pid": self.person_id(), "female": female,
            "first_name": first, "last_name": last, "company": "",
            "street": "%s %d%s" % (rng.choice(STREET), rng.randint(1, 140),
                                   rng.choice("ab") if rng.random() < 0.1 else ""),
            "postal_code": plz, "city": city, "country": "DE",
            "email": mail_local(rng, first.split()[0], last) + "@" + rng.choice(PROVIDER)
            if rng.random() < 0.85 else "",
            "phone": (landline(rng) if rng.random() < 0.5 else mobile(rng)) if rng.random() < 0.6 else "",
            "birth_date": birth(rng) if rng.random() < 0.35 else "",
        }

    def emit(self, p, kind, **changes):
        rec = {k: p[k] for k in ("first_name", "last_name", "company", "street", "postal_code",
                                 "city", "country", "email", "phone", "birth_date")}
        rec.update(changes)
        self.rows.append((rec, p["pid"], kind))
        return rec

    def light_noise(self, rec):
        """What every second record of a person may carry anyway."""
        rng = self.rng
        rec = dict(rec)
        if rng.random() < 0.3:
            rec["phone"] = phone_format(rng, rec["phone"])
        if rng.random() < 0.15:
            rec["street"] = rec["street"].replace("straße", "str.").replace("Straße", "Str.")
        if rng.random() < 0.1:
            rec["email"] = rec["email"].capitalize()
        return rec

    # ---- true duplicates -------------------------------------------------------------

    def moved(self, p):
        rng = self.rng
        self.emit(p, "base")
        plz, city = rng.choice(TOWN)
        new = {"street": "%s %d" % (rng.choice(STREET), rng.randint(1, 140)),
               "postal_code": plz, "city": city}
        if rng.random() < 0.6:
            new["phone"] = mobile(rng) if rng.random() < 0.5 else ""
        if rng.random() < 0.4:  # a new personal mailbox too
            new["email"] = mail_local(rng, p["first_name"].split()[0], p["last_name"]) + "@" + rng.choice(PROVIDER)
        rec = self.light_noise(dict(self.emit(p, "moved", **new)))
        self.rows[-1] = (rec, p["pid"], "moved")

    def married(self, p):
        rng = self.rng
        self.emit(p, "base")
        other = rng.choice([x for x in FAMILY if x != p["last_name"]])
        last = rng.choice([other, other, p["last_name"] + "-" + other, other + "-" + p["last_name"]])
        ch = {"last_name": last}
        # what identifies her: the birth date or the mailbox (or both)
        keep = rng.random()
        if keep < 0.4:
            ch["birth_date"] = p["birth_date"] or birth(rng)
            p["birth_date"] = ch["birth_date"]
            self.rows[-1][0]["birth_date"] = ch["birth_date"]
            if rng.random() < 0.5:
                ch["email"] = mail_local(rng, p["first_name"].split()[0], last.split("-")[0]) + "@" + rng.choice(PROVIDER)
        elif keep < 0.8:
            if not p["email"]:
                p["email"] = mail_local(rng, p["first_name"].split()[0], p["last_name"]) + "@" + rng.choice(PROVIDER)
                self.rows[-1][0]["email"] = p["email"]
        else:
            ch["birth_date"] = p["birth_date"] or birth(rng)
            p["birth_date"] = ch["birth_date"]
            self.rows[-1][0]["birth_date"] = ch["birth_date"]
        if rng.random() < 0.4:  # moved in with the spouse
            plz, city = rng.choice(TOWN)
            ch.update(street="%s %d" % (rng.choice(STREET), rng.randint(1, 140)), postal_code=plz, city=city)
        self.emit(p, "married", **ch)

    def mailbox(self, p):
        rng = self.rng
        if not p["phone"]:
            p["phone"] = landline(rng)
        if not p["email"]:
            p["email"] = mail_local(rng, p["first_name"].split()[0], p["last_name"]) + "@" + rng.choice(PROVIDER)
        self.emit(p, "base")
        host = rng.choice([h for h in PROVIDER if not p["email"].endswith("@" + h)])
        email = mail_local(rng, p["first_name"].split()[0], p["last_name"]) + "@" + host
        rec = self.light_noise(self.emit(p, "mailbox", email=email))
        self.rows[-1] = (rec, p["pid"], "mailbox")

    def work(self, p, firm):
        rng = self.rng
        self.emit(p, "base")
        f, l = fold(p["first_name"].split()[0]).lower(), fold(p["last_name"]).lower()
        self.emit(p, "work", company=firm["name"], street=firm["street"], postal_code=firm["plz"],
                  city=firm["city"], email="%s.%s@%s" % (f, l, firm["domain"]),
                  phone=phone_format(rng, firm["phone"]), birth_date="")

    def packstation_dup(self, p, station):
        rng = self.rng
        self.emit(p, "base")
        self.emit(p, "packstation", street=station["street"], postal_code=station["plz"],
                  city=station["city"], phone="" if rng.random() < 0.5 else p["phone"])

    def typo_dup(self, p):
        rng = self.rng
        self.emit(p, "base")
        rec = dict(self.rows[-1][0])
        ops = rng.sample(range(7), rng.randint(1, 2))
        for op in ops:
            if op == 0:
                rec["last_name"] = typo(rng, rec["last_name"])
            elif op == 1:
                rec["first_name"] = typo(rng, rec["first_name"])
            elif op == 2:
                rec["first_name"] = rec["first_name"][0] + "."
            elif op == 3:
                rec["first_name"], rec["last_name"] = fold(rec["first_name"]), fold(rec["last_name"])
            elif op == 4:
                rec["first_name"], rec["last_name"] = rec["last_name"], rec["first_name"]
            elif op == 5:
                rec["street"] = typo(rng, rec["street"])
            elif op == 6:
                rec["email"] = ""
        self.rows.append((self.light_noise(rec), p["pid"], "typo"))

    # ---- look-alikes -------------------------------------------------------------------

    def household(self, p):
        """p and one or two others at p's address: distinct people."""
        rng = self.rng
        self.emit(p, "base")
        for _ in range(rng.randint(1, 2)):
            q = self.new_person(female=rng.random() < 0.5, last=p["last_name"])
            q.update(street=p["street"], postal_code=p["postal_code"], city=p["city"])
            if rng.random() < 0.5 and p["phone"]:
                q["phone"] = p["phone"]  # the landline
            if rng.random() < 0.2 and p["email"]:
                q["email"] = p["email"]  # the family mailbox
            self.emit(q, "household")

    def junior(self, p):
        rng = self.rng
        p["birth_date"] = "%04d-%02d-%02d" % (rng.randint(1945, 1965), rng.randint(1, 12), rng.randint(1, 28))
        self.emit(p, "base")
        q = dict(p, pid=self.person_id())
        q["birth_date"] = "%04d-%02d-%02d" % (rng.randint(1980, 1998), rng.randint(1, 12), rng.randint(1, 28))
        q["email"] = mail_local(rng, q["first_name"].split()[0], q["last_name"]) + "@" + rng.choice(PROVIDER)
        q["phone"] = mobile(rng)
        self.emit(q, "junior")


def firm(rng, i):
    word, form = rng.choice(FIRM_WORD), rng.choice(FIRM_FORM)
    owner = rng.choice(FAMILY)
    plz, city = rng.choice(TOWN)
    domain = fold(owner).lower() + "-" + fold(word).lower()[:8] + ".de"
    return {"name": "%s %s %s" % (word, owner, form), "plz": plz, "city": city,
            "street": "%s %d" % (rng.choice(INDUSTRIAL), rng.randint(1, 60)),
            "domain": domain, "phone": landline(rng)[:-3] + "0"}


def generate(people, seed):
    rng = random.Random(seed)
    g = Gen(rng)
    firms = [firm(rng, i) for i in range(max(4, people // 60))]
    stations = []
    for i in range(max(3, people // 150)):
        plz, city = rng.choice(TOWN)
        stations.append({"street": "Packstation %d" % rng.randint(100, 299), "plz": plz, "city": city})
    while len(g.rows) < people:
        x = rng.random()
        p = g.new_person()
        if x < 0.08:
            g.moved(p)
        elif x < 0.13:
            p2 = g.new_person(female=True)
            g.married(p2)
        elif x < 0.19:
            g.mailbox(p)
        elif x < 0.23:
            g.work(p, rng.choice(firms))
        elif x < 0.25:
            g.packstation_dup(p, rng.choice(stations))
        elif x < 0.33:
            g.typo_dup(p)
        elif x < 0.43:
            g.household(p)
        elif x < 0.45:
            g.junior(p)
        elif x < 0.52:
            # a stranger at a Packstation (look-alike), sometimes twice there
            st = rng.choice(stations)
            p.update(street=st["street"], postal_code=st["plz"], city=st["city"])
            g.emit(p, "packstation-stranger")
            if rng.random() < 0.15:
                rec = dict(g.rows[-1][0])
                rec["first_name"] = typo(rng, rec["first_name"]) if rng.random() < 0.5 else rec["first_name"]
                rec["email"] = rec["email"] if rng.random() < 0.5 else ""
                g.rows.append((rec, p["pid"], "packstation-dup"))
        elif x < 0.60:
            # a colleague registering with the company's contact data
            f = rng.choice(firms)
            p.update(company=f["name"], street=f["street"], postal_code=f["plz"], city=f["city"],
                     email="info@" + f["domain"], phone=f["phone"], birth_date="")
            g.emit(p, "colleague")
            if rng.random() < 0.1:  # and once more, as herself
                g.rows.append((g.light_noise(dict(g.rows[-1][0])), p["pid"], "colleague-dup"))
        elif x < 0.66:
            # a very common name, many times in one city
            first, last = rng.choice(COMMON)
            plz, city = TOWN[rng.randrange(3)]
            p.update(first_name=first, last_name=last, postal_code=plz, city=city,
                     email=mail_local(rng, first, last) + "@" + rng.choice(PROVIDER))
            g.emit(p, "namesake")
            if rng.random() < 0.15:
                rec = g.light_noise(dict(g.rows[-1][0]))
                g.rows.append((rec, p["pid"], "namesake-dup"))
        else:
            g.emit(p, "base")
    rows = g.rows[:people]
    rng.shuffle(rows)
    return rows


COLUMNS = ["id", "first_name", "last_name", "company", "street", "postal_code", "city", "country",
           "email", "phone", "birth_date"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=4000, help="number of records")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default="-")
    ap.add_argument("--truth")
    ap.add_argument("--kinds")
    a = ap.parse_args(argv)
    rows = generate(a.people, a.seed)
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8", newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    t = k = None
    if a.truth:
        t = csv.writer(open(a.truth, "w", encoding="utf-8", newline=""), lineterminator="\n")
        t.writerow(["id", "person"])
    if a.kinds:
        k = csv.writer(open(a.kinds, "w", encoding="utf-8", newline=""), lineterminator="\n")
        k.writerow(["id", "kind"])
    for i, (rec, pid, kind) in enumerate(rows):
        rid = "L%06d" % (i + 1)
        w.writerow([rid] + [rec[c] for c in COLUMNS[1:]])
        if t:
            t.writerow([rid, pid])
        if k:
            k.writerow([rid, kind])
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
