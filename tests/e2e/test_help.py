# End-to-end tests of `grpcdx help` and the man page: every command has a page, the page shows
# the text of docs/COMMAND.md, the man page the build wrote is what `help --man` prints, it
# renders without groff warnings, and its sections hold the same words as `grpcdx help`.
import os
import re
import shutil
import subprocess

import grpcdx_test as t

DOCS = os.path.join(t.REPO, "docs")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def commands():
    """The command names `grpcdx --help` lists."""
    rc, out, err = t.run(["--help"])
    assert rc == 0, err
    names, in_list = [], False
    for line in out.splitlines():
        if line.strip().upper().startswith("SUBCOMMANDS"):
            in_list = True
            continue
        if in_list and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
    return names


def built_man_page():
    return os.path.join(os.path.dirname(os.path.abspath(t.binary())), "share", "grpcdx.1")


def doc_lines(name):
    """(headings as plain text, lines of fenced code) of docs/NAME.md."""
    headings, code, inside = [], [], False
    with open(os.path.join(DOCS, name + ".md"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip().startswith("```"):
                inside = not inside
            elif inside:
                if line.strip():
                    code.append(line.strip())
            elif re.match(r"^#{2,6} ", line):
                headings.append(plain(line.lstrip("#").strip()))
    return headings, code


def plain(markdown):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("\\|", "|")
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    return text.replace("`", "")


def words(text):
    """The words of rendered text, with typography folded so troff and the terminal compare."""
    text = ANSI.sub("", text)
    for a, b in (("\u2010", "-"), ("\u2212", "-"), ("\u2019", "'"), ("\u2018", "'"), ("\u2022", ""),
                 ("\u00b7", ""), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(a, b)
    return [w for w in text.split() if w]


def groff(page_text, width=200):
    """The man page rendered to plain UTF-8 text by groff; returns (text, warnings)."""
    proc = subprocess.run(["groff", "-ww", "-man", "-Tutf8", "-rLL=%dn" % width, "-P-cbou"],
                          input=page_text.encode(), capture_output=True, timeout=60)
    return proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


class Help(t.TestCase):
    def test_every_command_has_a_page_with_its_docs(self):
        names = commands()
        self.assertIn("bench", names)
        self.assertIn("help", names)
        for name in names:
            with self.subTest(command=name):
                rc, out, err = t.run(["help", name])
                self.assertEqual(rc, 0, err)
                self.assertEqual(err, "")
                self.assertTrue(out.startswith("grpcdx %s\n" % name), out[:200])
                headings, code = doc_lines(name)
                flowing = " ".join(out.split())  # headings wrap like any text
                for heading in headings:
                    self.assertIn(" ".join(heading.split()), flowing)
                for line in code:
                    self.assertIn(line, out)

    def test_overview_lists_commands_and_general_sections(self):
        rc, out, err = t.run(["help"])
        self.assertEqual(rc, 0, err)
        for name in commands():
            self.assertRegex(out, r"(?m)^  %s\s" % re.escape(name))
        for heading in ("Global options", "Terminal behaviour", "Environment", "Exit status"):
            self.assertIn("\n%s\n" % heading, out)
        self.assertIn("NO_COLOR", out)

    def test_help_is_plain_text_in_a_pipe(self):
        rc, out, _ = t.run(["help", "probe"])
        self.assertNotIn("\x1b", out)
        self.assertNotIn("```", out)
        self.assertNotIn("|---", out)
        rc, out, _ = t.run(["help", "probe", "--color", "always"])
        self.assertTrue(out.startswith("\x1b[1mgrpcdx\x1b[0m \x1b[1mprobe\x1b[0m\n"), out[:100])
        self.assertIn("\x1b[36m--timeout\x1b[0m", out)

    def test_bad_uses(self):
        self.assert_fails(t.run(["help", "nosuch"]), 2, "nosuch")
        self.assert_fails(t.run(["help", "--man", "bench"]), 2, "--man prints the whole manual")
        self.assert_fails(t.run(["help", "bench", "extra"]), 2)

    def test_man_page_is_the_one_the_build_wrote(self):
        rc, out, err = t.run(["help", "--man"])
        self.assertEqual(rc, 0, err)
        path = built_man_page()
        self.assertTrue(os.path.exists(path), "the build did not write %s" % path)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), out)
        self.assertTrue(out.startswith(".TH GRPCDX 1 "))
        out.encode("ascii")  # non-ASCII is escaped as \[uXXXX]
        for name in commands():
            self.assertIn('\n.SH "GRPCDX %s"\n' % name.upper(), out)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION"):
            self.assertIn("\n.SH %s\n" % section, out)
        for section in ("GLOBAL OPTIONS", "TERMINAL BEHAVIOUR", "ENVIRONMENT", "EXIT STATUS", "SEE ALSO"):
            self.assertIn('\n.SH "%s"\n' % section, out)

    @t.unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_page_renders_without_warnings(self):
        _, page, _ = t.run(["help", "--man"])
        text, warnings = groff(page)
        self.assertEqual(warnings, "")
        self.assertIn("GRPCDX BENCH", text)
        if shutil.which("man"):
            proc = subprocess.run(["man", "--warnings", "-l", built_man_page()], capture_output=True,
                                  timeout=60, env=dict(os.environ, MANPAGER="cat", MANWIDTH="100"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stderr.decode(), "")

    @t.unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_sections_say_what_help_says(self):
        _, page, _ = t.run(["help", "--man"])
        text, _ = groff(page)
        # The man page's sections by title, as groff laid them out.
        sections = re.split(r"(?m)^(GRPCDX [A-Z]+|[A-Z][A-Z ]+)$", text)
        by_title = {sections[i]: sections[i + 1] for i in range(1, len(sections) - 1, 2)}
        for name in commands():
            with self.subTest(command=name):
                _, out, _ = t.run(["help", name], env={"COLUMNS": "200"})
                expected = words(out)[2:]  # without the "grpcdx NAME" title
                got = words(by_title["GRPCDX " + name.upper()])
                if name == "help":  # its own sections are the man page's general sections
                    got = words("\n".join(by_title[s] for s in ("GRPCDX HELP", "GLOBAL OPTIONS",
                                                                "TERMINAL BEHAVIOUR", "ENVIRONMENT", "EXIT STATUS")))
                    expected = [w for w in expected if w not in ("Global", "Terminal", "Environment", "Exit")]
                    got = [w for w in got if w not in ("Global", "Terminal", "Environment", "Exit")]
                self.assertEqual(normalise(got), normalise(expected))


def normalise(ws):
    """Words with the pieces the two renderers lay out differently taken out: headings that
    name a section, table labels, and bullets."""
    return [w for w in ws if w not in ("options", "behaviour", "status", "-", "")]


if __name__ == "__main__":
    t.main()
