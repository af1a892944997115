"""Secrets become recognizable markers; ordinary code, hashes and ids stay untouched."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

import pytest

from stockade.redact import Redactor
from stockade.redact.logs import RedactingFilter
from stockade.redact.redactor import KEY_MEMO_SIZE

MARKER = re.compile(r"\[REDACTED:([a-z_-]+):([0-9a-f]{8})\]")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def marker(label: str, secret: str) -> str:
    return f"[REDACTED:{label}:{hashlib.sha256(secret.encode()).hexdigest()[:8]}]"


SECRETS = [
    # (text, secret that must vanish, label, what must survive)
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nok",
        "MIIEowIBAAKCAQEA",
        "private-key",
        "\nok",
    ),
    (
        '{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n-----END PRIVATE KEY-----\\n"}',
        "MIIEvQIBADAN",
        "private-key",
        '{"key": "',
    ),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt",
        "b3BlbnNzaC1rZXkt",
        "private-key",
        "",
    ),
    (
        "curl -H 'Authorization: Bearer abc.def-ghi_123' https://api",
        "abc.def-ghi_123",
        "authorization",
        "Authorization: Bearer ",
    ),
    ("authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "authorization", "Basic "),
    ("Cookie: session=abc123; theme=dark\nnext", "session=abc123", "cookie", "\nnext"),
    ("Set-Cookie: id=a3fWa; Expires=Wed", "id=a3fWa", "cookie", "Set-Cookie: "),
    ("OPENAI_API_KEY=abc123xyz npm test", "abc123xyz", "env-secret", " npm test"),
    ("export GITHUB_TOKEN=plainvalue", "plainvalue", "env-secret", "export GITHUB_TOKEN="),
    ("MY_SECRET_KEY='two words'", "two words", "env-secret", "MY_SECRET_KEY='"),
    ('DB_PASSWORD = "hunter2"', "hunter2", "env-secret", "DB_PASSWORD = "),
    ('{"API_KEY": "abc\\"def"}', 'abc\\"def', "json-secret", '{"API_KEY": "'),
    ('"x-api-key": "zzz-value"', "zzz-value", "json-secret", '"x-api-key"'),
    ("key sk-proj-" + "a1" * 20, "sk-proj-" + "a1" * 20, "openai-key", "key "),
    ("k=sk-ant-api03-" + "Z" * 30, "sk-ant-api03-" + "Z" * 30, "anthropic-key", "k="),
    ("ghp_" + "A1" * 18, "ghp_" + "A1" * 18, "github-token", ""),
    ("gho_" + "b" * 36 + " done", "gho_" + "b" * 36, "github-token", " done"),
    ("github_pat_" + "11ABC_" * 5, "github_pat_" + "11ABC_" * 5, "github-token", ""),
    ("id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws-access-key-id", "id "),
    ("ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "aws-access-key-id", ""),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws-secret-key",
        "aws_secret_access_key = ",
    ),
    ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij", "slack-token", ""),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
        "jwt ",
    ),
    ("https://x.io/v1?token=abc123&page=2", "abc123", "url-param", "&page=2"),
    ("https://x.io/?a=1&key=K3y", "K3y", "url-param", "?a=1&key="),
    ("https://x.io/cb?access_token=tok1#frag", "tok1", "url-param", "#frag"),
    ("https://x.io/?api_key=zz9", "zz9", "url-param", "?api_key="),
    ("postgres://app:hunter2@db:5432/app", "hunter2", "connection-password", "@db:5432/app"),
    ("redis://:s3cret@cache:6379", "s3cret", "connection-password", "redis://:"),
    ("Server=db;User Id=sa;Password=Secr3t;", "Secr3t", "connection-password", "User Id=sa;"),
]


@pytest.mark.parametrize(("text", "secret", "label", "kept"), SECRETS)
def test_secret_is_replaced(
    redactor: Redactor, text: str, secret: str, label: str, kept: str
) -> None:
    out = redactor.redact_text(text)
    assert secret not in out
    assert kept in out
    found = MARKER.findall(out)
    assert found and found[0][0] == label, out


def test_marker_is_hash_of_the_secret_only(redactor: Redactor) -> None:
    assert redactor.redact_text("PASSWORD=hunter2") == "PASSWORD=" + marker("env-secret", "hunter2")
    assert redactor.redact_text("a PASSWORD=x b PASSWORD=x").count(marker("env-secret", "x")) == 2


ORDINARY = [
    "token = get_token()\npassword = getpass()",
    "headers = {'Authorization': f'Bearer {token}'}",
    'headers["Authorization"] = "Bearer " + token',
    "API_TOKEN = os.environ['API_TOKEN']",
    "export API_TOKEN=$API_TOKEN; DB_PASSWORD=${DB_PASSWORD}",
    "MAX_TOKENS=4096 max_tokens: 100 tokenizer=bpe",
    "def connect(password: str, api_key: str | None = None) -> None: ...",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main)",
    "request-id 123e4567-e89b-12d3-a456-426614174000",
    '"integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7'
    'kxvUdBeoGlODJ6+SfaPg=="',
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "cargo build --target-dir task-runner-build-artifact-cache-v2 && disk-usage-reporter",
    "git clone git@github.com:org/repo.git https://github.com/org/repo",
    "http://localhost:8080/path@v2 and ssh://host:22",
    "if (!session.cookie) { return authorization.check(); }",
    '{"max_tokens": "100", "tokens": "5", "secretary": "bob"}',
    "AKIA is a prefix; ASIAN food; eyJ alone; xoxo-gossip; sk-learn",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_untouched(redactor: Redactor, text: str) -> None:
    assert redactor.redact_text(text) == text


def test_structured_values_redact_secret_keys_whatever_their_content(redactor: Redactor) -> None:
    value = {
        "password": "x",
        "GITHUB_TOKEN": 12345,
        "accessToken": "not-a-token-shape",
        "x-api-key": ["a", "b"],
        "client_secret": {"nested": True},
        "Set-Cookie": "id=1",
        "private_key": "k",
        "aws_access_key": "a",
        "authorization": "whatever",
        "token": None,
        "api_key": "",
        "max_tokens": 5,
        "tokenizer": "bpe",
        "command": "echo sk-ant-" + "a" * 24,
        "list": ("plain", "PASSWORD=p"),
    }
    out = redactor.redact(value)
    for key in ("password", "GITHUB_TOKEN", "accessToken", "x-api-key", "client_secret"):
        assert MARKER.fullmatch(out[key]), key
    for key in ("Set-Cookie", "private_key", "aws_access_key", "authorization"):
        assert MARKER.fullmatch(out[key]), key
    assert out["token"] is None and out["api_key"] == ""
    assert out["max_tokens"] == 5 and out["tokenizer"] == "bpe"
    assert "sk-ant-" not in out["command"]
    assert out["list"] == ["plain", "PASSWORD=" + marker("env-secret", "p")]
    assert value["password"] == "x"  # the input is not modified


def test_non_string_leaves_pass_through(redactor: Redactor) -> None:
    assert redactor.redact([1, 2.5, True, None]) == [1, 2.5, True, None]


def test_extra_patterns(redactor: Redactor) -> None:
    custom = Redactor([r"ACME-[0-9]{6}", r"internal_id=(?P<v>\w+)"])
    assert (
        custom.redact_text("ticket ACME-123456 ok")
        == f"ticket {marker('custom', 'ACME-123456')} ok"
    )
    assert custom.redact_text("internal_id=abc") == "internal_id=" + marker("custom", "abc")
    assert custom.redact_text("PASSWORD=p") == redactor.redact_text("PASSWORD=p")


@pytest.mark.parametrize("pattern", ["(", "x*"])
def test_bad_extra_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        Redactor([pattern])


def test_build_log_keeps_its_shape(redactor: Redactor) -> None:
    log = "\n".join(
        f"[{i:04d}] Compiling crate-{i} v0.{i}.0 ({i:040x}) in 0.{i}s" for i in range(500)
    )
    planted = log + "\nexport NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789\n" + log
    out = redactor.redact_text(planted)
    assert out == planted.replace(
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        marker("env-secret", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    )


VAULT = {"DB_PASSWORD": 'pa ss/wo+rd?&=%é\n"q', "GH": "ghX" + "k" * 30, "SHORT": "1234567"}


@pytest.fixture(scope="module")
def vaulted() -> Redactor:
    known = Redactor()
    known.set_known(VAULT)
    return known


def known_forms(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(b"x" + raw + b"tail").decode(),
        base64.b64encode(b"xy" + raw).decode(),
        raw.hex(),  # xxd -p, bytes.hex()
        raw.hex().upper(),
        _lower_escapes(value),
    ]


def _lower_escapes(value: str) -> str:
    """Percent-encoding with lower-case hex digits (``%2f``), as some encoders write it."""
    return re.sub(r"%[0-9A-F]{2}", lambda escape: escape.group().lower(), quote(value, safe=""))


@pytest.mark.parametrize("form", range(11))
def test_known_values_are_found_in_every_form(vaulted: Redactor, form: int) -> None:
    for name in ("DB_PASSWORD", "GH"):
        value = VAULT[name]
        text = f"before {known_forms(value)[form]} after"
        out = vaulted.redact_text(text)
        assert f"[REDACTED:secret:{name}:" in out, (name, out)
        assert marker(f"secret:{name}", value) in out  # one fingerprint for every form
        assert out.startswith("before ") and out.endswith(" after")


def test_known_values_short_ones_and_replacement(vaulted: Redactor) -> None:
    assert vaulted.known_count == 2  # SHORT is below the minimum length
    assert vaulted.redact_text("pin 1234567") == "pin 1234567"
    assert Redactor().redact_text(VAULT["GH"]) == VAULT["GH"]
    replaced = Redactor()
    replaced.set_known({"A": "alpha-value-1"})
    replaced.set_known({"B": "bravo-value-2"})
    assert replaced.redact_text("alpha-value-1 bravo-value-2").startswith("alpha-value-1 [RED")


def test_remembered_keys_are_forgotten_with_the_known_values() -> None:
    """Keys are redacted once and remembered; a value added later is still found in them,
    and one removed no longer is."""
    redactor = Redactor()
    key = "cache-alpha-value-1"
    assert redactor.redact({key: 1}) == {key: 1}
    redactor.set_known({"A": "alpha-value-1"})
    assert redactor.redact({key: 1}) == {f"cache-{marker('secret:A', 'alpha-value-1')}": 1}
    redactor.set_known({})
    assert redactor.redact({key: 1}) == {key: 1}


def test_a_flood_of_distinct_keys_is_redacted_past_the_memo_bound() -> None:
    redactor = Redactor()
    redactor.set_known({"A": "alpha-value-1"})
    keys = {f"k{i}": i for i in range(KEY_MEMO_SIZE + 10)}
    assert redactor.redact(keys) == keys
    late = {f"late-{i}-alpha-value-1": i for i in range(3)}
    assert all("alpha-value-1" not in key for key in redactor.redact(late))


def test_known_value_inside_a_pattern_keeps_its_name(vaulted: Redactor) -> None:
    out = vaulted.redact_text(f"export GITHUB_TOKEN={VAULT['GH']}; curl")
    assert out == f"export GITHUB_TOKEN={marker('secret:GH', VAULT['GH'])}; curl"
    assert vaulted.redact_text(out) == out  # redacting twice changes nothing
    named = marker("secret:GH", VAULT["GH"])
    keyed = vaulted.redact({"password": VAULT["GH"], "token": named, "secret": out})
    assert keyed == {"password": named, "token": named, "secret": marker("secret", out)}


def test_set_known_while_other_threads_redact() -> None:
    shared = Redactor()
    values = [f"value-number-{i:04d}" for i in range(50)]
    stop = threading.Event()

    def swap() -> None:
        for i in range(50):
            shared.set_known({f"V{j}": values[j] for j in range(i + 1)})
        stop.set()

    thread = threading.Thread(target=swap)
    thread.start()
    while not stop.is_set():
        out = shared.redact_text(values[0] + " " + values[-1])
        assert values[0] not in out or out == values[0] + " " + values[-1]
    thread.join()
    assert values[-1] not in shared.redact_text(values[-1])


def test_slack_app_tokens_and_webhooks() -> None:
    out = Redactor().redact_text(
        "xapp-1-A0123456789-0123456789012-abcdef https://hooks.slack.com/services/T0/B0/XyZ123456789abcdefgh"
    )
    assert "abcdef " not in out and "XyZ123" not in out and "hooks.slack.com/services/" in out


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("stockade.test.redact")
    filtered = RedactingFilter(Redactor().redact_text)
    handler = logging.StreamHandler(stream := io.StringIO())
    handler.addFilter(filtered)
    logger.addHandler(handler)
    try:
        logger.warning("sending %s", "Authorization: Bearer abc.def")
        try:
            raise ValueError("PASSWORD=hunter22")
        except ValueError:
            logger.exception("failed")
        logger.info("plain %d", 1)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "abc.def" not in text and "hunter22" not in text
    assert "Bearer [REDACTED:authorization:" in text and "ValueError" in text


def test_token_shapes_are_found_in_url_encoded_text(redactor: Redactor) -> None:
    tokens = ["ghp_" + "A1" * 18, "sk-ant-api03-" + "Z" * 30, "AKIAIOSFODNN7EXAMPLE"]
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAK\n-----END RSA PRIVATE KEY-----\n"
    text = "".join(f"key: {token}\n" for token in tokens) + pem
    for encode in (quote, quote_plus):
        out = redactor.redact_text(encode(text))
        assert not any(token in out for token in tokens) and "MIIEowIBAAK" not in out, out
        assert out.count("[REDACTED:") == 4


def test_known_value_in_line_wrapped_base64(vaulted: Redactor) -> None:
    value = VAULT["GH"]
    for prefix in (b"", b"x", b"xy", b"0" * 50):
        encoded = base64.b64encode(prefix + value.encode() + b"\n" * 40).decode()
        wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
        out = vaulted.redact_text(f"$ base64 file\n{wrapped}\n$ next")
        assert marker("secret:GH", value) in out and out.endswith("\n$ next"), out
    ordinary = "\n".join(hashlib.sha512(bytes([i])).hexdigest() for i in range(5))
    assert vaulted.redact_text(ordinary) == ordinary
