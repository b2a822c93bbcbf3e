"""The fuzz tier: random servers and files through the real CLI boundary (issue 11).

Every example runs ``gptoss`` in-process with its real error boundary and expects what a user must
always get: exit code 0, 1 or 2 (never a crash), and on failure one ``gptoss: error:`` line: never
"internal error", never a traceback. Bounded (a few dozen examples each, no deadline) so the tier
adds seconds, not minutes, to the default run; ``GPTOSS_FUZZ_EXAMPLES=N`` runs N per test.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from ..cli.runner import Result

EXAMPLES = int(os.environ.get("GPTOSS_FUZZ_EXAMPLES", "0")) or None


def fuzz(examples: int) -> settings:
    """Hypothesis settings for one fuzz test: ``examples`` in the default run (fixed, so CI runs the same
    ones every time), or ``GPTOSS_FUZZ_EXAMPLES`` random ones for a longer exploration."""
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=EXAMPLES is None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )


def assert_clean(result: Result, codes: tuple[int, ...] = (0, 1, 2)) -> None:
    """No crash: an expected exit code, no internal error, no traceback; a failure says why in one line."""
    err = result.stderr
    assert result.code in codes, (result.code, err)
    assert "internal error" not in err, err
    assert "Traceback" not in err, err
    if result.code != 0:
        errors = [line for line in err.splitlines() if line.startswith("gptoss: error: ")]
        assert len(errors) == 1, err
        assert len(errors[0]) < 2000, errors[0][:300]
