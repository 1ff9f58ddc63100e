# End-to-end tests of `grpcdx completion`: the output equals the checked-in scripts byte for
# byte, the scripts load in their shells, and they complete the real commands and flags.
import os
import re
import shutil
import subprocess

import grpcdx_test as t

SCRIPTS = {
    "bash": os.path.join(t.REPO, "completions", "grpcdx.bash"),
    "zsh": os.path.join(t.REPO, "completions", "grpcdx.zsh"),
    "fish": os.path.join(t.REPO, "completions", "grpcdx.fish"),
}


def bash_complete(line):
    """The completions bash offers for `line` (the last word is the one being completed)."""
    # Split as bash does with its default COMP_WORDBREAKS: '=' is a word of its own.
    words = line.replace("=", " = ").split(" ")
    script = (
        'source "$1" || exit 3\n'
        'shift\n'
        'COMP_WORDS=("$@")\n'
        'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
        'COMP_LINE="${COMP_WORDS[*]}"\n'
        'COMP_POINT=${#COMP_LINE}\n'
        '_grpcdx grpcdx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash",
                           SCRIPTS["bash"]] + words, capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        raise AssertionError("bash completion failed: %s" % proc.stderr)
    return [w for w in proc.stdout.split("\n") if w]


class Completion(t.TestCase):
    def test_output_matches_checked_in_files(self):
        for shell, path in SCRIPTS.items():
            with self.subTest(shell):
                proc = subprocess.run([t.binary(), "completion", shell], capture_output=True,
                                      timeout=30)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                with open(path, "rb") as f:
                    expected = f.read()
                self.assertEqual(proc.stdout, expected,
                                 "%s is stale: regenerate it with `grpcdx completion %s > %s`"
                                 % (os.path.relpath(path, t.REPO), shell,
                                    os.path.relpath(path, t.REPO)))

    def test_unknown_shell_is_a_usage_error(self):
        self.assert_fails(t.run(["completion", "powershell"]), 2, "powershell")
        self.assert_fails(t.run(["completion"]), 2)

    def test_bash_sources(self):
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                               'source "$1" && complete -p grpcdx', "bash", SCRIPTS["bash"]],
                              capture_output=True, text=True, timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), "complete -F _grpcdx grpcdx")
        self.assertEqual(proc.stderr, "")

    def test_bash_completes_commands_and_flags(self):
        self.assertEqual(bash_complete("grpcdx comp"), ["compat", "completion"])
        self.assertEqual(bash_complete("grpcdx compat --server-"), ["--server-protoset"])
        self.assertIn("call", bash_complete("grpcdx "))
        got = bash_complete("grpcdx call --pro")
        self.assertTrue({"--proto", "--protoset"} <= set(got), got)
        self.assertTrue(all(w.startswith("--pro") for w in got), got)
        self.assertEqual(sorted(bash_complete("grpcdx list -o ")), ["json", "text"])
        self.assertEqual(sorted(bash_complete("grpcdx list --output=")), ["json", "text"])
        self.assertEqual(sorted(bash_complete("grpcdx list --output=j")), ["json"])
        self.assertEqual(sorted(bash_complete("grpcdx completion ")), ["bash", "fish", "zsh"])
        self.assertEqual(bash_complete("grpcdx list --timeout "), [])

    def test_bash_completes_file_arguments(self):
        d = os.path.join(t.tmpdir(), "completion-files")
        os.makedirs(d, exist_ok=True)
        for name in ("schema.proto", "schema.protoset"):
            open(os.path.join(d, name), "w").close()
        self.assertEqual(sorted(bash_complete("grpcdx list --proto %s/schema.p" % d)),
                         [d + "/schema.proto", d + "/schema.protoset"])
        self.assertEqual(bash_complete("grpcdx list --cacert %s/schema.protos" % d),
                         [d + "/schema.protoset"])
        self.assertEqual(bash_complete("grpcdx list -I %s/completion-fi" % t.tmpdir()), [d])
        if "-d" in bash_complete("grpcdx call -"):
            self.assertEqual(sorted(bash_complete("grpcdx call -d @%s/schema.p" % d)),
                             ["@" + d + "/schema.proto", "@" + d + "/schema.protoset"])

    def test_every_flag_of_every_command_is_completed(self):
        """The scripts come from the CLI definition: each flag in `--help` is in each script."""
        rc, out, err = t.run(["--help"])
        self.assertEqual(rc, 0, err)
        commands = re.findall(r"(?m)^  ([a-z][a-z0-9-]*)\s", out.split("Subcommands:")[-1])
        self.assertIn("call", commands)
        self.assertIn("completion", commands)
        scripts = {}
        for shell, path in SCRIPTS.items():
            with open(path) as f:
                scripts[shell] = f.read()
        for command in commands:
            rc, help_text, err = t.run([command, "--help"])
            self.assertEqual(rc, 0, err)
            # The names in the first column of the option lines ("  -H,--header TEXT ...").
            flags = set()
            for first in re.findall(r"(?m)^  +(-[^\s]+)", help_text):
                flags.update(re.findall(r"--[a-z][a-z0-9-]*", first))
            self.assertIn("--help", flags)
            completed = bash_complete("grpcdx %s --" % command)
            for flag in flags:
                with self.subTest(command=command, flag=flag):
                    self.assertIn(flag, completed)
                    self.assertIn(flag[2:], scripts["fish"])
                    self.assertIn(flag, scripts["zsh"])
            for shell in ("bash", "zsh", "fish"):
                self.assertIn(command, scripts[shell])

    def test_zsh_syntax(self):
        if not shutil.which("zsh"):
            self.skipTest("zsh is not installed (scripts/install-deps installs it)")
        proc = subprocess.run(["zsh", "-n", SCRIPTS["zsh"]], capture_output=True, text=True,
                              timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Loading it for real defines the completion function.
        script = ('autoload -Uz compinit && compinit -u -D && fpath=("$1" $fpath) && '
                  'source "$2" 2>/dev/null; whence -w _grpcdx _grpcdx_call')
        proc = subprocess.run(["zsh", "-f", "-c", script, "zsh",
                               os.path.dirname(SCRIPTS["zsh"]), SCRIPTS["zsh"]],
                              capture_output=True, text=True, timeout=20,
                              env=dict(os.environ, HOME=t.tmpdir()))
        self.assertIn("_grpcdx: function", proc.stdout, proc.stderr)
        self.assertIn("_grpcdx_call: function", proc.stdout, proc.stderr)

    def test_fish_completes(self):
        if not shutil.which("fish"):
            self.skipTest("fish is not installed (scripts/install-deps installs it)")
        proc = subprocess.run(["fish", "--no-execute", SCRIPTS["fish"]], capture_output=True,
                              text=True, timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        env = dict(os.environ, HOME=t.tmpdir(), XDG_CONFIG_HOME=t.tmpdir(),
                   XDG_DATA_HOME=t.tmpdir())

        def fish_complete(line):
            proc = subprocess.run(["fish", "--no-config", "-c",
                                   'source $argv[1]; complete -C $argv[2]',
                                   SCRIPTS["fish"], line], capture_output=True, text=True,
                                  timeout=20, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return [l.split("\t")[0] for l in proc.stdout.splitlines()]

        self.assertIn("completion", fish_complete("grpcdx comp"))
        self.assertEqual(sorted(fish_complete("grpcdx list -o ")), ["json", "text"])
        self.assertIn("--plaintext", fish_complete("grpcdx call --pl"))
        self.assertEqual(sorted(fish_complete("grpcdx completion ")), ["bash", "fish", "zsh"])


if __name__ == "__main__":
    t.main()
