"""Settings: defaults, a TOML file, and environment variables that beat the file."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from horde_core.config import AppConfig, load_config


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HORDE_API__PORT", "HORDE_CORE__DATABASE_URL", "HORDE_API__PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)
    config = load_config()
    assert (config.api.host, config.api.port) == ("127.0.0.1", 7001)
    assert config.database_url.startswith("sqlite:///") and config.database_url.endswith("horde.db")
    assert config.public_url == "http://127.0.0.1:7001"


def test_env_overrides_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text('[api]\nport = 8000\npublic_url = "https://horde.example"\n[core]\ndata_dir = "/srv"\n')
    monkeypatch.setenv("HORDE_API__PORT", "9000")
    monkeypatch.setenv("HORDE_BOT__TOKEN", "t0k")
    config = load_config(path)
    assert config.api.port == 9000 and config.bot.token == "t0k"
    assert config.public_url == "https://horde.example" and config.core.data_dir == "/srv"


def test_unknown_keys_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text("[api]\nprot = 1\n")
    with pytest.raises(ValidationError):
        load_config(path)
    with pytest.raises(ValidationError):
        AppConfig(core={"data_dri": "x"})


def test_example_config_documents_every_setting() -> None:
    from pathlib import Path

    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    config = AppConfig()
    for section in ("api", "core", "bot", "s3"):
        assert f"[{section}]" in example
        for key in type(getattr(config, section)).model_fields:
            assert f"\n{key} = " in example or f"\n# {key} = " in example, f"{section}.{key} undocumented"
