"""The URL guard: where an agent may send a request, decided on the host it really reaches.

Exfiltration and server-side request forgery hide in spelling: ``https://good.com@evil.com``
goes to evil.com, ``http://2130706433/`` is 127.0.0.1, ``https://%65vil.com`` is evil.com,
``bücher.de`` is ``xn--bcher-kva.de``. So the URL is parsed here, strictly, into one
canonical host before any list is consulted, and anything a parser could read two
ways (a backslash in the authority, control characters, a stray ``:``) is refused.

Domain lists take ``example.com`` (that host only) and ``*.example.com`` (its subdomains
only, not example.com itself); any other wildcard is an error. The deny list wins over
the allow list; an explicit allow entry wins over the private-address question (so a
user may allow ``localhost``) but never over cloud metadata, which is always denied.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import unquote

from stockade.decision import Verdict

MAX_URL_LENGTH = 8192

_IP: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT_NEXT = re.compile(r"\d+(?:[/?#]|\Z)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)
_METADATA_IPS: frozenset[_IP] = frozenset(
    ipaddress.ip_address(text)
    for text in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_PRIVATE_SUFFIXES = ("localhost", "local", "internal", "home.arpa")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class UrlFinding:
    """What the guard thinks of one URL; ``ALLOW`` means no objection, not permission."""

    verdict: Verdict
    rule_id: str
    reason: str
    host: str | None


@dataclass(frozen=True, slots=True)
class _DomainSet:
    """Exact hosts plus ``*.`` suffixes; lookup walks the host's labels, not the rules."""

    exact: frozenset[str]
    suffixes: frozenset[str]

    @classmethod
    def compile(cls, entries: Iterable[str], what: str) -> _DomainSet:
        exact: set[str] = set()
        suffixes: set[str] = set()
        for entry in entries:
            try:
                if entry.startswith("*."):
                    host, ip = _normalize_host(entry[2:])
                    if ip is not None:
                        raise ValueError("an IP address has no subdomains")
                    suffixes.add(host)
                elif "*" in entry or entry.startswith("."):
                    raise ValueError("write 'example.com' or '*.example.com'")
                else:
                    exact.add(_parse_host(entry)[0])
            except ValueError as error:
                raise ValueError(f"invalid {what} entry {entry!r}: {error}") from None
        return cls(frozenset(exact), frozenset(suffixes))

    def contains(self, host: str, is_ip: bool) -> bool:
        if host in self.exact:
            return True
        if is_ip or not self.suffixes:
            return False
        dot = host.find(".")
        while dot != -1:
            if host[dot + 1 :] in self.suffixes:
                return True
            dot = host.find(".", dot + 1)
        return False


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Compiled domain lists and scheme policy; build it with :meth:`compile`."""

    allow: _DomainSet
    deny: _DomainSet
    allow_http: bool

    @classmethod
    def compile(
        cls,
        *,
        allow_domains: Iterable[str] = (),
        deny_domains: Iterable[str] = (),
        allow_http: bool = False,
    ) -> UrlPolicy:
        """Raises ``ValueError`` naming the first malformed domain entry."""
        return cls(
            _DomainSet.compile(allow_domains, "allow_domains"),
            _DomainSet.compile(deny_domains, "deny_domains"),
            allow_http,
        )

    def domain_allowed(self, host: str) -> bool:
        """Whether ``host`` is explicitly on the allow list."""
        try:
            name, ip = _parse_host(host)
        except ValueError:
            return False
        return self.allow.contains(name, ip is not None)

    def check(self, url: str) -> UrlFinding:
        """Judge ``url``; malformed input is denied, never guessed at."""
        try:
            scheme, host, ip, has_userinfo = _parse_url(url)
        except ValueError as error:
            return UrlFinding(Verdict.DENY, "url.invalid", f"malformed URL: {error}", None)
        if scheme not in ("https", "http"):
            return UrlFinding(Verdict.DENY, "url.scheme", f"scheme {scheme!r} is not allowed", None)
        if scheme == "http" and not self.allow_http:
            reason = "plain http is not allowed (use https)"
            return UrlFinding(Verdict.DENY, "url.scheme", reason, host)
        addresses = _embedded_addresses(ip) if ip is not None else ()
        if host in _METADATA_HOSTS or any(a in _METADATA_IPS for a in addresses):
            reason = f"{host} is a cloud metadata service"
            return UrlFinding(Verdict.DENY, "url.metadata", reason, host)
        if self.deny.contains(host, ip is not None):
            return UrlFinding(Verdict.DENY, "url.deny-domain", f"{host} is on the deny list", host)
        if has_userinfo:
            reason = "the URL carries credentials or a misleading user@ prefix"
            return UrlFinding(Verdict.ASK, "url.credentials-in-url", reason, host)
        if self.allow.contains(host, ip is not None):
            return UrlFinding(Verdict.ALLOW, "url.allow-domain", f"{host} is allowed", host)
        if _is_private(host, addresses):
            reason = f"{host} is a private, loopback or link-local address"
            return UrlFinding(Verdict.ASK, "url.private-address", reason, host)
        return UrlFinding(Verdict.ALLOW, "url.ok", f"{host} is not listed", host)


def _parse_url(url: str) -> tuple[str, str, _IP | None, bool]:
    """``(scheme, host, ip, has_userinfo)``; a missing scheme means https."""
    url = url.strip(" \t\r\n")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise ValueError("control characters")
    scheme = _SCHEME.match(url)
    if scheme and not _looks_like_host_port(scheme.group(1), url, scheme.end()):
        name, rest = scheme.group(1).lower(), url[scheme.end() :]
    else:
        name, rest = "https", url if url.startswith("//") else "//" + url
    if name not in ("https", "http"):
        return name, "", None, False
    if not rest.startswith("//"):
        raise ValueError("expected '//' after the scheme")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "\\" in authority:
        raise ValueError("backslash in the host part")
    _, at, hostport = authority.rpartition("@")
    host, ip = _parse_host(hostport, with_port=True)
    return name, host, ip, bool(at)


def _looks_like_host_port(candidate: str, url: str, end: int) -> bool:
    """``example.com:8080/x`` is a host and port, not a URL with scheme ``example.com``."""
    dotted = "." in candidate or candidate.lower() == "localhost"
    return dotted and _PORT_NEXT.match(url, end) is not None


def _parse_host(text: str, *, with_port: bool = False) -> tuple[str, _IP | None]:
    """Canonical host of ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    port = ""
    ip: _IP | None
    if text.startswith("["):
        inner, bracket, port = text[1:].partition("]")
        if not bracket or "%" in inner:
            raise ValueError("bad IPv6 literal")
        try:
            address = ipaddress.IPv6Address(inner)
        except ValueError:
            raise ValueError("bad IPv6 literal") from None
        if port and not port.startswith(":"):
            raise ValueError("unexpected text after the IPv6 literal")
        port = port[1:]
        host, ip = str(address), address
    elif ":" in text and not with_port:
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError("a port or stray ':' in a host") from None
        host, ip = str(address), address
    else:
        name, _, port = text.partition(":")
        if ":" in port:
            raise ValueError("more than one ':' in the host")
        host, ip = _normalize_host(name)
    if port and (not port.isdigit() or not port.isascii() or int(port) > 65535):
        raise ValueError("bad port")
    return host, ip


def _normalize_host(text: str) -> tuple[str, ipaddress.IPv4Address | None]:
    """Percent-decoded, lowercased, IDNA-encoded, trailing dot dropped; IPv4 in any spelling."""
    host = unquote(text, errors="strict").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("host is not a valid international domain name") from None
    if host.endswith("."):
        host = host[:-1]
    labels = host.split(".")
    if _is_number(labels[-1]):
        address = _parse_ipv4(labels)
        return str(address), address
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("empty or malformed host")
    return host, None


def _is_number(label: str) -> bool:
    if label.startswith(("0x", "0X")):
        return all(c in "0123456789abcdefABCDEF" for c in label[2:])
    return label.isascii() and label.isdigit()


def _parse_ipv4(labels: list[str]) -> ipaddress.IPv4Address:
    """IPv4 the way ``inet_aton`` and browsers read it: 1-4 parts, hex/octal/decimal."""
    if len(labels) > 4:
        raise ValueError("too many parts in an IPv4 address")
    parts: list[int] = []
    for label in labels:
        if label.startswith(("0x", "0X")):
            base, digits = 16, label[2:] or "0"
        elif len(label) > 1 and label.startswith("0"):
            base, digits = 8, label[1:]
        else:
            base, digits = 10, label
        try:
            parts.append(int(digits, base))
        except ValueError:
            raise ValueError("malformed IPv4 address") from None
    *head, last = parts
    if any(part > 255 for part in head) or last >= 256 ** (5 - len(parts)):
        raise ValueError("IPv4 address out of range")
    value = last
    for index, part in enumerate(head):
        value += part << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _embedded_addresses(ip: _IP) -> tuple[_IP, ...]:
    """``ip`` plus any IPv4 address tunnelled inside an IPv6 one (mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return (ip,)
    inner: list[_IP] = [ip]
    if ip.ipv4_mapped is not None:
        inner.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        inner.append(ip.sixtofour)
    if ip in _NAT64 or int(ip) >> 32 == 0:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return tuple(inner)


def _is_private(host: str, addresses: tuple[_IP, ...]) -> bool:
    if any(not a.is_global or a.is_multicast for a in addresses):
        return True
    return any(host == name or host.endswith("." + name) for name in _PRIVATE_SUFFIXES)
