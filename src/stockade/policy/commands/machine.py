"""Commands that change the machine: packages, ``kill``, power, services and ``crontab``.

Most are MACHINE; stopping the machine, signalling every process or init and deleting
every scheduled job are NEVER; their read-only queries are SAFE.
"""

from __future__ import annotations

import re

from stockade.decision import Zone
from stockade.policy.commands.arguments import Cmd
from stockade.policy.commands.results import Result, never, zoned

_PACKAGE_QUERIES = ("-l", "-L", "-s", "-S", "-q", "--list", "--listfiles", "--status", "--search")


def package_db(c: Cmd) -> Result:
    """dpkg and rpm: queries only read; anything else installs or removes packages."""
    zone = Zone.SAFE if c.opts().has(*_PACKAGE_QUERIES, "--query") else Zone.MACHINE
    return zoned(zone, c.name)


def kill(c: Cmd) -> Result:
    args = list(c.args)
    if args[:1] in (["-s"], ["-n"]):
        del args[:2]
    elif args and args[0].startswith("-") and args[0] not in ("--", "-l", "-L"):
        del args[0]
    pids = [a for a in args if a != "--"]
    if "-1" in pids:
        return never("kill-all", "kill -1 signals every process")
    if "1" in pids:
        return never("kill-init", "kill 1 signals init")
    return zoned(Zone.MACHINE, "kill")


_SYSTEMCTL_READS = frozenset(
    "status show cat list-units list-unit-files list-timers list-sockets list-dependencies "
    "is-active is-enabled is-failed help --version".split()
)
_POWER = frozenset({"poweroff", "reboot", "halt", "kexec", "shutdown"})


def system(c: Cmd) -> Result:
    """Power and service control: shutting the machine down is catastrophic."""
    verb = next((a for a in c.args if not a.startswith("-")), "")
    if c.name in _POWER or (c.name == "systemctl" and verb in _POWER):
        return never("shutdown", f"{c.name} {verb}".strip() + " stops the machine")
    if c.name in ("init", "telinit") and verb in ("0", "6"):
        return never("shutdown", f"{c.name} {verb} stops the machine")
    if c.name == "crontab" and "r" in c.opts().flags:
        return never("crontab-remove", "crontab -r deletes every scheduled job")
    if (c.name == "systemctl" and verb in _SYSTEMCTL_READS) or (
        c.name == "crontab" and c.args == ("-l",)
    ):
        return zoned(Zone.SAFE, c.name)
    if c.name == "defaults" and verb in ("read", "domains", "find", "read-type", "export"):
        return zoned(Zone.SAFE, "defaults")
    if c.name == "diskutil" and re.match(r"(?i)erase|zero|random|secure|partition", verb):
        return never("disk", f"diskutil {verb} destroys a disk")
    return zoned(Zone.MACHINE, c.name)
