"""``secret://NAME``: how configuration and requests refer to a secret without holding it.

A handle is only a name. It becomes the value at the moment of use and only inside
the daemon (:meth:`stockade.vault.service.VaultService.resolve_env`), so the value
never travels through a file, a request or a log on its way there.
"""

from __future__ import annotations

from stockade.vault.format import InvalidSecret, check_name

PREFIX = "secret://"


def handle_name(text: str) -> str | None:
    """The secret's name if ``text`` is a handle, None if it is not one at all.

    A malformed handle (``secret://`` followed by something that is not a name) is an
    error, not a literal: a typo must not pass the handle's own text on as the value.
    """
    if not text.startswith(PREFIX):
        return None
    try:
        return check_name(text[len(PREFIX) :])
    except InvalidSecret as exc:
        raise InvalidSecret(f"invalid handle: {exc.message}", exc.hint) from None


def handle(name: str) -> str:
    return PREFIX + check_name(name)
