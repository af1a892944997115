"""No spelling of a denied path gets through the engine.

Each example takes a path the policy must not allow — a credential to read, a file
outside the project or a guard file to write — spells it another way (``~``,
``$HOME``, ``./`` and ``x/..`` detours, doubled slashes, a symlink inside the project
that points out, a relative climb from the project) and hands it to the engine
through a file tool or a shell command with quoting tricks, wrappers and compounds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.engine_support import Sandbox, make_sandbox

from stockade.decision import Verdict

CAT_SPELLINGS = ['"c"at', "ca\\t", "'cat'", "\\cat", "/bin/cat", "c''at", "$'\\x63at'"]
WRAPPERS = ["", "sudo ", "env X=1 ", "timeout 5 ", "nohup ", "nice -n 5 ", "command "]
COMPOUNDS = ["", "ls && ", "true; ", "echo ok | ", "false || ", "(cd src) && "]


def spellings(box: Sandbox, target: Path) -> st.SearchStrategy[str]:
    """Other ways to write ``target`` (absolute) as an agent might."""
    home = str(box.user_home)
    text = str(target)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        form = draw(st.sampled_from(["abs", "tilde", "home", "braces", "relative", "link"]))
        if form == "tilde" and text.startswith(home):
            spelled = "~" + text[len(home) :]
        elif form == "home" and text.startswith(home):
            spelled = "$HOME" + text[len(home) :]
        elif form == "braces" and text.startswith(home):
            spelled = "${HOME}" + text[len(home) :]
        elif form == "relative":
            spelled = "../" * len(box.project.parts) + text.lstrip("/")
        elif form == "link" and text.startswith(home):
            spelled = "escape" + text[len(home) :]
        else:
            spelled = text
        head, _, tail = spelled.partition("/")
        parts = tail.split("/") if tail else []
        noisy: list[str] = []
        for part in parts:
            noisy.append(part)
            trick = draw(st.sampled_from(["", "", ".", "", "detour/..", ""]))
            if trick:
                noisy.append(trick)
        slash = draw(st.sampled_from(["/", "//"]))
        return head + slash + slash.join(noisy) if noisy else spelled

    return build()


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    sandbox = make_sandbox(tmp_path, monkeypatch)
    (sandbox.project / "escape").symlink_to(sandbox.user_home)
    (sandbox.user_home / ".ssh").mkdir()
    (sandbox.user_home / ".ssh" / "id_rsa").write_text("not a real key\n")
    return sandbox


SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_no_spelling_of_a_credential_read_is_allowed(box: Sandbox) -> None:
    @SETTINGS
    @given(
        path=spellings(box, box.user_home / ".ssh" / "id_rsa"),
        cat=st.sampled_from(CAT_SPELLINGS),
        wrapper=st.sampled_from(WRAPPERS),
        compound=st.sampled_from(COMPOUNDS),
    )
    def check(path: str, cat: str, wrapper: str, compound: str) -> None:
        read = box.decide("Read", {"file_path": path})
        assert read.verdict is not Verdict.ALLOW, (path, read)
        shell = box.bash(f"{compound}{wrapper}{cat} {path}")
        assert shell.verdict is not Verdict.ALLOW, (path, shell)

    check()


@pytest.mark.parametrize("target", ["outside.txt", ".bashrc", "proj/.claude/settings.json"])
def test_no_spelling_of_a_denied_write_is_allowed(box: Sandbox, target: str) -> None:
    @SETTINGS
    @given(
        path=spellings(box, box.user_home / target),
        wrapper=st.sampled_from(WRAPPERS),
        compound=st.sampled_from(COMPOUNDS),
        form=st.sampled_from(["echo x > {}", "tee {}", "cp src/app.py {}", "touch {}", "rm -f {}"]),
    )
    def check(path: str, wrapper: str, compound: str, form: str) -> None:
        write = box.decide("Write", {"file_path": path, "content": "x"})
        assert write.verdict is Verdict.DENY, (path, write)
        shell = box.bash(compound + wrapper + form.format(path))
        assert shell.verdict is Verdict.DENY, (path, shell)

    check()
