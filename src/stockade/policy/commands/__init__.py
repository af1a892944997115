"""Judge each simple command of a parsed shell line: its zone, what it reads and writes.

The zone says how far a command's effects reach; the engine maps zones to verdicts and
checks ``reads``/``writes`` against the project, so this module only reports facts.

==========  ======================================================================
NEVER       catastrophic, whatever the policy: ``rm -r`` on ``/``, the home or a top-level
            system directory (or ``--no-preserve-root``); ``dd of=/dev/…``; ``mkfs*``,
            ``mkswap``, ``wipefs``; partitioning or ``shred`` of a device; any write to a
            disk device, ``/dev/mem`` or ``/etc/passwd|shadow|sudoers``; recursive
            ``chmod``/``chown`` of those places; fork bombs; fetched content run by an
            interpreter (``curl … | sh``, ``bash <(curl …)``, ``eval "$(curl …)"``);
            ``kill -9 -1``/``kill 1``; ``shutdown``/``reboot``/``halt``/``poweroff``/
            ``init 0``; ``crontab -r``
MACHINE     system state: ``sudo``/``su``/``doas`` (also as a wrapper or an ancestor),
            services, packages (``apt``, ``brew install``), users, firewall, ``kill``,
            ``chown``, ``mount``, ``docker run --privileged``, setuid ``chmod``
EXTERNAL    acts on another system: ``ssh``, ``scp``, remote ``rsync``, ``nc``,
            ``docker``, ``kubectl``, cloud CLIs, ``gh`` writes, ``terraform apply``,
            mail; everything run by ``ssh host CMD``; sinks ``external`` and ``network``
NETWORK     ``curl``, ``wget``, ``git push/pull/fetch/clone``, package installs
            (``npm install``, ``pip install``, ``cargo add`` …); sink ``network``;
            DNS tools (``dig``, ``host`` …) add sink ``dns``
BUILD       runs code: build tools, test runners, interpreters, ``./script``, ``source``;
            also every unknown command and every command whose name is computed
WORKSPACE   modifies files named in ``writes``: ``rm``, ``mv``, ``cp``, ``sed -i``,
            ``git commit``, archives, any output redirection; clipboard tools
            (sink ``clipboard``)
SAFE        reads only: ``ls``, ``cat``, ``grep``, ``find``, ``git status`` …
==========  ======================================================================

Paths in ``reads``/``writes`` have ``~``, ``$HOME`` and ``${HOME}`` expanded to ``home``;
relative paths stay relative for the engine to resolve against the working directory.

The package: :mod:`.results` (what a handler reports) and :mod:`.arguments` (how it
reads a command's arguments); the handlers by kind (:mod:`.files`, :mod:`.network`,
:mod:`.machine`, :mod:`.tools`, :mod:`.git`, :mod:`.interpreters`); :mod:`.table`, which
maps programs to them; and :mod:`.analysis`, which adds what a command's context implies.
"""

from __future__ import annotations

from stockade.decision import Zone
from stockade.policy.commands.analysis import Analysis
from stockade.policy.commands.results import CommandFacts
from stockade.policy.shell import ParsedCommand, parse

__all__ = ["CommandFacts", "analyze", "is_catastrophic"]


def analyze(parsed: ParsedCommand, *, home: str) -> tuple[CommandFacts, ...]:
    """Facts for every command in ``parsed``; the engine takes the highest zone."""
    return Analysis(parsed.commands, home.rstrip("/") or "/").run()


def is_catastrophic(command: str, *, home: str) -> CommandFacts | None:
    """The first NEVER fact of ``command``, if any."""
    facts = analyze(parse(command), home=home)
    return next((f for f in facts if f.zone is Zone.NEVER), None)
