"""``gptoss doctor``: can the server at a base URL serve Harmony correctly? (session layer, no UI)

:func:`run_doctor` runs the checks in order and returns a :class:`DoctorReport` of pure values:

1. **reachable**: ``GET /v1/models`` connects (the URL is named when it does not).
2. **auth**: no 401/403, here or on a completion; a refusal names the env var holding the key.
3. **server**: kind and version, probed fresh (``servers.detect.detect_server``); the profile used is
   the detected kind or ``--kind``. Ollama through ``/v1/completions`` fails here.
4. **models**: the model to use: ``--model`` (which must be served) or the only one served.
4b. **generation limit**: the ``max_tokens`` gptoss would send with a first question (the room left in
   the context the server reports, capped by the profile's ``max_tokens``); it fails when an answer of
   :data:`WHOLE_ANSWER` tokens would be cut, and warns when the server does not report its context.
5. the completion probes of :mod:`gptoss_cli.doctor.probes`, judged by :mod:`gptoss_cli.doctor.checks`:
   token-id prompts accepted; control tokens in the output; ``<|return|>`` and ``<|call|>`` end
   generation (and can be told apart); the literal ``<|end|>`` in user text cannot become the control
   token; on llama.cpp whether the server itself renders terminators (``--special``); first-token
   latency and tokens/s.

Requests, in order: ``GET /v1/models``, the detection probes, then ``POST`` to the profile's endpoint:
the plain probe (again as text if ids were refused), then the final and call probes (forced on
llama.cpp, where a last forced final probe goes without ``preserved_tokens``). No retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gptoss_cli import errors
from gptoss_cli.doctor.checks import (
    AUTH,
    LIMIT,
    MARKERS,
    MODELS,
    OPTIONAL,
    ORDER,
    REACHABLE,
    SERVER,
    Check,
    Status,
    judge_content,
    judge_latency,
    judge_markers,
    judge_special,
    judge_speed,
    judge_stop,
    judge_token_ids,
)
from gptoss_cli.doctor.probes import (
    NATURAL_MAX_TOKENS,
    PLAIN_MAX_TOKENS,
    ProbeResult,
    Target,
    call_prompt,
    final_prompt,
    forced,
    forced_prompt,
    plain_prompt,
    run_probe,
)
from gptoss_cli.doctor.report import DEFAULT_KEY_ENVS, DOCTOR_TIMEOUTS, DoctorOptions, DoctorReport
from gptoss_cli.harmony import Message, Role, pieces_to_tokens
from gptoss_cli.harmony.tokens import CALL, RETURN
from gptoss_cli.servers.detect import ServerInfo, context_length, detect_server, server_notes
from gptoss_cli.servers.limits import choose_limit
from gptoss_cli.servers.profiles import PROFILES, ServerProfile, get_profile
from gptoss_cli.session.turn import ChatSettings, build_prompt
from gptoss_cli.transport.client import (
    PROBE_TIMEOUTS,
    HTTPClient,
    ModelInfo,
    get_json,
    make_client,
    normalize_base_url,
    parse_models,
    redact_url,
)

__all__ = ["DOCTOR_TIMEOUTS", "Check", "DoctorOptions", "DoctorReport", "Status", "run_doctor"]


def run_doctor(options: DoctorOptions, *, client: HTTPClient | None = None) -> DoctorReport:
    """Run every check against ``options.base_url``. Raises only UsageError (an unknown profile kind)."""
    if options.profile_kind is not None:
        get_profile(options.profile_kind)
    run = _Run(options)
    http = client if client is not None else make_client(options.timeouts)
    try:
        _diagnose(run, http)
    except _Stop as stop:
        run.skip_rest(stop.reason)
    finally:
        if client is None:
            http.close()
    return run.report()


class _Stop(Exception):
    """Internal: no further check can run (the server is down, the key refused...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Run:
    """The checks gathered so far, and what was learnt on the way."""

    def __init__(self, options: DoctorOptions) -> None:
        self.options = options
        self.root = normalize_base_url(options.base_url)
        self.shown = redact_url(self.root).removesuffix("/") if not self.root.endswith("/") else self.root
        """The root as printed: without credentials (a URL may carry ``user:secret@``)."""
        self.checks: dict[str, Check] = {}
        self.info: ServerInfo | None = None
        self.profile: ServerProfile | None = None
        self.model: str | None = None

    def add(self, check: Check) -> None:
        self.checks[check.name] = check

    def skip_rest(self, reason: str) -> None:
        for name in ORDER:
            if name not in self.checks and name not in OPTIONAL:
                self.add(Check(name, "skip", f"not checked: {reason}"))

    def report(self) -> DoctorReport:
        info = self.info
        return DoctorReport(
            base_url=self.shown,
            checks=tuple(self.checks[name] for name in ORDER if name in self.checks),
            kind=info.kind if info is not None else None,
            version=info.version if info is not None else None,
            profile=self.profile.kind if self.profile is not None else None,
            model=self.model,
        )

    def auth_failure(self, status: int, where: str, message: str) -> _Stop:
        """Record a 401/403 as the auth check's failure; the caller raises what this returns."""
        env = self.options.api_key_env
        if self.options.api_key:
            fix = f"the key in ${env} was refused: check it" if env else "the key was refused: check it"
            if status == 403:
                fix += " and its permissions"
        elif env:
            fix = f"${env} is not set: export {env}=<the server's API key>"
        else:
            names = " or ".join(DEFAULT_KEY_ENVS)
            fix = f"set {names} to the server's API key (or name another variable with --api-key-env)"
        self.add(Check(AUTH, "fail", f"{where} answered HTTP {status}: {message}", fix))
        return _Stop("the server refused the request (auth)")


# ---------------------------------------------------------------------------------------------- steps


def _diagnose(run: _Run, http: HTTPClient) -> None:
    listing = _reachable(run, http)
    info, profile = _server(run, http)
    _models(run, http, listing)
    _limit(run, http, listing, profile)
    _generation(run, http, info, profile)


@dataclass(frozen=True)
class _Listing:
    models: list[ModelInfo] | None
    problem: str | None = None


def _reachable(run: _Run, http: HTTPClient) -> _Listing:
    url = run.root + "/v1/models"
    key = run.options.api_key
    start = time.perf_counter()
    try:
        answer = get_json(url, api_key=key, timeouts=PROBE_TIMEOUTS, client=http)
    except (errors.ConnectError, errors.TimeoutError) as exc:
        fix = "start the server, or point gptoss at it with --base-url URL or GPTOSS_BASE_URL"
        run.add(Check(REACHABLE, "fail", str(exc), fix))
        raise _Stop(f"{run.shown} is not reachable") from exc
    except errors.HTTPStatusError as exc:
        run.add(Check(REACHABLE, "ok", f"{run.shown} answers (HTTP {exc.status} for GET /v1/models)"))
        if exc.status in (401, 403):
            raise run.auth_failure(exc.status, url, exc.server_message or "refused") from exc
        _auth_ok(run)
        return _Listing(None, f"GET /v1/models answered HTTP {exc.status}")
    except errors.TransportError as exc:
        run.add(Check(REACHABLE, "ok", f"{run.shown} answers"))
        _auth_ok(run)
        return _Listing(None, str(exc))
    elapsed = (time.perf_counter() - start) * 1000
    run.add(Check(REACHABLE, "ok", f"{redact_url(url)} answered in {elapsed:.0f} ms"))
    _auth_ok(run)
    try:
        return _Listing(parse_models(answer))
    except errors.ProtocolError as exc:
        return _Listing(None, str(exc))


def _auth_ok(run: _Run) -> None:
    env = run.options.api_key_env
    if run.options.api_key:
        run.add(Check(AUTH, "ok", f"the key in ${env} is accepted" if env else "the key is accepted"))
    else:
        run.add(Check(AUTH, "ok", "no key sent, none needed"))


def _server(run: _Run, http: HTTPClient) -> tuple[ServerInfo, ServerProfile]:
    try:
        info = detect_server(run.root, api_key=run.options.api_key, client=http)
    except (errors.ConnectError, errors.TimeoutError) as exc:
        run.add(Check(SERVER, "fail", f"detection failed: {exc}", exc.hint))
        raise _Stop("the server went away") from exc
    run.info = info
    kind = run.options.profile_kind or info.kind
    server = PROFILES[info.kind]
    version = info.version or "(version unknown)"
    found = (
        f"{server.title} ({info.source})"
        if server.generic
        else f"{server.title} {version}, from {info.source}"
    )
    refusal = server.doctor.refused.get(PROFILES[kind].endpoint)
    if refusal is not None:
        run.add(Check(SERVER, "fail", f"{found}: {refusal.detail}", refusal.fix))
        raise _Stop(refusal.reason)
    profile = get_profile(kind)
    run.profile = profile
    used = f"; profile {profile.kind}"
    if info.kind != kind and not server.generic:
        fix = f"drop --kind (or use --kind {info.kind})"
        run.add(Check(SERVER, "warn", f"{found}{used}, made for {profile.title}", fix))
        return info, profile
    notes = [note for note in server_notes(info) if note.fix is not None]
    if notes:
        run.add(Check(SERVER, "warn", f"{found}{used}: {notes[0].say(info.version)}", notes[0].fix))
        return info, profile
    run.add(Check(SERVER, "ok", found + used))
    return info, profile


def _other_models(run: _Run, http: HTTPClient, server: ServerProfile) -> list[ModelInfo] | None:
    """The models the server lists elsewhere than ``/v1/models`` (Ollama's ``/api/tags``), if it does."""
    source = server.other_models
    if source is None:
        return None
    try:
        answer = get_json(run.root + source.path, api_key=run.options.api_key, client=http)
    except errors.TransportError:
        return None
    return source.read(answer.data)


def _looks_gptoss(model: str) -> bool:
    flat = model.lower().replace("_", "-")
    return "gpt-oss" in flat or "gptoss" in flat


def _models(run: _Run, http: HTTPClient, listing: _Listing) -> None:
    wanted = run.options.model
    models = listing.models
    server = PROFILES[run.info.kind] if run.info is not None else None
    if models is None and server is not None:
        models = _other_models(run, http, server)
    if models is None:
        run.model = wanted
        using = f"using --model {wanted}" if wanted else "sending no model name"
        fix = None if wanted else "pass --model M if the server needs one"
        run.add(Check(MODELS, "warn", f"cannot list models ({listing.problem}); {using}", fix))
        return
    names = [m.id for m in models]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    if wanted is not None and names and wanted not in names:
        fix = f"pass --model {names[0]}" if len(names) == 1 else f"pass --model with one of: {shown}"
        run.add(Check(MODELS, "fail", f"{wanted!r} is not served here; served: {shown}", fix))
        raise _Stop("the model is not served")
    if wanted is None and len(names) > 1:
        run.add(Check(MODELS, "fail", f"{len(names)} models served: {shown}", "pass --model M"))
        raise _Stop("no model chosen")
    if wanted is None and not names:
        if server is not None and server.doctor.no_model is not None:
            run.add(Check(MODELS, "fail", f"{server.title} has no model", server.doctor.no_model))
            raise _Stop("no model")
        run.add(Check(MODELS, "warn", "the server lists no models; sending no model name"))
        return
    run.model = wanted if wanted is not None else names[0]
    if not _looks_gptoss(run.model):
        detail = f"{run.model!r} does not look like a gpt-oss model (Harmony is gpt-oss's format)"
        run.add(Check(MODELS, "warn", detail, "pass --model with a gpt-oss model"))
        return
    run.add(Check(MODELS, "ok", f"using {run.model!r}" + (f" (served: {shown})" if len(names) > 1 else "")))


# ------------------------------------------------------------------------------------- generation limit

WHOLE_ANSWER = 200
"""An answer of this many tokens must fit under the limit gptoss would send, or the check fails."""


def _limit(run: _Run, http: HTTPClient, listing: _Listing, profile: ServerProfile) -> None:
    """The generation limit gptoss sends with a first question, and whether an answer fits under it."""
    context = profile.context_from_body(profile.build_body()) or context_length(
        run.root, profile, run.model, api_key=run.options.api_key, models=listing.models, client=http
    )
    prompt = len(
        pieces_to_tokens(build_prompt(ChatSettings().prefix(), [_question()], form=run.options.harmony))
    )
    try:
        limit = choose_limit(
            option=None,
            config=run.options.max_tokens,
            context_length=context,
            prompt_tokens=prompt,
            context_fix=profile.context_fix,
        )
    except errors.ContextFullError as exc:
        run.add(Check(LIMIT, "fail", f"a first question: {exc}", exc.hint))
        return
    default = profile.default_max_tokens
    without = (
        f"; without a limit {profile.title} would stop after {default} tokens"
        if default is not None and not profile.generic
        else ""
    )
    detail = f"max_tokens {limit.describe()} for a first question{without}"
    if limit.tokens < WHOLE_ANSWER:
        fix = limit.raise_hint()
        run.add(Check(LIMIT, "fail", f"{detail}: a {WHOLE_ANSWER}-token answer would be cut", fix))
    elif limit.source == "fallback":
        fix = "set max_tokens in the profile to what the server allows"
        run.add(Check(LIMIT, "warn", detail, fix))
    else:
        run.add(Check(LIMIT, "ok", detail))


def _question() -> Message:
    return Message.from_role_and_content(Role.USER, "What is the capital of France?")


# ------------------------------------------------------------------------------------------ completions


Probe = Callable[..., ProbeResult]


def _generation(run: _Run, http: HTTPClient, info: ServerInfo, profile: ServerProfile) -> None:
    detected = PROFILES[info.kind]
    server = profile if detected.generic else detected
    target = Target(run.root, profile, run.model, run.options.api_key, run.options.timeouts)

    def probe(prompt: Any, *, ids: bool, **options: Any) -> ProbeResult:
        result = run_probe(http, target, prompt, ids=ids, options=options)
        status = result.status()
        if status in (401, 403):
            error = result.error
            where = error.url if isinstance(error, errors.TransportError) and error.url else run.shown
            message = error.server_message if isinstance(error, errors.HTTPStatusError) else None
            raise run.auth_failure(status, where, message or "refused")
        return result

    form = run.options.harmony
    plain = plain_prompt(form)
    ids = profile.token_id_prompts
    first = probe(plain, ids=ids, max_tokens=PLAIN_MAX_TOKENS, temperature=0)
    retry = None
    if ids and first.status() in (400, 422):
        retry = probe(plain, ids=False, max_tokens=PLAIN_MAX_TOKENS, temperature=0)
        ids = retry.error is not None  # keep ids when text fails too: the refusal was not about ids
    run.add(judge_token_ids(profile, first, retry))
    measured = retry if retry is not None and retry.error is None else first
    if measured.error is not None:
        detail = f"the completion request failed: {measured.error}"
        run.add(Check(MARKERS, "fail", detail, measured.error.hint))
        raise _Stop("the first completion failed")
    run.add(judge_content(plain, measured, server, profile))
    run.add(judge_latency(measured))
    run.add(judge_speed(measured))
    if detected.doctor.forced_probes and _forced_checks(run, probe, server, profile, ids=ids):
        return
    run.add(judge_markers(measured, server, profile, None))
    final = probe(final_prompt(form), ids=ids, max_tokens=NATURAL_MAX_TOKENS, temperature=0)
    run.add(judge_stop(final, RETURN, server, profile, forced=False, limit=NATURAL_MAX_TOKENS))
    call = probe(call_prompt(form), ids=ids, max_tokens=NATURAL_MAX_TOKENS, temperature=0)
    run.add(judge_stop(call, CALL, server, profile, forced=False, limit=NATURAL_MAX_TOKENS))


def _forced_checks(
    run: _Run, probe: Probe, server: ServerProfile, profile: ServerProfile, *, ids: bool
) -> bool:
    """llama.cpp: force the completions with a token grammar. False when the server refuses grammars."""
    form = run.options.harmony
    ret = forced(RETURN, form)
    result = probe(forced_prompt(tools=False, form=form), ids=ids, **ret.fields)
    if result.status() == 400:
        return False  # an older llama.cpp without token-id grammars: fall back to natural probes
    run.add(judge_markers(result, server, profile, ret))
    run.add(judge_stop(result, RETURN, server, profile, forced=True, limit=ret.fields["max_tokens"]))
    call = forced(CALL, form)
    called = probe(forced_prompt(tools=True, form=form), ids=ids, **call.fields)
    run.add(judge_stop(called, CALL, server, profile, forced=True, limit=call.fields["max_tokens"]))
    if "preserved_tokens" in profile.defaults:
        bare = probe(forced_prompt(tools=False, form=form), ids=ids, preserved_tokens=None, **ret.fields)
        run.add(judge_special(bare))
    return True
