"""The review page (issue 12, point 6) in a real browser: a generated shop
is deduplicated into the review queue, `patron review --html` writes the
page, and headless Chromium renders it from a file:// URL with its script
run.  The test counts the cards, finds a known cluster's names in its card,
filters by search and verdict through the page's own script, checks that a
name holding markup stays text, and saves a screenshot beside the test's
build directory (review-page.png).

Chromium is required: when it is missing the test fails and says how to
install it (.ci/deps does); it never skips for that."""
import json
import os
import re
import shutil
import subprocess
import sys

import clitest

CHROMIUM = None
ARTEFACTS = None
XSS_FIRST = "<script>alert(1)</script>"
XSS_LAST = 'Keller"><img src=x onerror="document.title=\'pwned\'">'


def take_args():
    global CHROMIUM, ARTEFACTS
    rest = []
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--chromium":
            CHROMIUM = next(it)
        elif a == "--artefacts":
            ARTEFACTS = next(it)
        else:
            rest.append(a)
    sys.argv[1:] = rest


class ReviewPage(clitest.CliTest):
    def setUp(self):
        super().setUp()
        browser = CHROMIUM or shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser or not os.path.exists(browser):
            self.fail("headless Chromium is needed for this test and was not found: install Debian's "
                      "'chromium' (bash .ci/deps does) and reconfigure the build")
        self.browser = browser
        src = self.gen_customers(200, seed=3)
        self.ok("import", src)
        for _ in range(2):  # a duplicate pair whose names hold markup
            self.ok("create", "first_name=" + XSS_FIRST, "last_name=" + XSS_LAST, "email=x@evil.example",
                    "street=Ringweg 3", "postal_code=80331", "city=München")
        r = self.run_cli("dedupe")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.cases = json.loads(self.ok("review", "--json"))
        self.assertGreater(len(self.cases), 10)
        self.page = self.path("review.html")
        self.assertEqual(self.ok("review", "--html", self.page),
                         "wrote %d cases to %s\n" % (len(self.cases), self.page))
        with open(self.page, encoding="utf-8") as f:
            self.html = f.read()

    def chromium(self, *args, url_suffix=""):
        argv = [self.browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + self.path("chromium-profile"), "--virtual-time-budget=5000"]
        argv += list(args) + ["file://" + self.page + url_suffix]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180,
                           env=dict(os.environ, HOME=self.dir))
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace")[-2000:])
        return r.stdout.decode("utf-8")

    def cards(self, dom):
        """{case id: (hidden, html of the card)} from the rendered DOM."""
        out = {}
        for m in re.finditer(r'<article class="case [a-z]+" id="case-(\d+)"([^>]*)>(.*?)</article>', dom, re.S):
            out[int(m.group(1))] = ("hidden" in m.group(2), m.group(3))
        return out

    def test_self_contained_and_escaped(self):
        # nothing is fetched: no element with a source or a link
        self.assertIsNone(re.search(r"<(script|link|img|iframe|object|embed)\b[^>]*\b(src|href)\s*=",
                                    self.html, re.I))
        self.assertNotIn("http://", self.html)
        self.assertNotIn("https://", self.html)
        self.assertEqual(self.html.count("<script>"), 1)  # the page's own, inline
        # the names holding markup are text
        self.assertNotIn(XSS_FIRST, self.html)
        self.assertNotIn("<img", self.html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; Keller&quot;&gt;&lt;img src=x", self.html)
        self.assertEqual(self.html.count('<article class="case '), len(self.cases))

    def test_rendered_in_chromium(self):
        dom = self.chromium("--dump-dom")
        self.assertIn('data-ready="1"', dom)  # the page's script ran
        cards = self.cards(dom)
        self.assertEqual(len(cards), len(self.cases))
        self.assertEqual(set(cards), {c["id"] for c in self.cases})
        self.assertIn('data-shown="%d"' % len(self.cases), dom)
        self.assertIn("%d of %d shown" % (len(self.cases), len(self.cases)), dom)
        # the best case first, with its customers' names and numbers side by side
        best = self.cases[0]
        self.assertEqual(next(iter(cards)), best["id"])
        body = cards[best["id"]][1]
        for member in best["members"]:
            c = self.show_json("#%d" % member)
            self.assertIn("] %s</th>" % c["number"], body)
            for part in (c.get("first_name"), c.get("last_name")):
                if part:
                    self.assertIn(part, body)
        self.assertIn("patron review merge %d" % best["id"], body)
        self.assertIn('class="bar pos"', body)  # the weights as bars
        # no injected markup ran
        self.assertIn("<title>patron: duplicate review</title>", dom)
        xss = [cid for cid, (_, html) in cards.items() if "x@evil.example" in html]
        self.assertEqual(len(xss), 1)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", cards[xss[0]][1])
        self.assertNotIn("<img", dom)
        # a screenshot, kept as the test's artefact
        shot = os.path.join(ARTEFACTS or self.dir, "review-page.png")
        self.chromium("--hide-scrollbars", "--window-size=1280,1800", "--screenshot=" + shot)
        self.assertGreater(os.path.getsize(shot), 10000)

    def test_filter_and_search(self):
        # the search box, filled from the address, through the page's script
        cards = self.cards(self.chromium("--dump-dom", url_suffix="#q=evil.example"))
        shown = [cid for cid, (hidden, _) in cards.items() if not hidden]
        self.assertEqual(len(shown), 1)
        self.assertIn("x@evil.example", cards[shown[0]][1])
        # the verdict filter
        merges = {c["id"] for c in self.cases if c["verdict"] == "merge"}
        reviews = {c["id"] for c in self.cases if c["verdict"] == "review"}
        self.assertTrue(merges and reviews, "the generated shop has cases of both verdicts")
        dom = self.chromium("--dump-dom", url_suffix="#verdict=review")
        cards = self.cards(dom)
        self.assertEqual({cid for cid, (hidden, _) in cards.items() if not hidden}, reviews)
        self.assertIn('data-shown="%d"' % len(reviews), dom)


if __name__ == "__main__":
    take_args()
    clitest.main()
