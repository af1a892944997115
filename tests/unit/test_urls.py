"""The URL guard against the spellings used for SSRF and exfiltration."""

from __future__ import annotations

import pytest

from stockade.decision import Verdict
from stockade.policy.urls import MAX_URL_LENGTH, UrlPolicy

POLICY = UrlPolicy.compile(
    allow_domains=["github.com", "*.pypi.org", "bücher.de", "localhost", "[::1]", "203.0.113.9"],
    deny_domains=["evil.com", "*.evil.com", "*.github.com", "8.8.4.4"],
)
OPEN = UrlPolicy.compile()


def verdict(url: str, policy: UrlPolicy = POLICY) -> tuple[Verdict, str, str | None]:
    finding = policy.check(url)
    return finding.verdict, finding.rule_id, finding.host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/x", "example.com"),
        ("example.com/x", "example.com"),
        ("//example.com/x", "example.com"),
        ("example.com:8443/x", "example.com"),
        ("HTTPS://Example.COM./x", "example.com"),
        ("https://example.com:443", "example.com"),
        ("https://例え.jp/", "xn--r8jz45g.jp"),
        ("https://8.8.8.8/", "8.8.8.8"),
        ("https://[2606:4700::1111]/", "2606:4700::1111"),
        (" https://example.com/a b \n", "example.com"),
    ],
)
def test_unlisted_hosts_get_no_objection(url: str, host: str) -> None:
    assert verdict(url) == (Verdict.ALLOW, "url.ok", host)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://github.com/org/repo", "github.com"),
        ("https://files.pypi.org/simple", "files.pypi.org"),
        ("https://a.b.pypi.org/", "a.b.pypi.org"),
        ("https://BÜCHER.de/", "xn--bcher-kva.de"),
        ("https://xn--bcher-kva.de/", "xn--bcher-kva.de"),
        ("https://localhost:3000/", "localhost"),
        ("https://[::1]:8080/", "::1"),
        ("https://203.0.113.9/", "203.0.113.9"),
    ],
)
def test_allow_list(url: str, host: str) -> None:
    assert verdict(url) == (Verdict.ALLOW, "url.allow-domain", host)


def test_exact_entry_does_not_cover_subdomains_and_star_does_not_cover_apex() -> None:
    assert verdict("https://api.github.com/")[:2] == (Verdict.DENY, "url.deny-domain")
    assert verdict("https://pypi.org/")[1] == "url.ok"
    assert verdict("https://notgithub.com/")[1] == "url.ok"
    assert verdict("https://github.com.evil.com/")[1] == "url.deny-domain"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "https://x.y.evil.com/",
        "https://EVIL.com./",
        "https://%65vil.com/",
        "https://ｅｖｉｌ.com/",
        "https://good.com@evil.com/",
        "https://8.8.4.4/",
        "https://0x08.0x08.0x04.0x04/",
    ],
)
def test_deny_list(url: str) -> None:
    assert verdict(url)[:2] == (Verdict.DENY, "url.deny-domain")


def test_deny_wins_over_allow() -> None:
    policy = UrlPolicy.compile(allow_domains=["*.example.com"], deny_domains=["bad.example.com"])
    assert verdict("https://bad.example.com/", policy)[1] == "url.deny-domain"
    assert verdict("https://ok.example.com/", policy)[1] == "url.allow-domain"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://example.com:70/",
        "data:text/html,<script>",
        "javascript:alert(1)",
        "ws://example.com/",
        "mailto:a@example.com",
    ],
)
def test_only_https_by_default(url: str) -> None:
    assert verdict(url)[:2] == (Verdict.DENY, "url.scheme")


def test_http_when_allowed_is_judged_like_https() -> None:
    policy = UrlPolicy.compile(allow_http=True, deny_domains=["evil.com"])
    assert verdict("http://example.com/", policy) == (Verdict.ALLOW, "url.ok", "example.com")
    assert verdict("http://evil.com/", policy)[1] == "url.deny-domain"
    assert verdict("http://2130706433/", policy)[1] == "url.private-address"
    assert verdict("file:///etc/passwd", policy)[1] == "url.scheme"


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@example.com/",
        "https://token@github.com/",
        "https://@example.com/",
        "https://github.com@example.com/",
    ],
)
def test_userinfo_asks(url: str) -> None:
    finding = POLICY.check(url)
    assert (finding.verdict, finding.rule_id) == (Verdict.ASK, "url.credentials-in-url")
    assert "pass" not in finding.reason and "token" not in finding.reason


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://127.0.0.1/", "127.0.0.1"),
        ("https://2130706433/", "127.0.0.1"),
        ("https://0x7f.1/", "127.0.0.1"),
        ("https://0x7f000001/", "127.0.0.1"),
        ("https://0177.0.0.1/", "127.0.0.1"),
        ("https://127.1/", "127.0.0.1"),
        ("https://10.0.0.1/", "10.0.0.1"),
        ("https://172.16.5.4/", "172.16.5.4"),
        ("https://192.168.1.1./", "192.168.1.1"),
        ("https://169.254.1.1/", "169.254.1.1"),
        ("https://100.64.0.1/", "100.64.0.1"),
        ("https://0.0.0.0/", "0.0.0.0"),  # noqa: S104 - a URL host, not a bind
        ("https://224.0.0.1/", "224.0.0.1"),
        ("https://[::1]:9/", "::1"),
        ("https://[fc00::1]/", "fc00::1"),
        ("https://[fe80::1]/", "fe80::1"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
        ("https://[::ffff:10.0.0.1]/", "::ffff:a00:1"),
        ("https://[64:ff9b::10.0.0.1]/", "64:ff9b::a00:1"),
        ("https://[2002:c0a8:0101::1]/", "2002:c0a8:101::1"),
        ("https://foo.localhost/", "foo.localhost"),
        ("https://printer.local/", "printer.local"),
        ("https://db.corp.internal/", "db.corp.internal"),
        ("https://nas.home.arpa/", "nas.home.arpa"),
    ],
)
def test_private_addresses_ask(url: str, host: str) -> None:
    assert verdict(url, OPEN) == (Verdict.ASK, "url.private-address", host)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://2852039166/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://0251.0376.0251.0376/",
        "https://169.254.43518/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://METADATA.google.internal./",
        "https://metadata/",
        "https://100.100.100.200/",
        "https://169.254.170.2/v2/credentials",
    ],
)
def test_cloud_metadata_is_denied(url: str) -> None:
    assert verdict(url)[:2] == (Verdict.DENY, "url.metadata")


def test_allow_list_never_opens_metadata() -> None:
    policy = UrlPolicy.compile(allow_domains=["169.254.169.254", "metadata.google.internal"])
    assert verdict("https://169.254.169.254/", policy)[1] == "url.metadata"
    assert verdict("https://metadata.google.internal/", policy)[1] == "url.metadata"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://",
        "https:///evil.com/",
        "https:/evil.com/",
        "https:evil.com",
        "https://evil.com\\@good.com/",
        "https://good.com\\evil.com/",
        "https://exa\tmple.com/",
        "https://example.com/\x00",
        "https://example.com\r\nHost: evil.com/",
        "https://exa mple.com/",
        "https://a..b/",
        "https://example.com../",
        "https://ex!ample.com/",
        "https://example.com:99999/",
        "https://example.com:8o/",
        "https://example.com:1:2/",
        "https://1.2.3.256/",
        "https://1.2.3.4.5/",
        "https://0x1g.0.0.1/",
        "https://09.0.0.1/",
        "https://example.123/",
        "https://[::1/",
        "https://[::1]x/",
        "https://[fe80::1%25eth0]/",
        "https://[not-ip]/",
        "https://good.com%40evil.com/",
        "https://%ff.com/",
        "https://" + "a" * 64 + ".com/",
        "https://example.com/" + "a" * MAX_URL_LENGTH,
    ],
)
def test_malformed_urls_are_denied(url: str) -> None:
    assert verdict(url) == (Verdict.DENY, "url.invalid", None)


def test_domain_allowed() -> None:
    assert POLICY.domain_allowed("github.com")
    assert POLICY.domain_allowed("GitHub.com.")
    assert POLICY.domain_allowed("files.pypi.org")
    assert POLICY.domain_allowed("bücher.de")
    assert POLICY.domain_allowed("::1")
    assert POLICY.domain_allowed("[::1]")
    assert not POLICY.domain_allowed("pypi.org")
    assert not POLICY.domain_allowed("example.com")
    assert not POLICY.domain_allowed("a..b")


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "*",
        "*.",
        ".example.com",
        "ex*ample.com",
        "**.example.com",
        "https://example.com",
        "*.1.2.3.4",
    ],
)
def test_bad_domain_entries_are_named(entry: str) -> None:
    with pytest.raises(ValueError, match="allow_domains") as caught:
        UrlPolicy.compile(allow_domains=["ok.com", entry])
    assert repr(entry) in str(caught.value)


def test_ten_thousand_domains() -> None:
    domains = [f"host{index}.example{index % 97}.com" for index in range(10_000)]
    policy = UrlPolicy.compile(
        allow_domains=[*domains, "*.wild.org"],
        deny_domains=[f"*.bad{i}.net" for i in range(10_000)],
    )
    assert verdict("https://host9999.example8.com/", policy)[1] == "url.allow-domain"
    assert verdict("https://a.b.c.bad9999.net/", policy)[1] == "url.deny-domain"
    assert verdict("https://deep.sub.wild.org/", policy)[1] == "url.allow-domain"
    assert verdict("https://nothing.example.com/", policy)[1] == "url.ok"
