"""Configuration: ``stockade.toml``, per-project ``.stockade.toml`` and the trust store."""

from stockade.config.load import load_settings, parse_toml, settings_json_schema
from stockade.config.model import Level, PolicyOverride, Profile, ProjectFile, Rule, Settings
from stockade.config.trust import TrustStore

__all__ = [
    "Level",
    "PolicyOverride",
    "Profile",
    "ProjectFile",
    "Rule",
    "Settings",
    "TrustStore",
    "load_settings",
    "parse_toml",
    "settings_json_schema",
]
