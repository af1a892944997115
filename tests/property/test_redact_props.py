"""The redactor masks every secret it should, wherever it sits, and leaves ordinary text be.

Two properties and one measurement: a random secret of each built-in family, embedded
in random text, never survives; a random known value (at least the minimum length)
survives in none of its forms (verbatim, percent-encoded, JSON-escaped, hex, base64 at any
alignment inside a longer blob); and on a corpus of ordinary text (this repository's
source, lock files full of integrity hashes, git SHAs, UUIDs) with 100 known values
loaded, the share of characters redacted stays under :data:`FALSE_POSITIVE_BOUND`. The
figure is printed (``pytest -s``) for the README.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.redact import MARKER, MIN_KNOWN_LENGTH, Redactor
from stockade.redact.known import forms

ROOT = Path(__file__).resolve().parents[2]
FALSE_POSITIVE_BOUND = 0.001  # redacted characters / all characters of the corpus

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
URLSAFE = ALNUM + "_-"


def chars(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=low, max_size=high)


# (strategy of the secret, how it is written in text): the secret part must vanish. Free-form
# secrets have 8 characters at least, so that they are not a part of the words around them.
FAMILIES: list[tuple[st.SearchStrategy[str], str]] = [
    (chars(ALNUM, 36, 60).map(lambda s: "ghp_" + s), "{}"),
    (chars(ALNUM, 36, 60).map(lambda s: "gho_" + s), "{}"),
    (chars(ALNUM + "_", 22, 80).map(lambda s: "github_pat_" + s), "{}"),
    (chars(URLSAFE, 20, 90).map(lambda s: "sk-ant-api03-" + s), "{}"),
    (chars(URLSAFE, 20, 60).map(lambda s: "sk-proj-" + s), "{}"),
    (chars(UPPER_DIGITS, 16, 16).map(lambda s: "AKIA" + s), "{}"),
    (chars(ALNUM + "/+", 40, 40), "aws_secret_access_key = {}"),
    (chars(ALNUM + "-", 10, 50).map(lambda s: "xoxb-" + s), "{}"),
    (
        st.tuples(chars(URLSAFE, 5, 40), chars(URLSAFE, 5, 40), chars(URLSAFE, 0, 43)).map(
            lambda p: f"eyJ{p[0]}.eyJ{p[1]}.{p[2]}"
        ),
        "{}",
    ),
    (chars(ALNUM + "._~+/-", 8, 60), "Authorization: Bearer {}"),
    (chars(ALNUM + "+/=", 8, 60), "Authorization: Basic {}"),
    (chars(ALNUM + "._-", 8, 60), "export GITHUB_TOKEN={}"),
    (chars(ALNUM + "._-", 8, 60), "OPENAI_API_KEY={}"),
    (chars(ALNUM + "._-", 8, 60), "MY_SECRET_THING={}"),
    (chars(ALNUM + "._-", 8, 60), "PASSWORD={}"),
    (chars(ALNUM + "._-", 8, 60), "https://api.example.com/v1?token={}&x=1"),
    (chars(ALNUM + "._-", 8, 60), "https://api.example.com/v1?a=b&key={}"),
    (chars(ALNUM + "._-!", 8, 40), "postgres://app:{}@db.internal:5432/app"),
    (chars(ALNUM + "=._-", 8, 40), "Cookie: session={}"),
]
# Random text around a secret: anything printable, kept apart by a space on each side.
FILLER = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_family_is_masked_in_random_text(data: st.DataObject) -> None:
    strategy, shape = data.draw(st.sampled_from(FAMILIES))
    secret = data.draw(strategy)
    before, after = data.draw(FILLER), data.draw(FILLER)
    text = f"{before}\n{shape.format(secret)} \n{after}"
    out = Redactor().redact_text(text)
    line = out.split("\n")[1]  # the filler holds no newline
    assert MARKER.search(line) and secret not in MARKER.sub("", line), (shape, out)


KNOWN = Redactor()


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(st.characters(exclude_categories=["Cs"]), min_size=MIN_KNOWN_LENGTH, max_size=48),
    name=st.text(ALNUM + "_", min_size=1, max_size=12),
    prefix=st.binary(max_size=7),
    before=FILLER,
)
def test_known_values_are_masked_in_every_form(
    value: str, name: str, prefix: bytes, before: str
) -> None:
    KNOWN.set_known({name: value})
    raw = value.encode("utf-8", "surrogatepass")
    blob = base64.b64encode(prefix + raw + b"\x00tail").decode()
    written = [
        value,
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        blob,
        blob.replace("+", "-").replace("/", "_"),
        raw.hex(),
        raw.hex().upper(),
    ]
    for form in written:
        out = KNOWN.redact_text(f"{before} {form} .")
        assert f"[REDACTED:secret:{name}:" in out, (form, out)
        rest = MARKER.sub("", out)  # the marker holds the name, which may look like anything
        assert value not in rest
        for core in forms(value):
            assert core not in rest, (form, core, out)


def corpus() -> str:
    """Ordinary text: this repository's source and docs, lock files, SHAs and UUIDs."""
    rng = random.Random(11)
    sources = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "docs").rglob("*.md"))
    parts = [path.read_text() for path in sources]
    for n in range(400):
        digest = hashlib.sha512(f"pkg-{n}".encode()).digest()
        parts.append(
            f'    "node_modules/pkg-{n}": {{\n      "version": "1.{n}.0",\n'
            f'      "resolved": "https://registry.npmjs.org/pkg-{n}/-/pkg-{n}-1.{n}.0.tgz",\n'
            f'      "integrity": "sha512-{base64.b64encode(digest).decode()}"\n    }},\n'
        )
        sha = hashlib.sha256(f"wheel-{n}".encode()).hexdigest()
        parts.append(
            f'[[package]]\nname = "pkg-{n}"\nversion = "0.{n}"\n'
            f'wheels = [{{ url = "https://files.pythonhosted.org/pkg_{n}.whl", '
            f'hash = "sha256:{sha}" }}]\n'
        )
        parts.append(f"commit {rng.getrandbits(160):040x} {uuid.UUID(int=rng.getrandbits(128))}\n")
    return "".join(parts)


def test_false_positive_rate_on_ordinary_text() -> None:
    redactor = Redactor()
    redactor.set_known({f"VALUE_{i}": secrets.token_urlsafe(24) for i in range(100)})
    text = corpus()
    out = redactor.redact_text(text)
    markers = MARKER.findall(out)
    kept = len(MARKER.sub("", out))
    rate = (len(text) - kept) / len(text)
    print(
        f"\nredaction false positives: {len(markers)} markers, {rate:.5%} of "
        f"{len(text):,} characters ({sorted(set(markers))})"
    )
    assert rate < FALSE_POSITIVE_BOUND
