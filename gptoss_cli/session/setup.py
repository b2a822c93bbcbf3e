"""Setting a conversation up: flags and config -> tools, server target, session, persistence.

The talking commands (ask, chat, replay, doctor) call these with what their flags said; nothing
here knows of Typer, so the same set-up serves every front end.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gptoss_cli.errors import UsageError

if TYPE_CHECKING:
    from gptoss_cli.config.resolve import Settings
    from gptoss_cli.errors import ServerError
    from gptoss_cli.servers.profiles import ServerProfile
    from gptoss_cli.session.persist import StorePersistence
    from gptoss_cli.session.turn import ChatSettings, Session, Target
    from gptoss_cli.tools.registry import Registry


def load_schema(value: str) -> tuple[str, dict[str, Any], str | None]:
    """``--schema FILE|JSON`` as (format name, schema, description)."""
    import json
    from pathlib import Path

    from gptoss_cli.errors import UsageError

    text, name = value, "response"
    if not value.lstrip().startswith("{"):
        path = Path(value).expanduser()
        try:
            text, name = path.read_text(encoding="utf-8"), path.stem
        except OSError as exc:
            raise UsageError(f"{value}: cannot read the schema ({exc.strerror or exc})") from None
    from gptoss_cli.bounds import load_json

    try:
        schema = load_json(text, value if text is not value else "--schema")
    except json.JSONDecodeError as exc:
        where = value if text is not value else "--schema"
        raise UsageError(f"{where}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(schema, dict):
        raise UsageError("--schema: a JSON Schema must be an object")
    from gptoss_cli.tools.calls import invalid_schema

    problem = invalid_schema(schema)
    if problem is not None:
        raise UsageError(f"--schema: not a valid JSON Schema: {problem}")
    title = schema.get("title")
    description = schema.get("description")
    return (
        (str(title) if isinstance(title, str) and title.isidentifier() else name),
        schema,
        (str(description) if isinstance(description, str) else None),
    )


def check_structured(text: str, schema: dict[str, Any]) -> Any:
    """The parsed structured answer, or a GptossError saying how it misses the schema."""
    from gptoss_cli.errors import GptossError
    from gptoss_cli.harmony.formats import answer_json
    from gptoss_cli.tools.calls import schema_problem

    try:
        value = answer_json(text)
    except ValueError as exc:
        raise GptossError(f"the answer is not JSON ({exc})", hint="the schema asked for JSON") from None
    problem = schema_problem(value, schema)
    if problem is not None:
        raise GptossError(f"the answer does not match the schema: {problem}")
    return value


@dataclass(frozen=True)
class ToolFlags:
    """What the tool flags asked for."""

    files: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    python: bool = False
    browser: bool = False
    yes: bool = False
    max_steps: int = 10


def build_tools(flags: ToolFlags, settings: Settings | None = None) -> Registry | None:
    """The tools a command offers the model (config's and the flags'), or None when there are none."""
    from gptoss_cli.tools.declare import load_functions_file, load_tool_file, namespaces_from
    from gptoss_cli.tools.registry import Registry

    registry = Registry()
    builtins: dict[str, Any] = {}
    if settings is not None:
        from gptoss_cli.tools.environment import protect

        protect(settings.key_variables)  # tools never see a profile's key, whatever its name
        base = settings.config_file.parent
        for namespace in namespaces_from(
            {"tools": settings.tools}, base=base, where=str(settings.config_file)
        ):
            registry.add(namespace)
        builtins = settings.builtins
    role_tools = [str(settings.config_file.parent / p) for p in settings.role_tools] if settings else []
    for path in (*role_tools, *flags.files):
        for namespace in load_tool_file(path):
            registry.add(namespace)
    for path in flags.functions:
        registry.add(load_functions_file(path))
    if flags.python or builtins.get("python"):
        from gptoss_cli.tools.python_tool import python_namespace

        registry.add(python_namespace(timeout=float(builtins.get("python_timeout", 120.0))))
    if flags.browser or builtins.get("browser"):
        from gptoss_cli.tools.browser import browser_namespace

        registry.add(browser_namespace(search_command=builtins.get("search_command")))
    if settings is not None:
        for name, server in settings.mcp.items():
            from gptoss_cli.paths import cache_dir
            from gptoss_cli.tools.mcp_tools import mcp_namespace

            registry.add(
                mcp_namespace(
                    name,
                    command=server.get("command"),
                    env=server.get("env"),
                    url=server.get("url"),
                    headers=server.get("headers"),
                    namespace=server.get("namespace"),
                    approve=server.get("approve", "ask"),
                    timeout=float(server.get("timeout", 60.0)),
                    cache_dir=cache_dir() / "mcp",
                )
            )
    return registry or None


def with_tools(session: Session, registry: Registry | None) -> None:
    """Declare the registry's tools in the session's system and developer messages."""
    if registry is not None:
        session.settings = replace(
            session.settings,
            function_tools=registry.developer_namespaces(),
            builtin_tools=registry.system_namespaces(),
        )


def chat_settings(settings: Settings) -> ChatSettings:
    """The system/developer message settings from resolved config."""
    from gptoss_cli.harmony import ReasoningEffort, harmony_form
    from gptoss_cli.session.turn import ChatSettings

    prompt = settings.prompt
    try:
        effort = ReasoningEffort.parse(prompt.reasoning)
    except ValueError:
        raise UsageError(
            f"unknown reasoning effort {prompt.reasoning!r}", hint="use low, medium or high"
        ) from None
    date = prompt.conversation_start_date()
    return ChatSettings(
        harmony=harmony_form(settings.harmony),
        reasoning=effort,
        identity=prompt.identity or None,
        knowledge_cutoff=prompt.knowledge_cutoff or None,
        date=date if date is not None else "",
        instructions=prompt.instructions or None,
    )


def target_for(settings: Settings, call_options: Sequence[tuple[str, str]]) -> Target:
    """The server to talk to: its kind (configured or probed, cached), model, context and options."""
    from gptoss_cli.paths import cache_dir
    from gptoss_cli.servers.detect import context_length, resolve_server
    from gptoss_cli.servers.kinds import configured_kind
    from gptoss_cli.servers.profiles import get_profile, parse_options
    from gptoss_cli.session.turn import Target
    from gptoss_cli.transport.client import Timeouts, make_client

    profile = settings.profile
    api_key = settings.api_key.reveal() if settings.api_key is not None else None
    kind = configured_kind(profile.kind)
    info = resolve_server(profile.base_url, cache_dir=cache_dir(), kind=kind, api_key=api_key)
    server = get_profile(info.kind)
    with make_client(url=profile.base_url) as http:
        models = _listed_models(profile.base_url, server, api_key, http, needed=profile.model is None)
        model = profile.model if profile.model is not None else _only_model(models)
        context = context_length(profile.base_url, server, model, api_key=api_key, models=models, client=http)
    return Target(
        base_url=profile.base_url,
        profile=server,
        model=model,
        api_key=api_key,
        options=dict(profile.options),
        call_options=parse_options(list(call_options)),
        timeouts=Timeouts(connect=profile.connect_timeout, read=profile.read_timeout),
        context_length=context,
        max_tokens=profile.max_tokens,
    )


def _listed_models(
    base_url: str, server: ServerProfile, api_key: str | None, http: Any, *, needed: bool
) -> list[Any] | None:
    """``GET /v1/models`` where it names the model or the context length; None where it cannot."""
    from gptoss_cli.errors import HTTPStatusError, TransportError
    from gptoss_cli.transport.client import list_models

    if server.model_list is None:
        return None
    try:
        return list_models(base_url, api_key=api_key, client=http)
    except HTTPStatusError as exc:
        if needed and (exc.status not in (404, 405) or server.model_list == "required"):
            raise
        return None  # a generic server without a model list: send no model
    except TransportError:
        if needed:
            raise
        return None  # the model is configured: the completion request will say what is wrong


def _only_model(models: list[Any] | None) -> str | None:
    """The model to send when none is configured: the only one served."""
    if not models:
        return None
    if len(models) == 1:
        return str(models[0].id)
    names = ", ".join(m.id for m in models[:5])
    raise UsageError(f"the server lists {len(models)} models ({names})", hint="choose one with --model")


ServerOffer = Callable[["ServerError", "str | None"], "tuple[str, int]"]
"""Called when no server is found: may start one (the missing error, the configured model) and
return its base URL and process id, or raise the error again (ui/offer.py asks on a terminal)."""


def with_server(settings: Settings, *, offer: ServerOffer | None = None) -> Settings:
    """``settings`` with a base URL: the configured one, or a local server found on a usual port.

    Discovery runs only when flags, environment and config name no URL; it says once on stderr which
    server it chose (later runs reuse the cached choice quietly). When it finds none and ``offer`` is
    given (a chat on a terminal), the user may start one there and then.
    """
    if settings.sources.get("profile.base_url", "default") != "default":
        return settings
    from gptoss_cli.errors import ServerError
    from gptoss_cli.paths import cache_dir
    from gptoss_cli.servers.discover import find_server

    try:
        found = find_server(cache_dir())
    except ServerError as missing:
        if offer is None:
            raise
        base_url, pid = offer(missing, settings.profile.model)
        return _using(settings, base_url, f"{STARTED}, pid {pid}")
    if found.fresh:
        model = "" if found.gptoss_model else " (it lists no gpt-oss model)"
        sys.stderr.write(
            f"gptoss: no base URL configured; using {found.base_url}, the usual port of "
            f"{found.usual_for}{model} (--base-url or GPTOSS_BASE_URL to choose)\n"
        )
    return _using(settings, found.base_url, f"found on port {found.base_url.rsplit(':', 1)[1]}")


STARTED = "started by this chat"
"""The source of a base URL whose server the chat itself started (ui/offer.py), before its pid."""


def started_server(settings: Settings) -> str | None:
    """What to say when the chat ends, if it started its server: that it still runs, and how to stop it."""
    source = settings.sources.get("profile.base_url", "")
    if not source.startswith(STARTED + ", pid "):
        return None
    pid = source.rsplit(" ", 1)[1]
    return (
        f"gptoss: the server this chat started still runs at {settings.profile.base_url} for the next "
        f"chat; stop it with: kill {pid}\n"
    )


def _using(settings: Settings, base_url: str, source: str) -> Settings:
    sources = {**settings.sources, "profile.base_url": source}
    return replace(settings, profile=replace(settings.profile, base_url=base_url), sources=sources)


def open_session(
    flags: dict[str, Any],
    call_options: Sequence[tuple[str, str]],
    tools: ToolFlags | None = None,
    *,
    offer_server: ServerOffer | None = None,
) -> tuple[Session, Settings, Registry | None]:
    """Resolve config for these flags, load the tools, and open a session on the server.

    Local input (config, tool files) is checked before the server is contacted, so a broken file
    is reported even when the server is down. ``offer_server``: see :func:`with_server`.
    """
    from gptoss_cli.config.resolve import resolve
    from gptoss_cli.session.turn import Session

    settings = resolve(flags)
    chat = chat_settings(settings)
    registry = build_tools(tools, settings) if tools is not None else None
    try:
        settings = with_server(settings, offer=offer_server)
        session = Session(target_for(settings, call_options), chat)
    except BaseException:
        if registry is not None:
            registry.close()  # MCP servers and python processes started for nothing
        raise
    with_tools(session, registry)
    return session, settings, registry


def persistence_for(settings: Settings) -> StorePersistence:
    """Where this command's conversation is saved."""
    from gptoss_cli.session.persist import StorePersistence

    return StorePersistence(settings)


def continue_conversation(
    session: Session, persistence: StorePersistence, cid: str | None, *, at: int | None = None
) -> None:
    """Load the conversation ``cid`` (the last one when None) into ``session``, cut after ``at`` exchanges."""
    from gptoss_cli.session.persist import history_of
    from gptoss_cli.session.turn import first_exchanges

    session.history = history_of(persistence.load(cid) if cid is not None else persistence.load_last())
    session.token_cache.update(persistence.loaded_tokens)
    if at is not None:
        session.history = first_exchanges(session.history, at)
