import patron

with patron.Db.open("shop.db") as db:        # the SQLite store; Db.open() alone: in memory
    with db.transaction():                    # committed at the end, rolled back on an exception
        anna = db.create(first_name="Anna", last_name="Müller", email="anna@example.de")
        home = anna.addresses.add(street="Hauptstraße", house_number="12a", postal_code="10115",
                                  city="Berlin", default=True)
        home.city = "Berlin-Mitte"            # an Address writes through to the record
        db.update(anna)
    print(anna.number, anna.addresses[0])

    shop = patron.Customer(first_name="A.", last_name="Mueller", email="Anna@Example.de")
    for cand in db.match(shop):               # candidates, best first, with the reason why
        print(cand.id, cand.decision, [(e.field, e.level) for e in cand.explanation if e.level != "missing"])
        if cand.decision == "merge":
            print("  same customer as", db.load(cand.id).number)
