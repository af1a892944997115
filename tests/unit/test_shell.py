"""The shell splitter: every program a command line would start, however it is hidden."""

from __future__ import annotations

import pytest

from stockade.policy.shell import SUBST, ParsedCommand, parse, reads_script_from_stdin

S = SUBST


def argvs(command: str) -> list[tuple[str, ...]]:
    parsed = parse(command)
    assert parsed.error is None, parsed.error
    return [c.argv for c in parsed.commands]


def nested(command: str) -> list[tuple[tuple[str, ...], int, str]]:
    parsed = parse(command)
    assert parsed.error is None, parsed.error
    return [(c.argv, c.depth, c.via) for c in parsed.commands]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo 'a b' \"c d\"", [("echo", "a b", "c d")]),
        ("ca\\t x", [("cat", "x")]),
        ('"c"at x', [("cat", "x")]),
        ("r''m -rf x", [("rm", "-rf", "x")]),
        ("\\rm x", [("rm", "x")]),
        ("/bin/rm x", [("/bin/rm", "x")]),
        ('echo "a\\"b" \'c\\d\'', [("echo", 'a"b', "c\\d")]),
        ('echo "\\$HOME \\x"', [("echo", "$HOME \\x")]),
        ("echo $'\\x41\\n\\101\\u00e9'", [("echo", "A\nAé")]),
        ("echo $'it\\'s' $'a\\0b' $'\\cA'", [("echo", "it's", "a", "\x01")]),
        ('echo $"hi there"', [("echo", "hi there")]),
        ('echo "$HOME/x" ${HOME} ~/y', [("echo", "$HOME/x", "${HOME}", "~/y")]),
        ("echo a\\\nb", [("echo", "ab")]),
        ("ls # rm -rf /", [("ls",)]),
        ("echo a#b '#c'", [("echo", "a#b", "#c")]),
        ("# only a comment", []),
        ("echo {a,b} x=1 a=b=c", [("echo", "{a,b}", "x=1", "a=b=c")]),
        ("echo $((1 + 2)) $#", [("echo", "$((1 + 2))", "$#")]),
    ],
)
def test_quotes_escapes_and_words(command: str, expected: list[tuple[str, ...]]) -> None:
    assert argvs(command) == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("a && b || c; d & e | f |& g\nh", [(x,) for x in "abcdefgh"]),
        ("a&&b||c;d", [(x,) for x in "abcd"]),
        ("(cd x && make) > log", [("cd", "x"), ("make",), ()]),
        ("{ ls; rm x; }", [("ls",), ("rm", "x")]),
        ("if true; then rm -rf /; elif a; then b; else c; fi", [("true",), ("rm", "-rf", "/"),
                                                                  ("a",), ("b",), ("c",)]),
        ("for f in a b; do rm $f; done", [("rm", "$f")]),
        ("while read l; do echo $l; done < in", [("read", "l"), ("echo", "$l"), ()]),
        ("until false; do :; done", [("false",), (":",)]),
        ("case $x in a) rm a;; (b|c) ls ;; *) pwd;; esac; echo", [("rm", "a"), ("ls",),
                                                                    ("pwd",), ("echo",)]),
        ("! grep x f", [("grep", "x", "f")]),
        ("f() { rm -rf /; }; f", [("rm", "-rf", "/"), ("f",)]),
        ("function g { ls; }; g", [("ls",), ("g",)]),
        ("function h() ( pwd )", [("pwd",)]),
        ("((i++)); ls", [("ls",)]),
        ("for ((i=0; i<3; i++)); do ls; done", [("ls",)]),
        ("[[ -f x ]] && rm x", [("[[", "-f", "x", "]]"), ("rm", "x")]),
        ("echo if then fi", [("echo", "if", "then", "fi")]),
        ("'if' x", [("if", "x")]),
    ],
)  # fmt: skip
def test_splitting_and_reserved_words(command: str, expected: list[tuple[str, ...]]) -> None:
    assert argvs(command) == expected


def test_pipeline_indices_and_positions() -> None:
    cmds = parse("a | b |& c; d && e | f").commands
    assert [c.position for c in cmds] == [0, 1, 2, 0, 0, 1]
    pipes = [c.pipeline for c in cmds]
    assert pipes[0] == pipes[1] == pipes[2] != pipes[3]
    assert pipes[3] != pipes[4] == pipes[5]


def test_fork_bomb_parses_into_self_calls() -> None:
    parsed = parse(":(){ :|:& };:")
    assert parsed.error is None
    assert [(c.argv, c.function) for c in parsed.commands] == [
        ((":",), ":"),
        ((":",), ":"),
        ((":",), ""),
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo $(whoami) `id`", [(("echo", S, S), 0, ""), (("whoami",), 1, "subst"),
                                  (("id",), 1, "subst")]),
        ('echo "a $(rm x) b"', [(("echo", f"a {S} b"), 0, ""), (("rm", "x"), 1, "subst")]),
        ("echo $(echo $(rm -rf /))", [(("echo", S), 0, ""), (("echo", S), 1, "subst"),
                                       (("rm", "-rf", "/"), 2, "subst")]),
        ("diff <(ls a) >(tee b)", [(("diff", S, S), 0, ""), (("ls", "a"), 1, "subst"),
                                    (("tee", "b"), 1, "sink")]),
        ("X=$(rm y) ls", [(("ls",), 0, ""), (("rm", "y"), 1, "subst")]),
        ("x=(a $(rm y) b)", [((), 0, ""), (("rm", "y"), 1, "subst")]),
        ("ls > $(rm y)", [(("ls",), 0, ""), (("rm", "y"), 1, "subst")]),
        ("echo ${x:-$(rm y)}", [(("echo", "${x:-$(rm y)}"), 0, ""), (("rm", "y"), 1, "subst")]),
        ("echo $(( $(rm y) + 1 ))", [(("echo", "$(( $(rm y) + 1 ))"), 0, ""),
                                      (("rm", "y"), 1, "subst")]),
        ("echo $( (cd x; ls) )", [(("echo", S), 0, ""), (("cd", "x"), 1, "subst"),
                                   (("ls",), 1, "subst")]),
        ("echo $(case x in a) ls;; esac)", [(("echo", S), 0, ""), (("ls",), 1, "subst")]),
        ("echo `echo \\`rm x\\``", [(("echo", S), 0, ""), (("echo", S), 1, "subst"),
                                    (("rm", "x"), 2, "subst")]),
        ("for f in $(ls); do :; done", [((":",), 0, ""), (("ls",), 1, "subst")]),
    ],
)  # fmt: skip
def test_substitutions(command: str, expected: list[tuple[tuple[str, ...], int, str]]) -> None:
    assert nested(command) == expected


@pytest.mark.parametrize(
    ("command", "dynamic"),
    [
        ("$CMD x", True),
        ("${CMD} x", True),
        ('"$CMD" x', True),
        ("$(which rm) x", True),
        ("`which rm` x", True),
        ("/usr/$BIN/rm x", True),
        ("rm $X", False),
        ("$'rm' x", False),
        ("~/bin/tool", False),
    ],
)
def test_dynamic_command_names(command: str, dynamic: bool) -> None:
    assert parse(command).commands[0].dynamic is dynamic


@pytest.mark.parametrize(
    ("command", "argv", "wrappers"),
    [
        ("sudo -u root -E rm x", ("rm", "x"), ("sudo",)),
        ("sudo --user=root -- rm x", ("rm", "x"), ("sudo",)),
        ("sudo HOME=/ rm x", ("rm", "x"), ("sudo",)),
        ("doas -u me rm x", ("rm", "x"), ("doas",)),
        ("pkexec rm x", ("rm", "x"), ("pkexec",)),
        ("env -i -u PATH FOO=1 rm x", ("rm", "x"), ("env",)),
        ("env -S 'rm -rf /'", ("rm", "-rf", "/"), ("env",)),
        ("env --split-string='FOO=1 rm x'", ("rm", "x"), ("env",)),
        ("nohup rm x", ("rm", "x"), ("nohup",)),
        ("timeout -s KILL 5 rm x", ("rm", "x"), ("timeout",)),
        ("timeout --kill-after=3 5s rm x", ("rm", "x"), ("timeout",)),
        ("nice -n 10 rm x", ("rm", "x"), ("nice",)),
        ("nice -10 rm x", ("rm", "x"), ("nice",)),
        ("ionice -c 3 rm x", ("rm", "x"), ("ionice",)),
        ("time -p rm x", ("rm", "x"), ("time",)),
        ("command rm x", ("rm", "x"), ("command",)),
        ("builtin echo x", ("echo", "x"), ("builtin",)),
        ("exec rm x", ("rm", "x"), ("exec",)),
        ("stdbuf -oL -e 0 rm x", ("rm", "x"), ("stdbuf",)),
        ("setsid -f rm x", ("rm", "x"), ("setsid",)),
        ("unbuffer rm x", ("rm", "x"), ("unbuffer",)),
        ("caffeinate -i -t 60 rm x", ("rm", "x"), ("caffeinate",)),
        ("strace -f -o log rm x", ("rm", "x"), ("strace",)),
        ("ltrace -e malloc rm x", ("rm", "x"), ("ltrace",)),
        ("torsocks curl x", ("curl", "x"), ("torsocks",)),
        ("proxychains4 -q -f conf curl x", ("curl", "x"), ("proxychains4",)),
        ("busybox rm x", ("rm", "x"), ("busybox",)),
        ("sudo env X=1 timeout 5 nohup rm x", ("rm", "x"), ("sudo", "env", "timeout", "nohup")),
        ("FOO=1 BAR='a b' rm x", ("rm", "x"), ()),
        ("command -v rm", ("command", "-v", "rm"), ()),
        ("sudo -i", ("sudo", "-i"), ()),
        ("env", ("env",), ()),
        ("chroot /mnt rm x", ("chroot", "/mnt", "rm", "x"), ()),
        ("timeout", ("timeout",), ()),
        ("timeout 5", ("timeout", "5"), ()),
        ("env -S", ("env", "-S"), ()),
    ],
)
def test_wrappers_are_stripped(
    command: str, argv: tuple[str, ...], wrappers: tuple[str, ...]
) -> None:
    cmd = parse(command).commands[0]
    assert (cmd.argv, cmd.wrappers) == (argv, wrappers)


@pytest.mark.parametrize(
    ("command", "inner", "via"),
    [
        ("bash -c 'rm x'", ("rm", "x"), "script"),
        ('sh -c "rm x"', ("rm", "x"), "script"),
        ("zsh -c 'rm x'", ("rm", "x"), "script"),
        ("dash -c 'rm x'", ("rm", "x"), "script"),
        ("ksh -c 'rm x'", ("rm", "x"), "script"),
        ("bash -lc 'rm x'", ("rm", "x"), "script"),
        ("bash -o pipefail -c 'rm x'", ("rm", "x"), "script"),
        ("/bin/bash --norc -c 'rm x' arg0", ("rm", "x"), "script"),
        ('eval "rm x"', ("rm", "x"), "script"),
        ("eval rm x", ("rm", "x"), "script"),
        ("su -c 'rm x' root", ("rm", "x"), "script"),
        ("su root --command='rm x'", ("rm", "x"), "script"),
        ("ssh -p 22 -i key user@host rm x", ("rm", "x"), "remote"),
        ("ssh host 'rm x'", ("rm", "x"), "remote"),
        ("watch -n 1 rm x", ("rm", "x"), "script"),
        ("find . -name '*.o' -exec rm {} \\;", ("rm", "{}"), "argv"),
        ("find . -execdir rm {} +", ("rm", "{}"), "argv"),
        ("find . -ok rm {} ';'", ("rm", "{}"), "argv"),
        ("ls | xargs -0 -n 1 rm -f", ("rm", "-f"), "argv"),
        ("xargs -I{} rm {}", ("rm", "{}"), "argv"),
        ("parallel -j 4 rm ::: a b", ("rm",), "script"),
        ("parallel ::: 'rm x'", ("rm", "x"), "script"),
        ("flock /tmp/l rm x", ("rm", "x"), "argv"),
        ("flock -w 5 /tmp/l -c 'rm x'", ("rm", "x"), "script"),
        ("script -q -c 'rm x' /dev/null", ("rm", "x"), "script"),
        ("trap 'rm x' EXIT", ("rm", "x"), "script"),
        ("uv run --with pytest pytest -q", ("pytest", "-q"), "argv"),
        ("poetry run pytest", ("pytest",), "argv"),
        ("bundle exec rake", ("rake",), "argv"),
        ("npm exec -- rm x", ("rm", "x"), "argv"),
        ("bash <<EOF\nrm x\nEOF", ("rm", "x"), "script"),
        ("bash -s <<< 'rm x'", ("rm", "x"), "script"),
        ("cat <<EOF | sh\nrm x\nEOF", ("rm", "x"), "script"),
        ("echo 'rm x' | sh", ("rm", "x"), "script"),
        ("printf 'ls\\nrm x\\n' | bash", ("rm", "x"), "script"),
        ("ssh host <<'EOF'\nrm x\nEOF", ("rm", "x"), "remote"),
    ],
)
def test_commands_that_run_commands(command: str, inner: tuple[str, ...], via: str) -> None:
    parsed = parse(command)
    assert parsed.error is None
    children = [c for c in parsed.commands if c.argv == inner]
    assert children, [c.argv for c in parsed.commands]
    child = children[0]
    assert (child.depth, child.via) == (parsed.commands[child.parent].depth + 1, via)


def test_children_point_at_their_parent() -> None:
    cmds = parse("sudo bash -c 'ls; eval \"rm x\"'").commands
    assert [(c.argv[0], c.depth, c.parent) for c in cmds] == [
        ("bash", 0, -1),
        ("ls", 1, 0),
        ("eval", 1, 0),
        ("rm", 2, 2),
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cat <<EOF\nrm -rf /\nEOF", [("cat",)]),
        ("cat <<-EOF\n\trm x\n\tEOF\nls", [("cat",), ("ls",)]),
        ("cat <<'EOF'\n$(rm x)\nEOF", [("cat",)]),
        ("cat <<EOF\n$(rm x)\nEOF", [("cat",), ("rm", "x")]),
        ("cat <<A; cat <<B\na\nA\nb\nB\nls", [("cat",), ("cat",), ("ls",)]),
        ("python3 <<EOF\nimport os\nEOF", [("python3",)]),
        ("cat <<EOF\nno end", [("cat",)]),
    ],
)
def test_heredoc_bodies_are_data(command: str, expected: list[tuple[str, ...]]) -> None:
    assert argvs(command) == expected


@pytest.mark.parametrize(
    ("command", "redirects"),
    [
        ("ls > out 2>&1", [(">", "out"), ("2>&", "1")]),
        ("ls 2>> err &> all &>>more >| f", [("2>>", "err"), ("&>", "all"), ("&>>", "more"),
                                           (">|", "f")]),
        ("cat < in <> rw", [("<", "in"), ("<>", "rw")]),
        ("cat <<< 'a word'", [("<<<", "a word")]),
        ("cat <<'EOF'\nx\nEOF", [("<<", "EOF")]),
        ("echo 2 > x", [(">", "x")]),
        ("> empty", [(">", "empty")]),
    ],
)  # fmt: skip
def test_redirects(command: str, redirects: list[tuple[str, str]]) -> None:
    cmd = parse(command).commands[0]
    assert [(r.op, r.target) for r in cmd.redirects] == redirects


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("echo 'abc", "unbalanced single quote at offset 5"),
        ('rm -rf / "abc', "unbalanced double quote at offset 9"),
        ("echo $(ls", "unterminated $( at offset 5"),
        ("echo `ls", "unbalanced backtick at offset 5"),
        ("echo ${x", "unterminated ${ at offset 5"),
        ("echo $'abc", "unbalanced $' quote at offset 5"),
        ("echo $(echo $(echo $(ls)))", "nesting deeper than 2 levels"),
        ("bash -c \"bash -c 'bash -c ls'\"", "nesting deeper than 2 levels"),
        ("ls\x00rm", "NUL byte at offset 2"),
        ("ls >", "redirection > without a target at offset 3"),
        ("ls )", "unmatched )"),
        ("(ls", "unclosed ( or {"),
        ("x" * 101, "command is longer than 100 characters"),
    ],
)
def test_bad_input_is_reported_not_raised(command: str, error: str) -> None:
    parsed = parse(command, max_depth=2, max_length=100)
    assert parsed.error is not None
    assert parsed.error.startswith(error)


def test_partial_parse_keeps_what_came_before_the_error() -> None:
    parsed = parse("ls && rm -rf / 'unterminated")
    assert parsed.error is not None
    assert ("rm", "-rf", "/", "unterminated") in [c.argv for c in parsed.commands]


def test_depth_limit_still_reports_outer_commands() -> None:
    parsed = parse("rm -rf / && " + "$(" * 20 + "ls" + ")" * 20)
    assert parsed.error is not None and "nesting" in parsed.error
    assert parsed.commands[0].argv == ("rm", "-rf", "/")


@pytest.mark.parametrize(
    "text",
    ["(" * 10_000, "$(" * 5_000, "'" * 10_001, "\\" * 10_000, "${" * 5_000, "((" * 5_000,
     "`" * 10_001, '"$(' * 3_000, "<<E\n" * 2_500, "a|" * 5_000, "{ " * 5_000, "$'" * 5_000,
     "x=(" * 3_000, "$((" * 3_000, "a " * 5_000, "a <>(1) b", ";c]2$\"$)\n9<!!a[=}\"><>(1(O"],
)  # fmt: skip
def test_large_pathological_input_is_handled(text: str) -> None:
    assert isinstance(parse(text), ParsedCommand)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("bash",), True),
        (("sh", "-s", "--", "x"), True),
        (("bash", "-"), True),
        (("bash", "-c", "ls"), False),
        (("bash", "script.sh"), False),
        (("python3",), False),
        ((), False),
    ],
)
def test_reads_script_from_stdin(argv: tuple[str, ...], expected: bool) -> None:
    assert reads_script_from_stdin(argv) is expected
