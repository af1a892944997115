"""Path resolution and location: spellings an agent might use to slip past a path rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stockade.policy.paths import (
    PathResolver,
    RealPathResolver,
    expand_home,
    is_within,
    protected_reason,
)

HOME = "/home/u"


@pytest.fixture
def root(tmp_path: Path) -> str:
    # tmp_path may itself sit behind a symlink (macOS /var -> /private/var).
    return os.path.realpath(tmp_path)


@pytest.fixture
def resolver(root: str) -> RealPathResolver:
    return RealPathResolver(home=os.path.join(root, "home"))


def test_real_resolver_satisfies_the_protocol(resolver: RealPathResolver) -> None:
    seam: PathResolver = resolver
    assert seam.resolve("/", "/") == "/"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("~", HOME),
        ("~/x", f"{HOME}/x"),
        ("$HOME", HOME),
        ("${HOME}", HOME),
        ("$HOME/.ssh/id_rsa", f"{HOME}/.ssh/id_rsa"),
        ("${HOME}/x", f"{HOME}/x"),
        ("$HOMEX/x", "$HOMEX/x"),
        ("~other/x", "~other/x"),
        ("x/~", "x/~"),
        ("/abs/$HOME", "/abs/$HOME"),
    ],
)
def test_expand_home(path: str, expected: str) -> None:
    assert expand_home(path, HOME) == expected


def test_expand_home_with_trailing_slash_home() -> None:
    assert expand_home("~/x", "/home/u/") == "/home/u/x"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../../etc/passwd", "/etc/passwd"),
        ("//etc//passwd", "/etc/passwd"),
        ("/proj/./a/../../etc", "/etc"),
        ("a/./b//c/../d", "{cwd}/a/b/d"),
        ("/../../..", "/"),
    ],
)
def test_lexical_spellings_collapse(resolver: RealPathResolver, path: str, expected: str) -> None:
    cwd = "/nonexistent-stockade/proj"
    assert resolver.resolve(path, cwd) == expected.format(cwd=cwd)


@pytest.mark.parametrize("spelling", ["~", "$HOME", "${HOME}"])
def test_home_spellings(resolver: RealPathResolver, root: str, spelling: str) -> None:
    home = os.path.join(root, "home")
    assert resolver.resolve(spelling, "/") == home
    assert resolver.resolve(f"{spelling}/.ssh/id_rsa", "/") == f"{home}/.ssh/id_rsa"


def test_other_users_home_uses_the_password_database(resolver: RealPathResolver) -> None:
    expected = os.path.realpath(os.path.expanduser("~root/x"))
    assert resolver.resolve("~root/x", "/tmp") == expected


def test_unknown_user_tilde_is_a_relative_name(resolver: RealPathResolver) -> None:
    cwd = "/nonexistent-stockade"
    name = "~no-such-user-stockade/x"
    assert resolver.resolve(name, cwd) == f"{cwd}/{name}"


def test_symlink_inside_project_pointing_out(resolver: RealPathResolver, root: str) -> None:
    project = Path(root, "proj")
    project.mkdir()
    outside = Path(root, "secret.txt")
    outside.write_text("x")
    os.symlink(outside, project / "link.txt")
    resolved = resolver.resolve("link.txt", str(project))
    assert resolved == str(outside)
    assert not is_within(resolved, str(project))


def test_symlinked_parent_directory(resolver: RealPathResolver, root: str) -> None:
    project = Path(root, "proj")
    project.mkdir()
    elsewhere = Path(root, "elsewhere")
    elsewhere.mkdir()
    os.symlink(elsewhere, project / "dir")
    assert resolver.resolve("dir/new-file", str(project)) == f"{elsewhere}/new-file"


def test_dangling_symlink_resolves_to_its_target(resolver: RealPathResolver, root: str) -> None:
    os.symlink(os.path.join(root, "missing", "target"), os.path.join(root, "dangling"))
    assert resolver.resolve("dangling", root) == os.path.join(root, "missing", "target")


@pytest.mark.timeout(5)
def test_symlink_loop_terminates(resolver: RealPathResolver, root: str) -> None:
    os.symlink(os.path.join(root, "b"), os.path.join(root, "a"))
    os.symlink(os.path.join(root, "a"), os.path.join(root, "b"))
    resolved = resolver.resolve("a/x", root)
    assert is_within(resolved, root)


def test_nonexistent_tail_is_kept_lexically(resolver: RealPathResolver, root: str) -> None:
    assert resolver.resolve("new/dir/../file", root) == f"{root}/new/file"


@pytest.mark.parametrize(
    ("path", "cwd"),
    [
        ("a\0b", "/"),
        ("/etc/passwd\0.txt", "/"),
        ("x", "/tmp\0"),
        ("", "/"),
        ("x", "relative/cwd"),
    ],
)
def test_unsafe_input_raises(resolver: RealPathResolver, path: str, cwd: str) -> None:
    with pytest.raises(ValueError, match=r"NUL|empty|absolute"):
        resolver.resolve(path, cwd)


def test_relative_home_is_rejected() -> None:
    with pytest.raises(ValueError, match="absolute"):
        RealPathResolver(home="home/u")


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("/a/b", "/a/b", True),
        ("/a/b/c", "/a/b", True),
        ("/a/bc", "/a/b", False),
        ("/a", "/a/b", False),
        ("/a/b/", "/a/b", True),
        ("/a/b", "/a/b/", True),
        ("/a/b/c", "/a/b/", True),
        ("/anything", "/", True),
        ("/", "/", True),
        ("/", "/a", False),
    ],
)
def test_is_within(path: str, root: str, expected: bool) -> None:
    assert is_within(path, root) is expected


def test_is_within_refuses_relative_paths() -> None:
    with pytest.raises(ValueError, match="absolute"):
        is_within("a/b", "/a")


STOCKADE_HOME = "/home/u/.local/share/stockade"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/proj/.claude/settings.json", ".claude"),
        ("/home/u/.claude/settings.json", ".claude"),
        ("/proj/.claude", ".claude"),
        ("/home/u/.codex/config.toml", ".codex"),
        ("/proj/.gemini/settings.json", ".gemini"),
        ("/proj/.CLAUDE/settings.json", ".claude"),
        ("/home/u/.claude.json", ".claude.json"),
        (STOCKADE_HOME, "Stockade home"),
        (f"{STOCKADE_HOME}/policy.toml", "Stockade home"),
        ("/proj/.stockade.toml", ".stockade.toml"),
        ("/proj/sub/.stockadeignore", ".stockadeignore"),
        ("/home/u/.config/stockade/config.toml", "Stockade configuration"),
        ("/home/u/.bashrc", ".bashrc"),
        ("/home/u/.zshrc", ".zshrc"),
        ("/home/u/.zshenv", ".zshenv"),
        ("/home/u/.profile", ".profile"),
        ("/home/u/.bash_profile", ".bash_profile"),
        ("/home/u/.zprofile", ".zprofile"),
        ("/proj/.git/hooks/pre-commit", "git hooks"),
        ("/proj/.git/hooks", "git hooks"),
        ("/proj/vendor/lib/.git/hooks/post-checkout", "git hooks"),
        ("/proj/.git/config", "git config"),
    ],
)
def test_protected(path: str, fragment: str) -> None:
    reason = protected_reason(path, home=HOME, stockade_home=STOCKADE_HOME)
    assert reason is not None
    assert fragment in reason


@pytest.mark.parametrize(
    "path",
    [
        "/proj/claude/x",
        "/proj/.claudeignore",
        "/proj/.claude-notes/x",
        "/proj/CLAUDE.md",
        "/proj/stockade.toml",
        "/proj/.bashrc",
        "/home/u/.bashrc.d/x",
        "/home/u/projects/.zshrc-theme",
        "/home/u/.config/stockade-other/x",
        "/home/u/.local/share/stockade2/x",
        "/proj/.git/HEAD",
        "/proj/.git/config.d/x",
        "/proj/hooks/pre-commit",
        "/proj/git/hooks/x",
        "/proj/src/main.py",
    ],
)
def test_not_protected(path: str) -> None:
    assert protected_reason(path, home=HOME, stockade_home=STOCKADE_HOME) is None
