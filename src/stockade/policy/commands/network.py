"""Commands that reach other systems: ``curl``, ``wget``, ``rsync``, ``scp``, ``gh``, ``docker``.

Downloads are writes and uploads are reads, so that the engine can check both against
the project; whether a transfer leaves the machine at all depends on its operands.
"""

from __future__ import annotations

import re

from stockade.decision import Zone
from stockade.policy.commands.arguments import Cmd
from stockade.policy.commands.results import Result, zoned


def curl(c: Cmd) -> Result:
    """curl and wget: uploads are reads, downloads are writes."""
    if c.name == "wget":
        o = c.opts("OoPia")
        reads = [v for k, v in o.values.items() if k in ("-i", "--post-file", "--body-file")]
        out = o.values.get("-O") or o.values.get("--output-document")
        writes = [out] if out else [o.values.get("-P") or o.values.get("--directory-prefix") or "."]
        writes = [w for w in writes if w != "-"]
    else:
        o = c.opts("oTdFHuXAeEKrwmxzbcCDY")
        data = (v for k, v in o.values.items() if k in ("-d", "-F", "--data", "--data-binary",
                "--data-urlencode", "--data-raw", "--form", "--json"))  # fmt: skip
        reads = [v.split("@", 1)[1].split(";")[0] for v in data if "@" in v]
        reads += [o.values[k] for k in ("-T", "--upload-file", "-K", "--config") if k in o.values]
        writes = [o.values[k] for k in ("-o", "--output") if k in o.values and o.values[k] != "-"]
        writes += ["."] if o.has("-O", "--remote-name", "--remote-name-all") else []
    return zoned(Zone.NETWORK, c.name, reads=c.paths(reads), writes=c.paths(writes))


_REMOTE_PATH = re.compile(r"^(?:[\w.+-]+@)?[\w.-]+:|^\w+://")


def transfer(c: Cmd) -> Result:
    """rsync and scp: remote unless every operand is a local path."""
    o = c.opts("eiloPFJcS" if c.name == "scp" else "eBfTM")
    local = [a for a in o.operands if not _REMOTE_PATH.match(a)]
    reads, writes = c.paths(local[:-1] if local == o.operands else local), []
    if o.operands and not _REMOTE_PATH.match(o.operands[-1]):
        writes = c.paths(o.operands[-1:])
        reads = [r for r in reads if r not in writes]
    zone = Zone.WORKSPACE if len(local) == len(o.operands) else Zone.EXTERNAL
    return zoned(zone, c.name, reads=reads, writes=writes)


_GH_READS = frozenset({"view", "list", "status", "diff", "checks", "search", "browse"})


def gh(c: Cmd) -> Result:
    o = c.opts("RXfFHqtpL")
    verb = o.operands[1] if len(o.operands) > 1 else ""
    if o.operands[:1] == ["api"]:
        method = (o.values.get("-X") or o.values.get("--method") or "GET").upper()
        fields = any(k in o.values for k in ("-f", "-F", "--field", "--raw-field", "--input"))
        writing = method != "GET" or fields
    else:
        writing = verb not in _GH_READS
    return zoned(Zone.EXTERNAL if writing else Zone.NETWORK, "gh", f"gh {' '.join(o.operands[:2])}")


_PRIVILEGED_CONTAINER = re.compile(
    r"--privileged|--(?:pid|ipc|userns|uts|cgroupns)[= ]host|--cap-add|--device|"
    r"--security-opt[= ]\S*unconfined|"
    r"(?:-v|--volume|--mount)[= ](?:\S*[=:,])?/(?:[:,]|var/run/docker\.sock)"
)


def docker(c: Cmd) -> Result:
    if _PRIVILEGED_CONTAINER.search(" ".join(c.args)):
        return Result(Zone.MACHINE, "shell.machine.container-privileged",
                       f"{c.name} gives a container control of the host")  # fmt: skip
    return zoned(Zone.EXTERNAL, c.name)
