"""Reading configuration files, with errors that name the file, the key and the problem."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stockade.config.model import Settings
from stockade.errors import ConfigError
from stockade.home import Home

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_toml(path: Path, model: type[ModelT]) -> tuple[ModelT, str]:
    """Parse ``path`` as ``model``; returns the model and the sha256 of the file's bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", "check the path") from exc
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text", "save the file as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", "fix the syntax at that line") from exc
    return validate(path, data, model), digest


def validate(path: Path, data: dict[str, Any], model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise ConfigError(
            f"{path}: invalid configuration\n  " + "\n  ".join(problems),
            "see `stockade config schema` or the configuration reference in the README",
        ) from None


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"key `{key}`: {message}"


def load_settings(home: Home) -> tuple[Settings, str]:
    """The user's settings (defaults when there is no file) and the file's hash."""
    if not home.config_path.exists():
        return Settings(), hashlib.sha256(b"").hexdigest()
    return parse_toml(home.config_path, Settings)


def read_ignore_file(path: Path) -> list[str]:
    """The patterns of a ``.stockadeignore`` file, or none when it does not exist."""
    from stockade.policy.credentials import parse_ignore_file

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix or remove the file") from exc
    return parse_ignore_file(text)


def settings_json_schema() -> dict[str, Any]:
    """The JSON schema of ``stockade.toml`` (published as docs/config.schema.json)."""
    schema = Settings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "stockade.toml"
    return schema
