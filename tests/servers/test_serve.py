"""``gptoss serve``: choosing the engine and its flags, downloads from a (local) Hugging Face hub, and a
server that dies during start-up. The server running for real is in tests/llama/test_serve_llama.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gptoss_cli import errors
from gptoss_cli.servers.serve import download, engine_for, is_repo_id, plan

from ..hf_hub import HubServer


def _fake_binary(directory: Path, name: str, script: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_gguf_file_runs_on_llama_server_with_the_flags_gptoss_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "gpt-oss-20b.gguf"
    model.write_bytes(b"GGUF")
    binary = _fake_binary(tmp_path / "bin", "llama-server", "exit 0")
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ['PATH']}")
    served = plan(model, context=8192)
    assert served.engine == "llamacpp" and served.base_url == "http://127.0.0.1:8080"
    argv = list(served.argv)
    assert argv[0] == str(binary) and argv[argv.index("-m") + 1] == str(model)
    assert argv[argv.index("-c") + 1] == "8192" and argv[argv.index("-np") + 1] == "1"
    assert "--special" in argv


def test_a_checkpoint_directory_is_vllms(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert engine_for(tmp_path) == "vllm"
    with pytest.raises(errors.UsageError):
        engine_for(tmp_path / "config.json")


def test_no_llama_server_installed_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(errors.ServerError, match="llama-server is not installed"):
        plan(model)


def test_repo_ids_and_paths_are_told_apart(tmp_path: Path) -> None:
    assert is_repo_id("ggml-org/gpt-oss-20b-GGUF") and is_repo_id("ggml-org/gpt-oss-20b-GGUF:x.gguf")
    assert not is_repo_id(str(tmp_path)) and not is_repo_id("./a/b") and not is_repo_id("model.gguf")


def test_download_from_the_hub_resumes_and_reuses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "src" / "tiny.gguf"
    weights.parent.mkdir()
    weights.write_bytes(os.urandom(300_000))
    with HubServer("acme/tiny-GGUF", {"tiny.gguf": weights, "README.md": weights}) as hub:
        import huggingface_hub.constants as hf

        monkeypatch.setattr(hf, "ENDPOINT", hub.url)
        monkeypatch.setattr(
            hf, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
        )
        got = download("acme/tiny-GGUF", cache_dir=tmp_path / "hf")
        assert got.read_bytes() == weights.read_bytes()
        again = download("acme/tiny-GGUF", cache_dir=tmp_path / "hf")
        assert again == got
        assert [r for r in hub.requests if r[0] == "GET" and r[1].endswith("tiny.gguf")] == [
            ("GET", "/acme/tiny-GGUF/resolve/main/tiny.gguf")
        ]  # the second call only asked for the metadata
        with pytest.raises(errors.UsageError, match=r"no file nope\.gguf"):
            download("acme/tiny-GGUF:nope.gguf", cache_dir=tmp_path / "hf")
        with pytest.raises(errors.TransportError, match="cannot download acme/missing"):
            download("acme/missing", cache_dir=tmp_path / "hf")


def test_a_server_that_dies_at_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    bin_dir = tmp_path / "bin"
    _fake_binary(bin_dir, "llama-server", 'echo "error: failed to load model $2" >&2; exit 3')
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GPTOSS_HOME": str(tmp_path / "h"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "gptoss_cli", "serve", str(model), "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "llama-server exited with code 3 before it was ready" in done.stderr
    assert "failed to load model" in done.stderr and "Traceback" not in done.stderr


def test_the_model_offered_follows_what_is_installed_and_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gptoss_cli.servers.serve import DEFAULT_MODEL, default_model

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert default_model(None) is None  # nothing installed to serve with: nothing offered
    binary = _fake_binary(tmp_path / "bin", "llama-server", "exit 0")
    monkeypatch.setenv("PATH", str(binary.parent))
    assert default_model(None) == DEFAULT_MODEL == "ggml-org/gpt-oss-20b-GGUF"
    assert default_model("gpt-oss-20b") == DEFAULT_MODEL  # a served model's name, not something to serve
    assert default_model("acme/gpt-oss-GGUF") == "acme/gpt-oss-GGUF"
    local = tmp_path / "m.gguf"
    local.write_bytes(b"GGUF")
    assert default_model(str(local)) == str(local)


def test_a_model_that_cannot_be_served_is_told_before_anything_starts(tmp_path: Path) -> None:
    from gptoss_cli.servers.serve import model_problem

    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "empty").mkdir()
    assert model_problem(str(tmp_path / "m.gguf")) is None and model_problem("acme/tiny-GGUF") is None
    assert "no such file or directory" in str(model_problem(str(tmp_path / "nope.gguf")))
    assert "neither a .gguf file nor a model directory" in str(model_problem(str(tmp_path / "empty")))
