"""Config: defaults, the template, errors with file/line/key, precedence, redaction, get/set."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from gptoss_cli import config as cfg
from gptoss_cli.config import (
    FIELDS,
    Config,
    DisplayConfig,
    HistoryConfig,
    ProfileConfig,
    PromptConfig,
    Secret,
    get_value,
    init_config,
    load_config,
    resolve,
    set_value,
)
from gptoss_cli.config.edit import _edit_in_place
from gptoss_cli.config.tomlscan import format_key, parse_key, scan
from gptoss_cli.errors import ConfigError, UsageError

KEY = "sk-test-0123456789abcdef"


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(home: Path, text: str) -> ConfigError:
    write(home, text)
    with pytest.raises(ConfigError) as info:
        load_config()
    return info.value


# ------------------------------------------------------------------------------- defaults, template


def test_no_file_means_defaults() -> None:
    assert load_config() == Config()
    settings = resolve()
    assert settings.profile_name == "default"
    assert settings.profile == ProfileConfig()
    assert settings.profile.base_url == "http://127.0.0.1:8000"
    assert settings.prompt == PromptConfig()
    assert settings.display == DisplayConfig()
    assert settings.history == HistoryConfig()
    assert settings.api_key is None
    assert not settings.config_file_exists
    assert set(settings.sources.values()) == {"default", "none"}


def test_identity_and_cutoff_defaults_equal_the_harmony_defaults() -> None:
    from gptoss_cli.harmony import types

    assert cfg.DEFAULT_IDENTITY == types.DEFAULT_IDENTITY
    assert cfg.DEFAULT_KNOWLEDGE_CUTOFF == types.DEFAULT_KNOWLEDGE_CUTOFF


def test_template_loads_and_states_the_defaults() -> None:
    path = init_config()
    assert path.read_text(encoding="utf-8") == cfg.template_text()
    config = load_config()
    assert config.prompt == PromptConfig()
    assert config.display == DisplayConfig()
    assert config.history == HistoryConfig()
    assert config.default_profile == "local"
    assert config.profiles == {"local": ProfileConfig()}


def test_template_documents_every_key() -> None:
    text = cfg.template_text()
    for key in FIELDS:
        name = key.rsplit(".", 1)[-1]
        assert f"{name} " in text or f"[profiles.NAME.{name}]" in text, key


def test_init_refuses_to_overwrite_unless_forced(home: Path) -> None:
    path = write(home, "# mine\n")
    with pytest.raises(ConfigError) as info:
        init_config()
    assert str(path) in str(info.value) and "--force" in (info.value.hint or "")
    assert path.read_text() == "# mine\n"
    init_config(force=True)
    assert path.read_text() == cfg.template_text()


def test_prompt_date_choices() -> None:
    import datetime as dt

    today = dt.date(2025, 8, 7)
    assert PromptConfig().conversation_start_date(today) == "2025-08-07"
    assert PromptConfig(date="none").conversation_start_date(today) is None
    assert PromptConfig(date="2024-01-31").conversation_start_date(today) == "2024-01-31"


# ---------------------------------------------------------------------------------- finding a file


def test_config_flag_and_env_var_choose_the_file(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[prompt]\nreasoning = "high"\n')
    assert resolve({"config": str(other)}).prompt.reasoning == "high"
    monkeypatch.setenv("GPTOSS_CONFIG", str(other))
    assert resolve().prompt.reasoning == "high"
    assert resolve().config_file == other


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        resolve({"config": str(missing)})
    assert info.value.file == str(missing)
    assert str(info.value) == f"{missing}: config file not found"
    assert "gptoss config init" in (info.value.hint or "")


def test_a_file_that_is_not_utf8_names_the_line(home: Path) -> None:
    home.mkdir()
    (home / "config.toml").write_bytes(b'[prompt]\nidentity = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert (info.value.line, "UTF-8" in str(info.value)) == (2, True)


# ------------------------------------------------------------------------------------- broken TOML


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('[prompt]\nreasoning = "high"\nidentity = \n', 3, 12, "Invalid value"),
        ("[display]\nstats = tru\n", 2, 9, "Invalid value"),
        ('[prompt]\nreasoning = "low"\n\nreasoning = "high"\n', 4, 1, "prompt.reasoning is defined twice"),
        ("[prompt]\n[display]\n[prompt]\n", 3, 1, "prompt is defined twice"),
        ('[prompt]\ninstructions = """never closed\n', 2, 16, "Unterminated string"),
        ("[profiles.a.options]\nstop = [1, 2", 2, 8, "Unclosed array"),
        ("[profiles.local\n", 1, 16, ""),
    ],
)
def test_broken_toml_names_file_line_and_column(
    home: Path, text: str, line: int, column: int, fragment: str
) -> None:
    error = error_for(home, text)
    assert error.file == str(home / "config.toml")
    assert error.line == line
    assert f"{home / 'config.toml'}:{line}: invalid TOML at column {column}" in str(error)
    assert fragment in str(error)


# -------------------------------------------------------------------------- unknown keys, wrong types


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ('verbose = true\n[prompt]\nreasoning = "low"\n', "verbose", 1),
        ('# c\n[prompt]\nreasoning = "low"\nreasonning = "high"\n', "prompt.reasonning", 4),
        ("[display]\n\n  # note\n  colour = 'never'  # british\n", "display.colour", 4),
        ('[profiles.a]\nbase_url = "http://h"\n[profiles.b]\nmodle = "x"\n', "profiles.b.modle", 4),
        ('[profiles]\nlocal.base_url = "http://h"\nlocal . "kindd" = "vllm"\n', "profiles.local.kindd", 3),
        ('[profiles]\nlocal = { base_url = "http://h", modl = "m" }\n', "profiles.local.modl", 2),
        ('x = """\n[prompt]\nreasoning = 1\n"""\n', "x", 1),
        ('[prompt]\nreasoning = "low"\n[sampling]\ntemperature = 1\n', "sampling", 3),
        ("[prompt.extra]\na = 1\n", "prompt.extra", 1),
        ('[[profiles.a.hooks]]\nrun = "x"\n', "profiles.a.hooks", 1),
    ],
)
def test_unknown_keys_name_file_key_and_line(home: Path, text: str, key: str, line: int) -> None:
    error = error_for(home, text)
    assert (error.file, error.key, error.line) == (str(home / "config.toml"), key, line)
    assert str(error).startswith(f"{home / 'config.toml'}:{line}: {key}: unknown key")


def test_unknown_key_suggests_the_close_one(home: Path) -> None:
    error = error_for(home, "[display]\nshow_reasonning = true\n")
    assert error.hint == "did you mean 'show_reasoning'?"


@pytest.mark.parametrize(
    ("text", "key", "line", "expected"),
    [
        (
            '[prompt]\nreasoning = "hgh"\n',
            "prompt.reasoning",
            2,
            "expected one of low, medium, high, got string 'hgh'",
        ),
        ("[prompt]\nidentity = 3\n", "prompt.identity", 2, "expected a string, got integer 3"),
        ('[prompt]\ndate = "yesterday"\n', "prompt.date", 2, 'expected "today", "none" or a date YYYY-MM-DD'),
        ("[display]\n\nstats = 1\n", "display.stats", 3, "expected true or false, got integer 1"),
        ('[display]\ncolor = "blue"\n', "display.color", 2, "expected one of auto, always, never"),
        ('[history]\nsave = "yes"\n', "history.save", 2, "expected true or false, got string 'yes'"),
        (
            '[profiles.a]\nbase_url = "ftp://localhost:8000"\n',
            "profiles.a.base_url",
            2,
            "expected an http:// or https:// URL",
        ),
        (
            '[profiles.a]\nkind = "tgi"\n',
            "profiles.a.kind",
            2,
            "expected one of auto, vllm, sglang, llamacpp",
        ),
        (
            "[profiles.a]\nread_timeout = -1\n",
            "profiles.a.read_timeout",
            2,
            "expected a positive number of seconds",
        ),
        ("[profiles.a]\nconnect_timeout = true\n", "profiles.a.connect_timeout", 2, "got boolean true"),
        (
            '[profiles.a]\noptions = "temperature=1"\n',
            "profiles.a.options",
            2,
            "expected a table of request fields",
        ),
        (
            "[profiles.a.options]\nseed = 1\nwhen = 2025-01-01\n",
            "profiles.a.options.when",
            3,
            "no dates or times",
        ),
        ("[profiles.a.options.nested]\nat = 07:00:00\n", "profiles.a.options.nested.at", 2, "got a time"),
        (
            '[prompt]\nharmony = "vllm"\n',
            "prompt.harmony",
            2,
            "expected one of openai, oss, got string 'vllm'",
        ),
        (
            "[profiles.a]\nharmony = 1\n",
            "profiles.a.harmony",
            2,
            "expected one of openai, oss, got integer 1",
        ),
        ('prompt = "high"\n', "prompt", 1, "expected a table [prompt], got string 'high'"),
        ('profiles = ["a"]\n', "profiles", 1, "expected a table of profiles"),
        ('default_profile = "gone"\n', "default_profile", 1, "no profile named 'gone'"),
    ],
)
def test_wrong_types_name_file_key_line_and_what_is_expected(
    home: Path, text: str, key: str, line: int, expected: str
) -> None:
    error = error_for(home, text)
    assert (error.key, error.line) == (key, line)
    assert str(error).startswith(f"{home / 'config.toml'}:{line}: {key}: ")
    assert expected in str(error)


def test_the_first_problem_is_raised_and_the_rest_counted(home: Path) -> None:
    error = error_for(home, '[display]\nstats = 1\nmarkdown = 2\n[prompt]\nreasoning = "x"\n')
    assert (error.key, error.line) == ("display.stats", 2)
    assert "2 more problem(s)" in (error.hint or "")
    problems = cfg.read_config_file(check=False).problems()
    assert [(p.key, p.line) for p in problems] == [
        ("display.stats", 2),
        ("display.markdown", 3),
        ("prompt.reasoning", 5),
    ]


def test_an_api_key_in_the_file_is_refused_with_the_fix(home: Path) -> None:
    error = error_for(home, f'[profiles.a]\nbase_url = "https://h"\napi_key = "{KEY}"\n')
    assert (error.key, error.line) == ("profiles.a.api_key", 3)
    assert "never stored" in str(error) and "api_key_env" in (error.hint or "")
    assert KEY not in str(error) and KEY not in (error.hint or "")


def test_a_key_pasted_into_api_key_env_is_not_echoed(home: Path) -> None:
    error = error_for(home, f'[profiles.a]\napi_key_env = "{KEY}"\n')
    assert (error.key, error.line) == ("profiles.a.api_key_env", 2)
    assert "NAME of an environment variable" in str(error)
    assert KEY not in str(error)


# -------------------------------------------------------------------------------------- precedence

FILE = """\
default_profile = "lab"

[prompt]
reasoning = "low"

[profiles.lab]
base_url = "http://lab:8000"
model = "file-model"
kind = "vllm"
api_key_env = "LAB_KEY"

[profiles.lab.options]
temperature = 0.5

[profiles.bare]
kind = "llamacpp"
"""


def test_flags_beat_env_beat_file_beat_defaults(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(home, FILE)
    monkeypatch.setenv("LAB_KEY", KEY)
    s = resolve()
    assert (s.profile_name, s.profile.base_url, s.profile.model, s.prompt.reasoning) == (
        "lab",
        "http://lab:8000",
        "file-model",
        "low",
    )
    assert s.profile.options == {"temperature": 0.5}
    assert s.sources["profile.model"] == f"file {path}:8"
    assert s.sources["profile"] == f"file {path}:1"
    assert s.sources["prompt.identity"] == "default"

    monkeypatch.setenv("GPTOSS_MODEL", "env-model")
    monkeypatch.setenv("GPTOSS_REASONING", "medium")
    monkeypatch.setenv("GPTOSS_BASE_URL", "http://env:1")
    s = resolve()
    assert (s.profile.base_url, s.profile.model, s.prompt.reasoning) == (
        "http://env:1",
        "env-model",
        "medium",
    )
    assert s.sources["profile.model"] == "env GPTOSS_MODEL"

    s = resolve({"model": "flag-model", "reasoning": "HIGH", "base_url": None, "stats": True})
    assert (s.profile.base_url, s.profile.model, s.prompt.reasoning) == ("http://env:1", "flag-model", "high")
    assert s.display.stats is True
    assert s.sources["profile.model"] == "flag --model"
    assert s.sources["display.stats"] == "flag --stats"


def test_profile_selection_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, FILE)
    monkeypatch.setenv("LAB_KEY", KEY)
    assert resolve().profile_name == "lab"
    monkeypatch.setenv("GPTOSS_PROFILE", "bare")
    assert resolve().profile.kind == "llamacpp"
    assert resolve({"profile": "default"}).profile == ProfileConfig()


def test_a_file_with_one_profile_uses_it_without_default_profile(home: Path) -> None:
    write(home, '[profiles.box]\nbase_url = "http://box:8080"\n')
    s = resolve()
    assert (s.profile_name, s.profile.base_url) == ("box", "http://box:8080")
    assert "its only profile" in s.sources["profile"]


def test_unknown_profiles(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, FILE)
    with pytest.raises(UsageError) as usage:
        resolve({"profile": "nope"})
    assert str(usage.value) == "--profile nope: no such profile"
    assert usage.value.hint == "known profiles: bare, default, lab"
    monkeypatch.setenv("GPTOSS_PROFILE", "nope")
    with pytest.raises(ConfigError) as config_error:
        resolve()
    assert config_error.value.key == "GPTOSS_PROFILE"


def test_bad_values_from_env_and_flags_name_their_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTOSS_REASONING", "max")
    with pytest.raises(ConfigError) as env_error:
        resolve()
    assert str(env_error.value) == "GPTOSS_REASONING: expected one of low, medium, high, got string 'max'"
    monkeypatch.delenv("GPTOSS_REASONING")
    with pytest.raises(UsageError) as flag_error:
        resolve({"kind": "tgi"})
    assert str(flag_error.value).startswith("--kind: expected one of auto, vllm")
    with pytest.raises(UsageError, match="--read-timeout: expected a positive number"):
        resolve({"read_timeout": 0})


def test_unknown_flag_keys_are_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="unknown flag keys: temprature"):
        resolve({"temprature": 1})


def test_openai_variables_fill_in_only_what_the_file_leaves_unset(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    s = resolve()  # no file: the built-in profile takes both
    assert s.profile.base_url == "https://api.example.com/v1"
    assert s.api_key is not None and s.api_key.reveal() == "sk-openai"
    assert s.sources["profile.base_url"] == "env OPENAI_BASE_URL"

    write(home, FILE)
    monkeypatch.setenv("LAB_KEY", KEY)
    s = resolve()  # the lab profile sets both: the OpenAI key must not go to the lab server
    assert s.profile.base_url == "http://lab:8000"
    assert s.api_key is not None and s.api_key.reveal() == KEY
    s = resolve({"profile": "bare"})  # sets neither
    assert s.profile.base_url == "https://api.example.com/v1"
    assert s.api_key is not None and s.api_key.source == "env OPENAI_API_KEY"


def test_api_key_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, FILE)
    monkeypatch.setenv("LAB_KEY", "from-profile")
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    monkeypatch.setenv("OTHER", "from-flag")
    assert resolve().api_key == Secret("from-profile", "env LAB_KEY")
    monkeypatch.setenv("GPTOSS_API_KEY", "from-gptoss")
    assert resolve().api_key == Secret("from-gptoss", "env GPTOSS_API_KEY")
    s = resolve({"api_key_env": "OTHER"})
    assert s.api_key == Secret("from-flag", "env OTHER")
    assert s.sources["api_key"] == "env OTHER"
    assert s.profile.api_key_env == "OTHER"


def test_missing_key_variables(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(home, FILE)
    with pytest.raises(ConfigError) as info:
        resolve()
    assert (info.value.file, info.value.line, info.value.key) == (str(path), 10, "profiles.lab.api_key_env")
    assert "$LAB_KEY is not set" in str(info.value)
    with pytest.raises(UsageError, match=r"--api-key-env NOPE: \$NOPE is not set"):
        resolve({"api_key_env": "NOPE", "profile": "bare"})
    shown = resolve(require_key=False)  # config show, --dry-run: say so instead of failing
    assert shown.api_key is None
    assert shown.sources["api_key"] == "missing: $LAB_KEY is not set"
    assert (
        resolve({"api_key_env": "NOPE"}, require_key=False).sources["api_key"] == "missing: $NOPE is not set"
    )


def test_the_api_key_is_redacted_everywhere(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, FILE)
    monkeypatch.setenv("LAB_KEY", KEY)
    s = resolve()
    assert s.api_key is not None and s.api_key.reveal() == KEY
    shown = [repr(s), str(s), repr(s.api_key), str(s.api_key), f"{s.api_key}", json.dumps(s.to_dict())]
    for text in shown:
        assert KEY not in text
    assert s.to_dict()["api_key"] == "<redacted>"
    assert "LAB_KEY" in repr(s.api_key)  # the variable's name is fine to show
    with pytest.raises(TypeError):
        pickle.dumps(s.api_key)
    assert KEY not in repr(dataclasses.asdict(s))  # asdict deep-copies: the Secret survives it, redacted


# ------------------------------------------------------------------------------------------ get/set


def test_get_value(home: Path) -> None:
    write(home, FILE)
    config = load_config()
    assert get_value(config, "prompt.reasoning") == "low"
    assert get_value(config, "prompt.identity") == cfg.DEFAULT_IDENTITY
    assert get_value(config, "profiles.lab.options.temperature") == 0.5
    assert get_value(config, "profiles.lab.options.top_p") is None
    assert get_value(config, "profiles.bare.model") is None
    assert get_value(config, "profiles.default.base_url") == cfg.DEFAULT_BASE_URL
    assert get_value(config, "default_profile") == "lab"
    assert get_value(config, "display") == {
        "show_reasoning": False,
        "markdown": True,
        "stats": False,
        "color": "auto",
    }
    with pytest.raises(ConfigError, match=r"^prompt\.reasonig: unknown key$"):
        get_value(config, "prompt.reasonig")
    with pytest.raises(ConfigError, match="no profile named 'nope'"):
        get_value(config, "profiles.nope.model")
    with pytest.raises(ConfigError, match="not a valid key"):
        get_value(config, "prompt..x")


def test_format_value_for_config_get() -> None:
    assert cfg.format_value(None) == ""
    assert cfg.format_value("x") == '"x"'
    assert cfg.format_value(True) == "true"
    assert cfg.format_value({"a": [1, "b"], "c d": {}}) == '{ a = [1, "b"], "c d" = {} }'
    assert cfg.format_value("two\nlines") == '"""\ntwo\nlines"""'


def test_set_edits_in_place_and_keeps_comments(home: Path) -> None:
    path = write(home, '# top comment\n[prompt]\nreasoning = "low"  # keep me\n\n[display]\nstats = false\n')
    result = set_value("prompt.reasoning", "high")
    assert result.comments_kept and not result.created
    assert (
        path.read_text()
        == '# top comment\n[prompt]\nreasoning = "high"  # keep me\n\n[display]\nstats = false\n'
    )
    set_value("display.stats", "true")
    set_value("prompt.identity", "You are a pirate.")
    set_value("default_profile", "default")
    assert path.read_text() == (
        '# top comment\ndefault_profile = "default"\n\n[prompt]\nreasoning = "high"  # keep me\n'
        'identity = "You are a pirate."\n\n[display]\nstats = true\n'
    )
    set_value("profiles.gpu.base_url", "http://gpu:8000/v1")
    set_value("profiles.gpu.options.stop", '["<|call|>"]')
    assert path.read_text().endswith(
        '\n[profiles.gpu]\nbase_url = "http://gpu:8000/v1"\n\n[profiles.gpu.options]\nstop = ["<|call|>"]\n'
    )
    config = load_config()
    assert config.profiles["gpu"].options == {"stop": ["<|call|>"]}


def test_a_new_top_level_key_goes_above_the_comment_of_the_first_table(home: Path) -> None:
    path = write(home, "# file comment\n\n# about prompt\n[prompt]\nreasoning = 'low'\n")
    set_value("default_profile", "default")
    assert path.read_text() == (
        "# file comment\n\ndefault_profile = \"default\"\n\n# about prompt\n[prompt]\nreasoning = 'low'\n"
    )


def test_set_on_a_missing_file_starts_from_the_template(home: Path) -> None:
    result = set_value("profiles.local.model", "openai/gpt-oss-20b")
    assert result.created and result.comments_kept
    text = result.path.read_text()
    assert "# Server profiles" in text
    assert 'model = "openai/gpt-oss-20b"\n' in text
    assert '# model = "openai/gpt-oss-20b"' not in text  # the commented example became the setting
    assert load_config().profiles["local"].model == "openai/gpt-oss-20b"


def test_set_replaces_a_value_inside_an_inline_table(home: Path) -> None:
    path = write(home, '[profiles]\nbox = { base_url = "http://box", kind = "vllm" }  # mine\n')
    set_value("profiles.box.kind", "sglang")
    assert path.read_text() == '[profiles]\nbox = { base_url = "http://box", kind = "sglang" }  # mine\n'


def test_set_falls_back_to_tomli_w_when_the_layout_defeats_editing(home: Path) -> None:
    path = write(home, '# gone after\nprompt.reasoning = "low"\n[display]\nstats = true\n')
    result = set_value("prompt.identity", "x")
    assert not result.comments_kept
    assert tomllib.loads(path.read_text()) == {
        "prompt": {"reasoning": "low", "identity": "x"},
        "display": {"stats": True},
    }


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("display.stats", "true", True),
        ("prompt.date", "2025-08-05", "2025-08-05"),  # a TOML date, stored as the string the schema wants
        ("prompt.knowledge_cutoff", "2024-06", "2024-06"),  # not TOML: a string
        ("prompt.reasoning", "HIGH", "high"),
        ("prompt.instructions", "true", "true"),  # parses as a boolean, but the key wants a string
        ("profiles.local.model", "120", "120"),
        ("profiles.local.read_timeout", "900", 900.0),
        ("profiles.local.options.seed", "42", 42),
        ("profiles.local.options.response_format", '{type = "json"}', {"type": "json"}),
        ("profiles.local.options", "{top_p = 0.9}", {"top_p": 0.9}),
        ("prompt.instructions", "Line one\nline two", "Line one\nline two"),
        ('profiles."my.box".base_url', "http://my-box", "http://my-box"),
    ],
)
def test_set_value_parsing(key: str, raw: str, stored: Any) -> None:
    result = set_value(key, raw)
    assert result.value == stored
    assert get_value(load_config(), key) == stored


def test_set_rejects_bad_values_and_changes_nothing(home: Path) -> None:
    path = write(home, "[display]\nstats = false\n")
    cases = [
        ("display.stats", "maybe", "display.stats: expected true or false, got string 'maybe'"),
        ("prompt.reasoning", "max", "prompt.reasoning: expected one of low, medium, high"),
        ("prompt.colour", "x", "prompt.colour: unknown key"),
        ("prompt", "x", "prompt: is a table"),
        ("default_profile", "ghost", "no profile named 'ghost'"),
        ("profiles.x.api_key_env", KEY, "NAME of an environment variable"),
    ]
    for key, raw, message in cases:
        with pytest.raises(ConfigError) as info:
            set_value(key, raw)
        assert message in str(info.value)
        assert KEY not in str(info.value)
    assert path.read_text() == "[display]\nstats = false\n"


def test_set_on_broken_toml_reports_it_and_changes_nothing(home: Path) -> None:
    path = write(home, "[display\n")
    with pytest.raises(ConfigError) as info:
        set_value("display.stats", "true")
    assert info.value.line == 1
    assert path.read_text() == "[display\n"


def test_set_is_atomic(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(home, "[display]\nstats = false\n")

    def fail(*_args: object) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ConfigError, match="cannot write config file: Permission denied"):
        set_value("display.stats", "true")
    assert path.read_text() == "[display]\nstats = false\n"
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]


# ------------------------------------------------------------------------------------- the scanner


def test_scanner_handles_what_toml_allows() -> None:
    text = (
        "# comment = 1\n"  # 1
        'a = "x # not a comment"  # comment\n'  # 2
        "m = '''\n"  # 3
        "[fake]\n"  # 4
        "k = 1\n"  # 5
        "'''\n"  # 6
        "arr = [\n"  # 7
        "  [1, 2],\n"  # 8
        '  "]",\n'  # 9
        "]\n"  # 10
        '[ t . "q.k" ]\n'  # 11
        "'lit' . bare = 1\n"  # 12
        '"esc\\"aped" = 2\n'  # 13
        "[[arr2]]\n"  # 14
        "x = 1\n"  # 15
        's = """a\\\n'  # 16
        '  b"""\n'  # 17
        "after = 0\n"  # 18
    )
    where = scan(text)
    assert tomllib.loads(text)  # valid TOML
    lines = {e.path: e.line for e in where.entries}
    assert lines == {
        ("a",): 2,
        ("m",): 3,
        ("arr",): 7,
        ("t", "q.k"): 11,
        ("t", "q.k", "lit", "bare"): 12,
        ("t", "q.k", 'esc"aped'): 13,
        ("arr2",): 14,
        ("arr2", "x"): 15,
        ("arr2", "s"): 16,
        ("arr2", "after"): 18,
    }
    pair = where.pair(("a",))
    assert pair is not None and text[pair.value_start : pair.value_end] == '"x # not a comment"'
    arr = where.pair(("arr",))
    assert arr is not None and arr.end_line == 10
    assert where.line_of(("t",)) == 11  # a table defined only by a deeper header


def test_parse_and_format_keys() -> None:
    assert parse_key('profiles."my.box" . model') == ("profiles", "my.box", "model")
    assert parse_key("a..b") is None
    assert parse_key("a b") is None
    assert format_key("plain-key_1") == "plain-key_1"
    assert format_key("has space") == '"has space"'
    assert format_key('q"uote\n') == '"q\\"uote\\n"'


_keys = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=6)
_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=4)
_docs = st.recursive(
    st.dictionaries(_keys, _values, max_size=3),
    lambda inner: st.dictionaries(_keys, st.one_of(_values, inner), max_size=3),
    max_leaves=8,
)


def _leaves(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


@settings(max_examples=200, deadline=None)
@given(_docs)
def test_scanner_finds_every_key_tomli_w_writes(doc: dict[str, Any]) -> None:
    text = tomli_w.dumps(doc)
    where = scan(text)
    lines = text.split("\n")
    for path, _value in _leaves(doc):
        pair = where.pair(path)
        assert pair is not None, (path, text)
        assert where.line_of(path) == pair.line
        key_text = lines[pair.line - 1][: pair.value_start - text.rfind("\n", 0, pair.value_start) - 1]
        assert key_text.rstrip().endswith("="), (path, text)
        assert parse_key(key_text.rstrip()[:-1].strip()) == path[len(pair.table) :]


@settings(max_examples=200, deadline=None)
@given(_docs, st.data())
def test_in_place_edits_give_exactly_the_intended_data(doc: dict[str, Any], data: st.DataObject) -> None:
    text = "# header comment\n" + tomli_w.dumps(doc)
    leaves = list(_leaves(doc))
    path = data.draw(st.sampled_from([p for p, _ in leaves])) if leaves else ("new",)
    existing = bool(leaves)
    if data.draw(st.booleans()):
        path = (*path[:-1], data.draw(_keys))  # a key that may not exist yet
        existing = False
    new_doc = json.loads(json.dumps(doc))
    node = new_doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = data.draw(_values)
    edited = _edit_in_place(text, path, new_doc)
    if existing:
        assert edited is not None  # replacing an existing value never needs the comment-losing fallback
    if edited is not None:
        assert tomllib.loads(edited) == new_doc
        assert edited.startswith("# header comment\n")


def test_windows_line_endings_keep_lines_right(home: Path) -> None:
    error = error_for(home, '[prompt]\r\n# note\r\nreasoning = "x"\r\n')
    assert (error.key, error.line) == ("prompt.reasoning", 3)
    write(home, '[prompt]\r\nreasoning = "low"  # mine\r\n')
    set_value("prompt.reasoning", "high")
    assert (home / "config.toml").read_bytes() == b'[prompt]\r\nreasoning = "high"  # mine\r\n'


def test_an_unquoted_toml_date_is_accepted_for_prompt_date(home: Path) -> None:
    write(home, "[prompt]\ndate = 2025-08-05\n")
    assert load_config().prompt.date == "2025-08-05"


def test_every_gptoss_variable_is_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, FILE)
    values = {
        "GPTOSS_PROFILE": "bare",
        "GPTOSS_BASE_URL": "https://b.example",
        "GPTOSS_MODEL": "m",
        "GPTOSS_KIND": "ollama",
        "GPTOSS_REASONING": "high",
        "GPTOSS_API_KEY": KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = resolve()
    assert (s.profile_name, s.profile.base_url, s.profile.model, s.profile.kind, s.prompt.reasoning) == (
        "bare",
        "https://b.example",
        "m",
        "ollama",
        "high",
    )
    assert s.api_key is not None and s.api_key.reveal() == KEY
    assert set(values) <= set(cfg.ENV_VARS)


def test_harmony_form_global_and_per_profile(home: Path) -> None:
    from gptoss_cli.harmony import HARMONY_FORMS

    assert cfg.HARMONY_CHOICES == HARMONY_FORMS
    assert resolve().harmony == "openai" and resolve().harmony_source == "default"
    path = write(home, '[prompt]\nharmony = "OSS"\n[profiles.a]\n[profiles.b]\nharmony = "openai"\n')
    a, b = resolve({"profile": "a"}), resolve({"profile": "b"})
    assert (a.harmony, b.harmony) == ("oss", "openai")
    assert a.harmony_source == f"file {path}:2" and b.harmony_source == f"file {path}:5"
    assert a.to_dict()["prompt"]["harmony"] == "oss"
