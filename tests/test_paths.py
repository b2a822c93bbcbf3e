"""Platform directories and atomic writes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_cli import paths
from gptoss_cli.paths import AppDirs, app_dirs, atomic_write_text

HOME = Path("/home/ada")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("GPTOSS_", "OPENAI_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GPTOSS_HOME", str(tmp_path / "home"))
    yield


def test_linux_defaults_follow_xdg_base_directories() -> None:
    dirs = app_dirs({}, platform="linux", home=HOME)
    assert dirs == AppDirs(
        config=HOME / ".config" / "gptoss",
        data=HOME / ".local" / "share" / "gptoss",
        cache=HOME / ".cache" / "gptoss",
    )
    assert dirs.config_file == HOME / ".config" / "gptoss" / "config.toml"
    assert dirs.conversations == HOME / ".local" / "share" / "gptoss" / "conversations"


def test_linux_xdg_variables_move_each_directory() -> None:
    env = {"XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "/data", "XDG_CACHE_HOME": "/cache"}
    dirs = app_dirs(env, platform="linux", home=HOME)
    assert dirs == AppDirs(Path("/cfg/gptoss"), Path("/data/gptoss"), Path("/cache/gptoss"))


@pytest.mark.parametrize("value", ["", "relative/dir", "./x"])
def test_linux_ignores_empty_or_relative_xdg_values_as_the_spec_says(value: str) -> None:
    dirs = app_dirs({"XDG_CONFIG_HOME": value, "XDG_DATA_HOME": value}, platform="linux", home=HOME)
    assert dirs.config == HOME / ".config" / "gptoss"
    assert dirs.data == HOME / ".local" / "share" / "gptoss"


def test_macos_uses_application_support_and_caches() -> None:
    dirs = app_dirs({"XDG_CONFIG_HOME": "/ignored"}, platform="darwin", home=HOME)
    support = HOME / "Library" / "Application Support" / "gptoss"
    assert dirs == AppDirs(support, support, HOME / "Library" / "Caches" / "gptoss")


def test_windows_uses_appdata_and_localappdata() -> None:
    env = {"APPDATA": r"C:\Users\ada\AppData\Roaming", "LOCALAPPDATA": r"C:\Users\ada\AppData\Local"}
    dirs = app_dirs(env, platform="win32", home=HOME)
    assert dirs.config == Path(env["APPDATA"]) / "gptoss"
    assert dirs.data == Path(env["APPDATA"]) / "gptoss"
    assert dirs.cache == Path(env["LOCALAPPDATA"]) / "gptoss" / "Cache"


def test_windows_without_appdata_falls_back_under_home() -> None:
    dirs = app_dirs({}, platform="win32", home=HOME)
    assert dirs.config == HOME / "AppData" / "Roaming" / "gptoss"
    assert dirs.cache == HOME / "AppData" / "Local" / "gptoss" / "Cache"


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_gptoss_home_moves_everything_on_every_platform(platform: str) -> None:
    env = {"GPTOSS_HOME": "/srv/g", "XDG_CONFIG_HOME": "/cfg", "APPDATA": r"C:\x"}
    assert app_dirs(env, platform=platform, home=HOME) == AppDirs(
        Path("/srv/g"), Path("/srv/g"), Path("/srv/g/cache")
    )


def test_module_functions_read_the_real_environment(tmp_path: Path) -> None:
    assert paths.config_dir() == tmp_path / "home"
    assert paths.data_dir() == tmp_path / "home"
    assert paths.cache_dir() == tmp_path / "home" / "cache"
    assert paths.default_config_file() == tmp_path / "home" / "config.toml"


# ------------------------------------------------------------------------------------ atomic writes


def test_atomic_write_creates_parents_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two ✓")
    assert target.read_text(encoding="utf-8") == "two ✓"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_atomic_write_modes_on_posix(tmp_path: Path) -> None:
    private = tmp_path / "private.json"
    atomic_write_text(private, "{}", private=True)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = tmp_path / "config.toml"
    atomic_write_text(public, "")
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    public.chmod(0o640)
    atomic_write_text(public, "x = 1", private=True)
    assert stat.S_IMODE(public.stat().st_mode) == 0o640  # an existing file keeps its mode


def test_a_failure_before_the_rename_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_unencodable_text_fails_before_touching_the_disk(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "lone surrogate \ud800")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
