"""Properties: no spelling of a credential path escapes the matcher; symlink chains resolve."""

from __future__ import annotations

import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.policy.credentials import DEFAULT_CREDENTIAL_PATTERNS, CredentialMatcher
from stockade.policy.paths import RealPathResolver, is_within

MATCHER = CredentialMatcher.compile(DEFAULT_CREDENTIAL_PATTERNS)
HOME = "/nonexistent-stockade-home/u"
CWD = "/nonexistent-stockade-proj/app"
RESOLVER = RealPathResolver(home=HOME)

CREDENTIALS = [
    ".ssh/id_rsa",
    ".aws/credentials",
    ".env",
    "certs/server.pem",
    ".config/gcloud/adc.json",
    "deploy/.kube/config",
    "a/b/secrets.yaml",
]

# What may be inserted before a component without changing where the path leads.
NOISE = st.sampled_from(["", "./", "/", "junk/../", "a/b/../../", ".//", "x/./../"])


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a traversal spelling of a credential path, the path it resolves to)."""
    relative = draw(st.sampled_from(CREDENTIALS))
    base, canonical_base = draw(
        st.sampled_from(
            [
                ("~/", HOME),
                ("$HOME/", HOME),
                ("${HOME}/", HOME),
                ("./", CWD),
                ("../app/", CWD),
                (CWD + "/", CWD),
            ]
        )
    )
    parts = [draw(NOISE) + part for part in relative.split("/")]
    return base + "/".join(parts) + draw(
        st.sampled_from(["", "/."])
    ), f"{canonical_base}/{relative}"


@settings(deadline=None)
@given(spellings())
def test_traversal_spellings_still_match(spelled: tuple[str, str]) -> None:
    spelling, canonical = spelled
    resolved = RESOLVER.resolve(spelling, CWD)
    assert resolved == canonical
    assert MATCHER.match(resolved) is not None


@settings(deadline=None, max_examples=50)
@given(
    hops=st.lists(
        st.tuples(st.booleans(), st.sampled_from(["", "d1", "d1/d2", "d3"])), min_size=1, max_size=8
    ),
    via_dir_link=st.booleans(),
)
def test_symlink_chains_resolve_to_the_target(
    hops: list[tuple[bool, str]], via_dir_link: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = os.path.realpath(scratch)
        target = os.path.join(root, "real", "target.txt")
        os.makedirs(os.path.dirname(target))
        with open(target, "w") as handle:
            handle.write("x")
        previous = target
        for index, (relative, subdir) in enumerate(hops):
            folder = os.path.join(root, subdir)
            os.makedirs(folder, exist_ok=True)
            link = os.path.join(folder, f"link{index}")
            os.symlink(os.path.relpath(previous, folder) if relative else previous, link)
            previous = link
        spelled = os.path.relpath(previous, root)
        if via_dir_link:
            # A symlinked parent directory on top of the chain.
            os.symlink(os.path.dirname(previous), os.path.join(root, "alias"))
            spelled = os.path.join("alias", os.path.basename(previous))
        resolved = RESOLVER.resolve(spelled, root)
        assert resolved == target
        assert is_within(resolved, root)


GLOB_PART = st.sampled_from(["a", "b", "*", "**", "a*", "*.k", ".e", "?b", "[ab]c", "A"])
PATH_PART = st.sampled_from(["a", "b", "c.k", ".e", "ab", "bc", "x", "B"])


@st.composite
def globs(draw: st.DrawFn) -> str:
    pattern = "/".join(draw(st.lists(GLOB_PART, min_size=1, max_size=3)))
    return draw(st.sampled_from(["", "!"])) + pattern + draw(st.sampled_from(["", "/"]))


def _alone(glob: str) -> CredentialMatcher | None:
    try:
        return CredentialMatcher.compile([glob])
    except ValueError:
        return None


@settings(deadline=None)
@given(st.lists(globs(), min_size=1, max_size=80), st.lists(PATH_PART, min_size=1, max_size=5))
def test_combined_matcher_agrees_with_patterns_one_by_one(
    patterns: list[str], parts: list[str]
) -> None:
    """The factored, grouped regex decides exactly as gitignore's last-match-wins would."""
    singles = [(glob, _alone(glob.removeprefix("!"))) for glob in patterns]
    usable = [(glob, single) for glob, single in singles if single is not None]
    path = "/" + "/".join(parts)
    expected = None
    for glob, single in reversed(usable):
        if single.match(path) is not None:
            expected = None if glob.startswith("!") else glob
            break
    matcher = CredentialMatcher.compile([glob for glob, _ in usable])
    assert matcher.match(path) == expected
