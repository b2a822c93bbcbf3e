"""``gptoss doctor`` (a subprocess, as a user runs it) against the real vLLM.

The model's answers to doctor's probes are forced at the level of token ids by the server's replies
file (tests/vllm/replies.py): "OK" then ``<|return|>`` (200002), ``{}`` then ``<|call|>`` (200012),
chosen by the prompt's last ids, as a trained gpt-oss would answer. What is judged is what vLLM does
with them: which special tokens reach the text, what stops generation, how prompts are counted.
"""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_cli.doctor.checks import (
    CALL_ENDS,
    CONTENT,
    LIMIT,
    MARKERS,
    MODELS,
    RETURN_ENDS,
    SERVER,
    TOKEN_IDS,
)

from .forcing import gptoss
from .server import MAX_MODEL_LEN, SERVED_NAME, VllmServer


def test_doctor_passes_the_real_vllm(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids (server replies). Proves: with the vllm profile, the real server keeps control
    tokens, stops on <|return|> and <|call|> with them in the text, takes token-id prompts, and gets
    a generation limit from the context length vLLM reports (--max-model-len), not its default of 16."""
    done = gptoss(["doctor", "--base-url", vllm_server.base_url], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.startswith(f"gptoss doctor: {vllm_server.base_url} can serve Harmony (vLLM 0.32.0")

    report = json.loads(gptoss(["doctor", "--base-url", vllm_server.base_url, "--json"], tmp_path).stdout)
    assert report["can_serve_harmony"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert [c for c in checks.values() if c["status"] == "fail"] == []
    assert checks[SERVER]["detail"] == "vLLM 0.32.0, from /v1/models; profile vllm"
    assert checks[MODELS]["detail"] == f"using {SERVED_NAME!r}"
    assert checks[MARKERS]["detail"] == (
        "<|channel|> and <|message|> arrive as text ('<|channel|>final<|message|>OK<|return|>')"
    )
    assert checks[RETURN_ENDS]["detail"] == "generation stopped on <|return|> (<|return|> is in the text)"
    assert checks[CALL_ENDS]["detail"] == "generation stopped on <|call|> (<|call|> is in the text)"
    assert checks[TOKEN_IDS]["status"] == checks[CONTENT]["status"] == "ok"
    assert checks[LIMIT]["status"] == "ok"
    assert f"the server's {MAX_MODEL_LEN:,}-token context" in checks[LIMIT]["detail"]


def test_doctor_catches_vllms_default_of_skipping_special_tokens(
    vllm_server: VllmServer, tmp_path: Path
) -> None:
    """Forces token ids (server replies, the probe sent as text). Proves: with the generic profile
    (no skip_special_tokens=false) vLLM's default strips the control tokens, and doctor fails it with
    the fix; the terminators still end generation, named by vLLM's stop_reason."""
    done = gptoss(["doctor", "--base-url", vllm_server.base_url, "--kind", "openai", "--json"], tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["can_serve_harmony"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks[MARKERS]["status"] == "fail"
    assert checks[MARKERS]["detail"] == "control tokens are stripped from the output: 'finalOK'"
    assert (
        checks[MARKERS]["fix"]
        == "send skip_special_tokens=false: use --kind vllm (or -o skip_special_tokens false)"
    )
    assert checks[CALL_ENDS]["detail"] == "generation stopped on <|call|> (stop_reason 200012)"
    assert checks[SERVER]["fix"] == "drop --kind (or use --kind vllm)"
