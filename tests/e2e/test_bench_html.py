# End-to-end tests of `grpcdx bench --html FILE` / `-o html`: one run gives the JSON report on
# stdout and the HTML page in a file; headless Chromium renders the page (the screenshot must
# not be blank) and reads its DOM back (the figures must equal the JSON report's).
import html.parser
import json
import os
import shutil
import struct
import subprocess
import unittest
import zlib

import grpcdx_test as t

METHOD = "grpc.testing.TestService/UnaryCall"


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(*args, timeout=90):
    """Runs headless Chromium with a throw-away profile; returns its stdout."""
    profile = os.path.join(t.tmpdir(), "chromium-profile")
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--user-data-dir=" + profile, "--hide-scrollbars"]
    proc = subprocess.run(argv + list(args), capture_output=True, timeout=timeout,
                          env=dict(os.environ, HOME=t.tmpdir()))
    if proc.returncode != 0:
        raise AssertionError("chromium failed (%d): %s" % (proc.returncode, proc.stderr.decode(errors="replace")[-2000:]))
    return proc.stdout.decode(errors="replace")


def png_pixels(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into (width,
    height, rows of pixel tuples), undoing the per-row filters."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG: %s" % path)
    pos, idat = 8, b""
    width = height = channels = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color_type not in (2, 6) or interlace:
                raise AssertionError("unexpected PNG format: depth %d, colour type %d" % (depth, color_type))
            channels = 3 if color_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


class Charts(html.parser.HTMLParser):
    """Collects the series charts: {svg id: [(class, data-points, [(x, y) of points])]}."""

    def __init__(self):
        super().__init__()
        self.charts, self._svg = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self._svg = attrs.get("id")
        elif tag == "polyline" and self._svg:
            pairs = [tuple(float(v) for v in p.split(",")) for p in attrs.get("points", "").split() if p]
            for x, y in pairs:
                assert 0 <= x <= 940 and 0 <= y <= 220, (x, y)
            self.charts.setdefault(self._svg, []).append((attrs.get("class"), int(attrs["data-points"]), pairs))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None


def parse_charts(page):
    parser = Charts()
    parser.feed(page)
    return parser.charts


class Figures(html.parser.HTMLParser):
    """Collects data-key -> (data-value, text) from a page, and the tags it uses."""

    def __init__(self):
        super().__init__()
        self.figures, self.tags, self._open = {}, set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        for name in ("src", "href"):
            if name in attrs:
                raise AssertionError("the page refers to another resource: <%s %s=%r>" % (tag, name, attrs[name]))
        self._open.append((tag, attrs.get("data-key"), attrs.get("data-value"), []))

    def handle_data(self, data):
        for entry in self._open:
            entry[3].append(data)

    def handle_endtag(self, tag):
        while self._open:
            open_tag, key, value, text = self._open.pop()
            if key is not None:
                self.figures[key] = (value, "".join(text).strip())
            if open_tag == tag:
                break


def parse_figures(page):
    parser = Figures()
    parser.feed(page)
    return parser


def json_figures(report):
    """The JSON report's figures under the keys the page uses (latency_ms.p99, status.OK...)."""
    out = {"count": report["count"], "ok": report["ok"], "duration_ms": report["duration_ms"],
           "rps": report["rps"], "cpu_ms": report["cpu_ms"]}
    for obj in ("latency_ms", "latency_failed_ms"):
        for k, v in report.get(obj, {}).items():
            out["%s.%s" % (obj, k)] = v
    for name, n in report["status"].items():
        out["status." + name] = n
    return out


class BenchHtml(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._server = t.serve()
        cls.address = cls._server.__enter__()
        # One run, through a chaos proxy so the status mix has two colours: JSON on stdout and
        # the page in a file.
        cls.chaos = t.Chaos(cls.address, "--fault", "abort=UNAVAILABLE,pct=20", "--seed", "7")
        cls.page_path = os.path.join(t.tmpdir(), "report.html")
        cls.result = t.run(["bench", cls.chaos.address, "--plaintext", METHOD, "-n", "600", "-c", "8",
                            "-d", '{"responseSize": 32}', "-o", "json", "--html", cls.page_path], timeout=60)
        # A run of a few seconds whose rate steps up, for the charts over time.
        cls.timed_path = os.path.join(t.tmpdir(), "timed.html")
        cls.timed = t.run(["bench", cls.address, "--plaintext", METHOD, "-z", "2500ms", "--load-schedule", "step",
                           "--load-start", "50", "--load-step", "150", "--load-step-duration", "1s",
                           "--load-end", "200", "-o", "json", "--html", cls.timed_path], timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.chaos.stop()
        cls._server.__exit__(None, None, None)

    def report(self):
        rc, out, err = self.result
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        return json.loads(out)

    def page(self):
        self.report()
        with open(self.page_path, encoding="utf-8") as f:
            return f.read()

    def test_page_is_self_contained(self):
        page = self.page()
        parser = parse_figures(page)  # fails on any src= or href=
        self.assertNotIn("script", parser.tags)
        self.assertNotIn("link", parser.tags)
        self.assertNotIn("@import", page)
        self.assertNotIn("url(", page)
        self.assertIn("svg", parser.tags)
        self.assertIn('id="latency-histogram"', page)
        self.assertIn('id="status-mix"', page)

    def test_page_figures_equal_the_json_report(self):
        report = self.report()
        self.assertIn("UNAVAILABLE", report["status"])
        shown = parse_figures(self.page()).figures
        expected = json_figures(report)
        for key, value in expected.items():
            with self.subTest(key=key):
                self.assertIn(key, shown)
                attr, text = shown[key]
                self.assertEqual(json.loads(attr), value)
                self.assertEqual(json.loads(text.split(" ")[0]), value)  # the text a person reads

    def timed_report(self):
        rc, out, err = self.timed
        self.assertEqual(rc, 0, err)
        with open(self.timed_path, encoding="utf-8") as f:
            return json.loads(out), f.read()

    def check_charts(self, charts, points):
        self.assertEqual([c[0] for c in charts["series-rps"]], ["line rps"])
        self.assertEqual([c[0] for c in charts["series-errors"]], ["line errors"])
        self.assertEqual([c[0] for c in charts["series-latency"]], ["line p50", "line p99"])
        for chart in ("series-rps", "series-errors", "series-latency"):
            for css, declared, drawn in charts[chart]:
                with self.subTest(chart=chart, line=css):
                    self.assertEqual(declared, points)
                    self.assertEqual(len(drawn), points)
                    xs = [x for x, _ in drawn]
                    self.assertEqual(xs, sorted(xs))

    def test_series_charts_have_one_point_a_second(self):
        report, page = self.timed_report()
        series = report["series"]
        self.assertGreaterEqual(len(series), 3)
        self.assertIn("Rate", page)
        self.assertIn("step from 50 to 200 by 150 every 1s calls/s (open loop)", page)
        charts = parse_charts(page)
        self.check_charts(charts, len(series))
        # The rate chart rises with the schedule: its second point is drawn higher (smaller y).
        rps_points = charts["series-rps"][0][2]
        self.assertLess(rps_points[1][1], rps_points[0][1] - 20)
        first_page = self.page()
        self.check_charts(parse_charts(first_page), len(self.report()["series"]))

    def test_page_has_parameters_and_command_line(self):
        page = self.page()
        self.assertIn("<pre id=\"command\">grpcdx bench %s %s --plaintext -d &#39;{&quot;responseSize&quot;: 32}&#39; "
                      "-c 8 -n 600</pre>" % (self.chaos.address, METHOD), page)
        for label in ("Target", "Concurrency", "Calls (-n)", "Transport"):
            self.assertIn("<th>%s</th>" % label, page)
        for mark in ("p50", "p90", "p99", "p99.9"):
            self.assertIn('class="pct-label"', page)
            self.assertIn(">%s " % mark, page)

    def test_o_html_prints_the_page(self):
        rc, out, err = t.run(["bench", self.address, "--plaintext", METHOD, "-n", "50", "-c", "2", "-o", "html"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("<!DOCTYPE html>"))
        self.assertEqual(parse_figures(out).figures["count"][0], "50")

    def test_bad_html_path_fails_before_the_run(self):
        missing = os.path.join(t.tmpdir(), "no-such-dir", "r.html")
        self.assert_fails(t.run(["bench", self.address, "--plaintext", METHOD, "-n", "5", "--html", missing]), 1,
                          "cannot write --html")
        self.assert_fails(t.run(["bench", self.address, "--plaintext", METHOD, "-o", "html", "--emit", "k6"]), 2,
                          "--emit prints a script")
        unwritten = os.path.join(t.tmpdir(), "unwritten.html")
        self.assert_fails(t.run(["bench", self.address, "--plaintext", METHOD, "--html", unwritten, "--emit", "k6"]), 2)
        self.assertFalse(os.path.exists(unwritten))
        # A run that fails (nothing listens) leaves no empty page behind.
        self.assert_fails(t.run(["bench", "127.0.0.1:%d" % t.free_port(), "--plaintext", METHOD, "-n", "5",
                                 "--connect-timeout", "2s", "--html", unwritten]), 78)
        self.assertFalse(os.path.exists(unwritten))
        self.assert_fails(t.run(["list", self.address, "--plaintext", "-o", "html"]), 2)

    @unittest.skipUnless(chromium(), "chromium is not installed (scripts/install-deps installs it)")
    def test_chromium_renders_the_page(self):
        report = self.report()
        url = "file://" + self.page_path
        shot = os.path.join(t.tmpdir(), "report.png")
        run_chromium("--window-size=1200,1600", "--screenshot=" + shot, url)
        width, height, rows = png_pixels(shot)
        self.assertEqual((width, height), (1200, 1600))
        colours = {}
        for row in rows[::4]:
            for pixel in row[::4]:
                colours[pixel] = colours.get(pixel, 0) + 1
        total = sum(colours.values())
        background = max(colours.values())
        # Not blank: many colours (text, bars, status mix), and a real share of non-background pixels.
        self.assertGreater(len(colours), 20, "screenshot looks blank")
        self.assertGreater(total - background, total * 0.02, "screenshot is almost all one colour")
        # The bars' blue and the OK green are drawn.
        self.assertTrue(any(abs(r - 0x3b) < 12 and abs(g - 0x82) < 12 and abs(b - 0xc4) < 12 for (r, g, b) in colours),
                        "no histogram bar in the screenshot")
        self.assertTrue(any(abs(r - 0x2d) < 12 and abs(g - 0xa4) < 12 and abs(b - 0x4e) < 12 for (r, g, b) in colours),
                        "no OK share in the screenshot")
        # The charts over time: drawn (the p99 line's purple is on screen; the run is all OK, so no
        # status has that colour), and with one point a second in the DOM Chromium built.
        report_timed, _ = self.timed_report()
        timed_url = "file://" + self.timed_path
        timed_shot = os.path.join(t.tmpdir(), "timed.png")
        run_chromium("--window-size=1200,3200", "--screenshot=" + timed_shot, timed_url)
        _, _, timed_rows = png_pixels(timed_shot)
        timed_colours = {pixel for row in timed_rows[::2] for pixel in row[::2]}
        self.assertTrue(any(abs(r - 0x82) < 12 and abs(g - 0x50) < 12 and abs(b - 0xdf) < 12
                            for (r, g, b) in timed_colours), "no p99 line in the screenshot")
        self.check_charts(parse_charts(run_chromium("--dump-dom", timed_url)), len(report_timed["series"]))
        # The DOM Chromium built from the file carries the same figures as the JSON report.
        dom = run_chromium("--dump-dom", url)
        shown = parse_figures(dom).figures
        for key, value in json_figures(report).items():
            with self.subTest(key=key):
                self.assertEqual(json.loads(shown[key][0]), value)


if __name__ == "__main__":
    t.main()
