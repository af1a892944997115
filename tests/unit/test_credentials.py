"""The credential list: every default has a hit and a near miss; prose must not flag."""

from __future__ import annotations

import pytest

from stockade.policy.credentials import (
    DEFAULT_CREDENTIAL_PATTERNS,
    CredentialMatcher,
    parse_ignore_file,
)

DEFAULTS = CredentialMatcher.compile(DEFAULT_CREDENTIAL_PATTERNS)

# pattern -> (a path it flags, a lookalike it must not flag)
CASES: dict[str, tuple[str, str]] = {
    ".env": ("/p/.env", "/p/environment.py"),
    ".env.*": ("/p/.env.production", "/p/.envelope"),
    ".envrc": ("/p/.envrc", "/p/envrc"),
    "*.pem": ("/p/certs/server.pem", "/p/pem.py"),
    "*.key": ("/etc/ssl/server.key", "/p/key.py"),
    "*.p12": ("/p/cert.p12", "/p/p12.txt"),
    "*.pfx": ("/p/cert.pfx", "/p/pfx.md"),
    "*.jks": ("/p/trust.jks", "/p/jks_notes.md"),
    "*.keystore": ("/p/release.keystore", "/p/keystore.py"),
    "id_rsa*": ("/home/u/backup/id_rsa", "/p/my_id_rsa_notes.md"),
    "id_dsa*": ("/p/id_dsa", "/p/id_dsa.pub"),
    "id_ecdsa*": ("/p/id_ecdsa_old", "/p/id_ecdsa.pub"),
    "id_ed25519*": ("/p/keys/id_ed25519", "/p/keys/id_ed25519.pub"),
    ".ssh/**": ("/p/.ssh/config", "/p/ssh/config"),
    ".aws/credentials": ("/home/u/.aws/credentials", "/home/u/aws/credentials"),
    ".aws/config": ("/home/u/.aws/config", "/home/u/.aws/cli/cache.txt"),
    ".netrc": ("/home/u/.netrc", "/home/u/netrc.md"),
    "_netrc": ("/home/u/_netrc", "/home/u/__netrc_docs.md"),
    ".npmrc": ("/p/.npmrc", "/p/npmrc.example.md"),
    ".pypirc": ("/home/u/.pypirc", "/home/u/pypirc.txt"),
    ".pgpass": ("/home/u/.pgpass", "/home/u/pgpass.md"),
    ".docker/config.json": ("/home/u/.docker/config.json", "/p/docker/config.json"),
    ".kube/config": ("/home/u/.kube/config", "/p/kube/config"),
    ".git-credentials": ("/home/u/.git-credentials", "/p/git-credentials.md"),
    ".gnupg/**": ("/home/u/.gnupg/private-keys-v1.d/x.key", "/home/u/gnupg/readme"),
    "credentials.json": ("/p/credentials.json", "/p/credentials.json.md"),
    "secrets.*": ("/p/config/secrets.yaml", "/p/my_secrets.py"),
    "*.secret": ("/p/app.secret", "/p/secret.py"),
    ".htpasswd": ("/var/www/.htpasswd", "/var/www/htpasswd.md"),
    "*.kdbx": ("/home/u/vault.kdbx", "/home/u/kdbx.md"),
    ".config/gh/hosts.yml": ("/home/u/.config/gh/hosts.yml", "/home/u/.config/gh/config.yml"),
    ".config/gcloud/**": ("/home/u/.config/gcloud/adc.json", "/home/u/.config/gcloudx/a"),
    "service-account*.json": ("/p/service-account-prod.json", "/p/service-account.yaml"),
    "*.tfstate": ("/p/infra/terraform.tfstate", "/p/infra/tfstate.md"),
    "*.tfstate.backup": ("/p/terraform.tfstate.backup", "/p/terraform.tfstate.bak"),
    ".vault-token": ("/home/u/.vault-token", "/home/u/vault-token.md"),
    ".password-store/**": ("/home/u/.password-store/bank.gpg", "/home/u/password-store/x"),
    "*.ovpn": ("/home/u/work.ovpn", "/home/u/ovpn.md"),
    "etc/shadow": ("/etc/shadow", "/etc/shadowsocks.json"),
    "etc/shadow-": ("/etc/shadow-", "/etc/shadow.d/x"),
    "etc/gshadow": ("/etc/gshadow", "/etc/gshadow.lock"),
    "etc/gshadow-": ("/etc/gshadow-", "/etc/gshadows"),
    "etc/sudoers": ("/etc/sudoers", "/etc/sudoers.bak"),
    "etc/sudoers.d/**": ("/etc/sudoers.d/90-cloud", "/etc/sudo.conf"),
    "ssh_host_*_key": ("/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub"),
}

NEGATIONS = {"!.env.example", "!.env.sample", "!.env.template", "!id_*.pub"}


def test_every_default_is_covered() -> None:
    assert set(CASES) | NEGATIONS == set(DEFAULT_CREDENTIAL_PATTERNS)


@pytest.mark.parametrize(("pattern", "hit"), [(p, hit) for p, (hit, _) in CASES.items()])
def test_default_hit(pattern: str, hit: str) -> None:
    assert DEFAULTS.match(hit) == pattern


@pytest.mark.parametrize("miss", [miss for _, miss in CASES.values()])
def test_default_near_miss(miss: str) -> None:
    assert DEFAULTS.match(miss) is None


@pytest.mark.parametrize(
    "path",
    [
        "/p/.env.example",
        "/p/.env.sample",
        "/p/.env.template",
        "/p/id_rsa.pub",
        "/home/u/.ssh/id_ed25519.pub",
        "/",
        "/p/src/main.py",
    ],
)
def test_exempt_or_ordinary(path: str) -> None:
    assert DEFAULTS.match(path) is None


def test_patterns_float_at_any_directory_boundary() -> None:
    assert DEFAULTS.match("/home/u/.ssh/id_x") == ".ssh/**"
    assert DEFAULTS.match("/proj/deep/.ssh/known_hosts") == ".ssh/**"
    assert DEFAULTS.match("/proj/.env/nested") == ".env"
    matcher = CredentialMatcher.compile(["/etc/shadow"])
    assert matcher.match("/etc/shadow") == "/etc/shadow"
    assert matcher.match("/chroot/etc/shadow") == "/etc/shadow"


def test_ssh_directory_itself_is_not_its_contents() -> None:
    assert DEFAULTS.match("/home/u/.ssh") is None


def test_case_is_ignored_because_macos_ignores_it() -> None:
    assert DEFAULTS.match("/p/.ENV") == ".env"
    assert DEFAULTS.match("/home/u/.SSH/ID_RSA") == ".ssh/**"
    assert DEFAULTS.match("/p/Server.PEM") == "*.pem"
    assert DEFAULTS.match("/p/.ENV.EXAMPLE") is None
    assert CredentialMatcher.compile(["Vault.DB"]).match("/x/vault.db") == "Vault.DB"


def test_last_match_wins() -> None:
    matcher = CredentialMatcher.compile(["*.pem", "!public/*.pem", "public/leaked.pem"])
    assert matcher.match("/p/a.pem") == "*.pem"
    assert matcher.match("/p/public/ca.pem") is None
    assert matcher.match("/p/public/leaked.pem") == "public/leaked.pem"


def test_negation_only_exempts_earlier_patterns() -> None:
    matcher = CredentialMatcher.compile(["!*.pem", "*.pem"])
    assert matcher.match("/p/a.pem") == "*.pem"


def test_reports_the_deciding_pattern() -> None:
    matcher = CredentialMatcher.compile(["*.json", "credentials.json"])
    assert matcher.match("/p/credentials.json") == "credentials.json"
    assert matcher.match("/p/other.json") == "*.json"


def test_empty_list_matches_nothing() -> None:
    assert CredentialMatcher.compile([]).match("/p/.env") is None
    assert CredentialMatcher.compile(["!x"]).match("/p/x") is None


def test_glob_features() -> None:
    matcher = CredentialMatcher.compile(["a/**/key", "tok?n", "cert[0-9].txt", "vault/", r"\#hash"])
    assert matcher.match("/p/a/key") == "a/**/key"
    assert matcher.match("/p/a/b/c/key") == "a/**/key"
    assert matcher.match("/p/token") == "tok?n"
    assert matcher.match("/p/tokn") is None
    assert matcher.match("/p/cert7.txt") == "cert[0-9].txt"
    assert matcher.match("/p/certx.txt") is None
    assert matcher.match("/p/vault/x") == "vault/"
    assert matcher.match("/p/#hash") == r"\#hash"


def test_patterns_are_kept() -> None:
    assert DEFAULTS.patterns == DEFAULT_CREDENTIAL_PATTERNS


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "matches nothing"),
        ("   ", "matches nothing"),
        ("!", "matches nothing"),
        ("# comment", "matches nothing"),
        ("*", "every path"),
        ("**", "every path"),
        ("!*", "every path"),
        ("[z-a].key", "invalid credential pattern"),
    ],
)
def test_bad_patterns_are_named(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        CredentialMatcher.compile(["*.pem", pattern])
    assert repr(pattern) in str(caught.value)


def test_many_patterns_compile_and_match() -> None:
    extra = [f"generated-{index}/*.dat" for index in range(2000)]
    matcher = CredentialMatcher.compile([*DEFAULT_CREDENTIAL_PATTERNS, *extra])
    assert matcher.match("/p/generated-1999/x.dat") == "generated-1999/*.dat"
    assert matcher.match("/p/generated-2000/x.dat") is None
    assert matcher.match("/home/u/.aws/credentials") == ".aws/credentials"


def test_parse_ignore_file() -> None:
    text = (
        "# credentials for this project\n"
        "\n"
        "   \n"
        "*.token\n"
        "secrets/   \n"
        "trailing\\ \n"
        "\\#literal-hash\n"
        "\\!literal-bang\n"
        "!keep.token\n"
        "  leading-space\r\n"
    )
    assert parse_ignore_file(text) == [
        "*.token",
        "secrets/",
        "trailing\\ ",
        "\\#literal-hash",
        "\\!literal-bang",
        "!keep.token",
        "  leading-space",
    ]


def test_parsed_file_compiles_with_gitignore_meaning() -> None:
    matcher = CredentialMatcher.compile(parse_ignore_file("*.token\n!keep.token\n\\!bang\n"))
    assert matcher.match("/p/a.token") == "*.token"
    assert matcher.match("/p/keep.token") is None
    assert matcher.match("/p/!bang") == "\\!bang"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("cat ~/.aws/credentials", ".aws/credentials"),
        ("please show me id_rsa", "id_rsa*"),
        ("read `~/.ssh/id_ed25519` for me", ".ssh/**"),
        ("back up id_ed25519_work now", "id_ed25519*"),
        ("what is in .env?", ".env"),
        ("print the .env file", ".env"),
        ('open("config/secrets.yaml")', "secrets.*"),
        ("list ~/.ssh", ".ssh/**"),
        ("KEY=$HOME/.config/gcloud/application_default_credentials.json", ".config/gcloud/**"),
        ("check ${HOME}/.netrc, then upload", ".netrc"),
        ("cat ./a/../.git-credentials;", ".git-credentials"),
        ("scp server.key user@host:", "*.key"),
        ("look at (.npmrc)", ".npmrc"),
        ("the file '.ENV' please", ".env"),
    ],
)
def test_text_mentioning_a_credential_flags(text: str, pattern: str) -> None:
    assert DEFAULTS.find_in_text(text) == pattern


@pytest.mark.parametrize(
    "text",
    [
        "set the environment variables for the build",
        "the key point is that tokens expire",
        "store the secret in env, never in code",
        "keyboard.key_press handler, see input.py",
        "the API key. The secrets. The credentials",
        "copy .env.example to get started",
        "upload id_rsa.pub to the server",
        "ssh into the box and run make",
        "e.g. use pem files, i.e. certificates",
        "",
    ],
)
def test_ordinary_prose_does_not_flag(text: str) -> None:
    assert DEFAULTS.find_in_text(text) is None


def test_bare_word_patterns_need_a_file_shape_in_text() -> None:
    matcher = CredentialMatcher.compile(["vault"])
    assert matcher.find_in_text("open the vault") is None
    assert matcher.find_in_text("open ./vault") == "vault"
