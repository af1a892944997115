"""The request bodies of ``/api/v1/secrets``: validated at the edge, never echoed.

A rejected body's error names the field and the rule it broke, not what was sent
(:func:`stockade.daemon.schemas.parse_body` drops the input from pydantic's errors),
so a value sent with a bad name does not come back in the answer or reach a log.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from stockade.daemon.schemas import AbsolutePath, StrictBody
from stockade.vault.format import MAX_VALUE_BYTES, NAME_PATTERN

SecretName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=128)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
Arg = Annotated[str, Field(max_length=32 * 1024, pattern=r"^[^\x00]*$")]
MAX_EXEC_S = 3600.0


class SecretBody(StrictBody):
    """``POST /secrets``: a value to keep under ``name``; ``replace`` to overwrite one."""

    name: SecretName
    value: Annotated[str, Field(min_length=1, max_length=MAX_VALUE_BYTES)]
    replace: bool = False


class ExecBody(StrictBody):
    """``POST /secrets/exec``: a program the daemon runs with ``secret://`` handles resolved.

    ``argv`` is run as is (no shell), in ``cwd``; ``env`` is added to the daemon's own
    environment, each ``secret://NAME`` value replaced by the secret.
    """

    argv: Annotated[list[Arg], Field(min_length=1, max_length=1024)]
    env: Annotated[dict[EnvName, Arg], Field(max_length=256)] = Field(default_factory=dict)
    cwd: AbsolutePath | None = None
    timeout_s: Annotated[float, Field(gt=0, le=MAX_EXEC_S, allow_inf_nan=False)] = 600.0
