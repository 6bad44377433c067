"""Settings: environment names, offline-safe defaults, one readable line per bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from demo_app.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray variable or .env file may leak into these tests."""
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_run_offline() -> None:
    settings = Settings()
    assert settings.replicate_api_token is None
    assert not settings.uses_replicate
    assert str(settings.replicate_base_url) == "https://api.replicate.com/"
    assert settings.job_timeout_s == 600


def test_replicate_and_gradio_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_secret_value")
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    monkeypatch.setenv("LIPSYNC_DAILY_BUDGET", "1234")
    settings = Settings()
    assert settings.uses_replicate
    assert settings.server_port == 7999
    assert settings.daily_budget == 1234
    assert str(settings.replicate_base_url).startswith("http://127.0.0.1:9999")
    assert "r8_secret_value" not in repr(settings)
    assert "r8_secret_value" not in str(settings.model_dump())


def test_empty_token_means_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "")
    assert not Settings().uses_replicate


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LIPSYNC_STARTING_GRANT=77\n")
    assert Settings().starting_grant == 77


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("LIPSYNC_JOB_TIMEOUT_S", "-5", "greater than 0"),
        ("REPLICATE_BASE_URL", "not a url", "URL"),
        ("GRADIO_SERVER_PORT", "99999", "less than or equal to 65535"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.count("\n") == 0
    assert message.startswith(f"Bad setting {name}:")
    assert fragment in message


def test_app_stops_with_one_line_on_a_bad_value(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LIPSYNC_JOB_TIMEOUT_S": "-1", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "Bad setting LIPSYNC_JOB_TIMEOUT_S: Input should be greater than 0."


@pytest.mark.parametrize(
    ("env", "prices", "says"),
    [
        (
            {"LIPSYNC_MODELS": "someone/else"},
            None,
            "LIPSYNC_MODELS names “someone/else”, which is not a model",
        ),
        ({}, '["wan-video/wan-2.2-s2v"]\nusd_per_run = "free"\n', "usd_per_run must be a dollar amount"),
        ({}, '["wan-video/wan-2.2-s2v"\n', "is not valid TOML: "),
    ],
)
def test_app_stops_with_one_line_on_a_bad_model_list_or_price_file(
    tmp_path: Path, env: dict[str, str], prices: str | None, says: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if prices is not None:
        (data / "prices.toml").write_text(prices, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LIPSYNC_DATA_DIR": str(data), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr


def test_the_price_file_lives_in_the_data_directory_unless_set(tmp_path: Path) -> None:
    assert Settings(_env_file=None, data_dir=tmp_path).prices_path == tmp_path / "prices.toml"
    chosen = tmp_path / "elsewhere.toml"
    assert Settings(_env_file=None, data_dir=tmp_path, prices_file=chosen).prices_path == chosen
