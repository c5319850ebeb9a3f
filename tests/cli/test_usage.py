"""Exit codes, help, version, the database option, the progress bar."""
import os
import pty
import re
import shutil
import subprocess

import clitest

COMMANDS = ["import", "export", "show", "list", "create", "update", "delete",
            "register", "activate", "release", "lock", "unlock", "can-login", "groups",
            "merge-plan", "merge", "journal", "undo", "import-orders", "orders", "dedupe", "review", "match",
            "export-person", "erase"]


class Usage(clitest.CliTest):
    def test_help(self):
        for args in (["--help"], ["-h"], ["help"]):
            out = self.ok(*args, db=False)
            self.assertIn("Usage: patron", out)
            for c in COMMANDS:
                self.assertIn(c, out)
        for c in COMMANDS:
            out = self.ok(c, "--help", db=False)
            self.assertTrue(out.startswith("Usage: patron [--db PATH] " + c), out)
            self.assertEqual(out, self.ok("help", c, db=False))
        self.assertIn("--rejects", self.ok("import", "--help", db=False))
        self.assertFalse(os.path.exists(self.db))

    def test_import_batches_said_alike(self):
        """Issue 13, defect 11: the import commits in batches; --help, the man
        page, the code's comments and sqlite.h say so, with the same size."""
        root = clitest.SOURCE_ROOT
        if not root:
            self.skipTest("no --source-root")
        with open(os.path.join(root, "examples", "patron", "cmd_io.c"), encoding="utf-8") as f:
            code = f.read()
        size = int(re.search(r"#define BATCH_ROWS (\d+)", code).group(1))
        self.assertNotIn("its own transaction", code)
        self.assertIn("transactions of %d rows" % size, self.ok("import", "--help", db=False))
        self.assertNotIn("its own transaction", self.ok("import", "--help", db=False))
        with open(os.path.join(root, "examples", "patron", "patron.1"), encoding="utf-8") as f:
            self.assertIn("transactions of %d rows" % size, f.read())
        with open(os.path.join(root, "include", "patron", "sqlite.h"), encoding="utf-8") as f:
            header = " ".join(f.read().replace("*", " ").split())
        self.assertIn("writes {:,} customers per transaction".format(size).replace(",", " "), header)

    def test_version(self):
        out = self.ok("--version", db=False)
        self.assertRegex(out, r"^patron \d+\.\d+\.\d+ \(libpatron \d+\.\d+\.\d+\)\n$")

    def test_postgres_store_not_loaded_at_start(self):
        """libpatron-pg and libpq (with ssl, krb5, ldap ...) are loaded when a
        postgresql:// database is opened, not with the tool: glibc's loader
        lists what it loads at start with LD_TRACE_LOADED_OBJECTS."""
        env = dict(os.environ, LD_TRACE_LOADED_OBJECTS="1")
        r = subprocess.run([clitest.PATRON, "--version"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        if "libpatron" not in out:
            self.skipTest("no glibc loader listing")
        self.assertNotIn("libpatron-pg", out)
        self.assertNotIn("libpq", out)

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["--frob"], ["list", "--frob"], ["show"], ["show", "a", "b"],
                     ["create"], ["create", "last_name"], ["create", "=x"], ["update", "K1"],
                     ["delete"], ["import"], ["import", "a.csv", "b.csv"], ["export", "--format", "xml"],
                     ["export", "--out"], ["list", "--json=yes"], ["list", "--active", "--pending"],
                     ["import", "a.csv", "--rejects"], ["help", "frobnicate"],
                     ["register"], ["register", "x"], ["activate"], ["activate", "K1", "--all-pending"],
                     ["activate", "--all-pending", "--mode", "fast"], ["release"], ["lock", "K1"],
                     ["lock", "K1", "--reason"], ["unlock"], ["can-login"], ["can-login", "a", "b"],
                     ["groups", "frob"], ["groups", "add"], ["groups", "rename", "A"], ["groups", "set", "A"],
                     ["groups", "set", "A", "discount"], ["groups", "assign", "A"], ["groups", "add", "A", "--json"],
                     ["merge-plan"], ["merge-plan", "K1"], ["merge", "K1"], ["merge", "K1", "K2", "--take", "x"],
                     ["merge", "K1", "K2", "--set"], ["merge", "K1", "K2", "--policy", "oldest"],
                     ["merge", "K1", "K2", "--json"], ["journal", "x"], ["journal", "--limit", "x"],
                     ["undo"], ["undo", "x"], ["undo", "1", "2"], ["import-orders"], ["orders"],
                     ["dedupe", "a.csv", "b.csv"], ["dedupe", "a.csv", "--mode", "name"], ["match"], ["match", "K1", "--mode"],
                     ["export-person"], ["export-person", "a", "b"], ["export-person", "K1", "--output"],
                     ["erase"], ["erase", "K1", "--yes"], ["erase", "K1", "--reason"], ["erase", "K1", "--reason", "x"]):
            err = self.fails(2, *args)
            if args and args[0] in COMMANDS:
                self.assertIn("see 'patron %s --help'" % args[0], err)
        self.fails(2, "--db", db=False)

    def test_user_errors_exit_1(self):
        err = self.fails(1, "list")
        self.assertIn("no database", err)
        self.assertFalse(os.path.exists(self.db))  # reading commands create nothing
        self.ok("create", "last_name=A")
        self.assertIn("no customer", self.fails(1, "show", "K999999"))
        self.assertIn("no customer", self.fails(1, "show", "#99"))
        self.assertIn("internal id", self.fails(1, "show", "#x"))
        self.assertIn("no customer", self.fails(1, "delete", "nobody"))
        self.assertIn("no customer", self.fails(1, "update", "nobody", "last_name=B"))
        self.write_bytes("not.db", b"this is no database\n" * 100)
        self.fails(1, "--db", self.path("not.db"), "list", db=False)

    def test_db_option_and_environment(self):
        env_db = self.path("env.db")
        self.ok("create", "last_name=Env", db=False, env={"PATRON_DB": env_db})
        self.assertTrue(os.path.exists(env_db))
        self.assertIn("Env", self.ok("list", db=False, env={"PATRON_DB": env_db}))
        # --db wins over PATRON_DB, before or after the command.
        self.ok("--db", self.db, "create", "last_name=Opt", db=False, env={"PATRON_DB": env_db})
        self.assertIn("Opt", self.ok("list", "--db", self.db, db=False, env={"PATRON_DB": env_db}))
        self.assertIn("Opt", self.ok("list", "--db=" + self.db, db=False))
        self.assertNotIn("Opt", self.ok("list", db=False, env={"PATRON_DB": env_db}))
        # Default: patron.db in the current directory.
        self.ok("create", "last_name=Here", db=False)
        self.assertTrue(os.path.exists(self.path("patron.db")))

    def test_quiet_without_terminal(self):
        src = self.gen_customers(3000, seed=2)
        r = self.run_cli("import", src)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b"")
        r = self.run_cli("export")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b"")

    def test_progress_bar_on_a_terminal(self):
        src = self.gen_customers(30000, seed=3)
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([clitest.PATRON, "--db", self.db, "import", src], cwd=self.dir,
                                 env=self.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=slave)
            os.close(slave)
            seen = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            p.communicate(timeout=300)
        finally:
            os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"\rimport [", seen)
        self.assertIn(b"rows", seen)

    def test_demo_script(self):
        script = clitest.gen_customers_script()
        if not script:
            self.skipTest("../shared/data/gen_customers.py not found")
        build = os.path.dirname(os.path.dirname(os.path.dirname(clitest.PATRON)))
        demo = os.path.join(clitest.SOURCE_ROOT, "examples", "patron", "demo.sh")
        r = subprocess.run(["sh", demo, build, os.path.dirname(script)], cwd=self.dir, env=self.env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        out = r.stdout.decode("utf-8")
        self.assertEqual(r.returncode, 0, out + r.stderr.decode(errors="replace"))
        for want in ("imported 402 customers, rejected 0 rows", "id_a,id_b,score,decision", "merge into K",
                     ": journal ", "undid merge", "activated as K", "may not log in", "cannot register again",
                     "open cases (", "case ", ": not_duplicate", "wrote "):
            self.assertIn(want, out)
        # the review queue (issue 12) made the walk a screen longer
        self.assertLess(len(out.splitlines()), 220)
        # the decided pair is gone from the queue and from dedupe after the rescan
        tail = out[out.index("== Rescan"):]
        self.assertRegex(tail, r'\$ patron review \| grep -c "\^\d+ "\n0\n')
        self.assertRegex(tail, r'\(before the decision: 1\)\n0\n')

    @staticmethod
    def valgrind():
        return shutil.which("valgrind")

    def test_valgrind_clean(self):
        vg = self.valgrind()
        if not vg:
            self.skipTest("valgrind not installed")
        src = self.write_csv("v.csv", ["id", "last_name", "street", "email", "tags", "prop.color"],
                             [["1", "A", "Hauptstraße 1", "a@example.com", "x|y", "red"],
                              ["2", "B", "", "kaputt", "", ""],
                              ["3", "C", "Weg", "c@example.com", "", "blue"]], sep=";")
        orders = self.write_csv("o.csv", ["order_id", "customer", "total"],
                                [["O1", "1", "1.00"], ["O2", "5", "2"], ["O3", "nobody", "3"]])
        dd = self.write_csv("d.csv", ["id", "first_name", "last_name", "street", "postal_code", "city"],
                            [["a", "Max", "Müller", "Hauptstraße 1", "10115", "Berlin"],
                             ["b", "Max", "Mueller", "Hauptstr. 1", "10115", "Berlin"],
                             ["b", "dup", "id", "", "", ""]])
        runs = [["import", src], ["show", "1"], ["show", "1", "--json"], ["list"], ["list", "--json"],
                ["update", "1", "street=Ring 5", "prop.color=", "tags=z"], ["export"],
                ["export", "--format", "json"], ["create", "last_name=D", "id=4"], ["delete", "4"],
                ["show", "nobody"], ["create", "email=bad"], ["frob"], ["import", "--help"],
                ["groups", "add", "Std"], ["groups", "set", "Std", "discount_percent=5"], ["groups"],
                ["groups", "--json"], ["groups", "assign", "Std", "1"], ["groups", "delete", "Std"],
                ["create", "last_name=A", "street=Hauptstr. 1", "postal_code=10115", "email=a2@example.com",
                 "id=5"],
                ["match", "1"], ["match", "1", "--json"], ["merge-plan", "1", "5"],
                ["merge-plan", "1", "5", "--json"], ["import-orders", orders],
                ["merge", "1", "5", "--take", "email=2", "--set", "notes=x"], ["orders", "1"],
                ["show", "K000004"], ["journal"], ["journal", "--json"], ["undo", "1"], ["undo", "1"],
                ["register", "last_name=R", "email=r@example.com", "login_user=r"], ["can-login", "r"],
                ["activate", "--all-pending", "--mode", "auto"], ["lock", "r", "--reason", "x"],
                ["can-login", "r"], ["unlock", "r"], ["release", "1"], ["dedupe", src], ["dedupe", dd], ["dedupe"], ["review"], ["review", "show", "1"], ["review", "distinct", "1"],
                ["export-person", "1"], ["export-person", "c@example.com", "--output", "p.json"],
                ["erase", "3", "--reason", "Art. 17", "--yes"], ["export-person", "3"], ["erase", "3", "--reason", "x", "--yes"]]
        for args in runs:
            r = subprocess.run([vg, "-q", "--error-exitcode=99", "--leak-check=full",
                                "--errors-for-leak-kinds=definite,indirect", clitest.PATRON,
                                "--db", self.db] + args, cwd=self.dir, env=self.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=300)
            self.assertNotEqual(r.returncode, 99, "%s: %s" % (args, r.stderr.decode(errors="replace")))


if __name__ == "__main__":
    clitest.main()
