"""Slash commands of the chat, from one registry (help, completion and dispatch all read it)."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from gptoss_cli.errors import GptossError, UsageError
from gptoss_cli.harmony import ReasoningEffort, get_tokenizer
from gptoss_cli.harmony.history import for_prompt
from gptoss_cli.harmony.render import message_pieces, pieces_to_text, pieces_to_tokens

if TYPE_CHECKING:
    from pathlib import Path

    from gptoss_cli.harmony import Message
    from gptoss_cli.session.turn import Session, Turn
    from gptoss_cli.ui.repl import Repl


class Persistence(Protocol):
    """Where conversations are saved and loaded from."""

    def autosave(self, session: Session) -> str | Path | None: ...

    def save_as(self, session: Session, path: str) -> Path: ...

    def load(self, path: str) -> list[Message]: ...

    def new_conversation(self) -> None: ...


EXIT = object()


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[Repl, list[str], str], Any]
    choices: tuple[str, ...] = ()


REGISTRY: dict[str, Command] = {}


def command(name: str, usage: str, help: str, choices: tuple[str, ...] = ()) -> Callable[..., Any]:
    def register(fn: Callable[[Repl, list[str], str], Any]) -> Callable[[Repl, list[str], str], Any]:
        REGISTRY[name] = Command(name, usage, help, fn, choices)
        return fn

    return register


def dispatch(repl: Repl, line: str) -> Turn | object | None:
    """Run a slash command line; returns a turn to stream, :data:`EXIT`, or None."""
    name, _, rest = line.strip().partition(" ")
    cmd = REGISTRY.get(name.lstrip("/"))
    if cmd is None:
        raise UsageError(f"unknown command {name}", hint="/help lists them")
    try:
        args = shlex.split(rest)
    except ValueError:
        args = rest.split()
    outcome: Turn | object | None = cmd.run(repl, args, rest.strip())
    return outcome


def _on_off(value: str) -> bool:
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise UsageError(f"expected on or off, got {value!r}")


@command("help", "/help", "list the commands")
def _help(repl: Repl, args: list[str], rest: str) -> None:
    width = max(len(c.usage) for c in REGISTRY.values())
    lines = [f"  {c.usage.ljust(width)}  {c.help}" for c in REGISTRY.values()]
    lines.append('  Enter sends; Esc+Enter or a """ block for several lines; Ctrl-G edits in $EDITOR.')
    lines.append("  Ctrl-C stops an answer (or clears the line); Ctrl-D or /exit leaves.")
    repl.say("\n".join(lines))


@command("reasoning", "/reasoning low|medium|high", "set the reasoning effort", ("low", "medium", "high"))
def _reasoning(repl: Repl, args: list[str], rest: str) -> None:
    session = repl.session
    if not args:
        repl.say(f"reasoning: {session.settings.reasoning.value.lower()}")
        return
    try:
        effort = ReasoningEffort.parse(args[0])
    except ValueError:
        raise UsageError(f"unknown reasoning effort {args[0]!r}", hint="low, medium or high") from None
    session.settings = replace(session.settings, reasoning=effort)
    repl.say(f"reasoning: {effort.value.lower()}")


@command("show-reasoning", "/show-reasoning on|off", "show the model's reasoning (dim)", ("on", "off"))
def _show_reasoning(repl: Repl, args: list[str], rest: str) -> None:
    if args:
        repl.view_options = replace(repl.view_options, show_reasoning=_on_off(args[0]))
    repl.say(f"show-reasoning: {'on' if repl.view_options.show_reasoning else 'off'}")


@command("system", "/system [TEXT]", "show or set the model identity (system message)")
def _system(repl: Repl, args: list[str], rest: str) -> None:
    if rest:
        repl.session.settings = replace(repl.session.settings, identity=rest)
    repl.say(f"system: {repl.session.settings.identity or '(none)'}")


@command("instructions", "/instructions [TEXT]", "show or set the instructions (developer message)")
def _instructions(repl: Repl, args: list[str], rest: str) -> None:
    if rest:
        repl.session.settings = replace(repl.session.settings, instructions=rest)
    repl.say(f"instructions: {repl.session.settings.instructions or '(none)'}")


@command("save", "/save [FILE]", "save the conversation (to history, or to FILE)")
def _save(repl: Repl, args: list[str], rest: str) -> None:
    path = repl.persistence.save_as(repl.session, rest) if rest else repl.persistence.autosave(repl.session)
    repl.say(f"saved {path}" if path else "nothing to save yet")


@command("load", "/load FILE", "continue a saved conversation")
def _load(repl: Repl, args: list[str], rest: str) -> None:
    if not rest:
        raise UsageError("/load needs a FILE")
    from gptoss_cli.harmony import Role

    messages = repl.persistence.load(rest)
    repl.session.token_cache.update(getattr(repl.persistence, "loaded_tokens", {}))
    repl.session.history = [m for m in messages if m.author.role not in (Role.SYSTEM, Role.DEVELOPER)]
    repl.session.results = []
    repl.new_conversation()
    repl.say(f"loaded {len(repl.session.history)} messages from {rest}")


@command("new", "/new", "start a new conversation")
def _new(repl: Repl, args: list[str], rest: str) -> None:
    repl.session.history = []
    repl.session.results = []
    repl.session.tool_log = []
    repl.persistence.new_conversation()  # the next save starts a new one; the last one stays saved
    repl.new_conversation()
    repl.say("new conversation")


@command("clear", "/clear", "clear the screen and start a new conversation (the last one stays saved)")
def _clear(repl: Repl, args: list[str], rest: str) -> None:
    _new(repl, args, rest)
    repl.clear_screen()


@command(
    "file", "/file PATH|URL [QUESTION]", "attach a file or page to your next message (or ask QUESTION now)"
)
def _file(repl: Repl, args: list[str], rest: str) -> Turn | None:
    from gptoss_cli.tools.attachments import compose, read_attachment

    if not args:
        names = ", ".join(a.name for a in repl.attachments) or "none"
        repl.say(f"attached to your next message: {names}")
        return None
    attachment = read_attachment(args[0], stdin_text="")
    question = rest[len(args[0]) :].strip() if rest.startswith(args[0]) else " ".join(args[1:])
    if question:
        attachments, repl.attachments = [*repl.attachments, attachment], []
        return repl.session.ask(compose(question, attachments))
    repl.attachments.append(attachment)
    repl.say(f"attached {attachment.name} ({len(attachment.text):,} characters) to your next message")
    return None


@command("role", "/role [NAME]", "list the roles, or use one (instructions, system, effort, options)")
def _role(repl: Repl, args: list[str], rest: str) -> None:
    roles = repl.roles
    if not args:
        repl.say("roles: " + (", ".join(sorted(roles)) or "none (define [roles.NAME] in the config)"))
        return
    role = roles.get(args[0])
    if role is None:
        raise UsageError(f"no role {args[0]!r}", hint=f"roles: {', '.join(sorted(roles)) or 'none'}")
    settings = repl.session.settings
    if "system" in role:
        settings = replace(settings, identity=role["system"])
    if "instructions" in role:
        settings = replace(settings, instructions=role["instructions"])
    if "effort" in role:
        settings = replace(settings, reasoning=ReasoningEffort.parse(role["effort"]))
    repl.session.settings = settings
    if role.get("options"):
        target = repl.session.target
        repl.session.target = replace(target, call_options={**target.call_options, **role["options"]})
    if role.get("tools"):
        from gptoss_cli.tools.declare import load_tool_file
        from gptoss_cli.tools.registry import Registry

        registry = Registry()
        for path in role["tools"]:
            for namespace in load_tool_file(str(repl.config_dir / path)):
                registry.add(namespace)
        repl.use_tools(registry)
    repl.say(f"role {args[0]}")


@command("branch", "/branch N", "go back to after exchange N and go on from there (the rest stays saved)")
def _branch(repl: Repl, args: list[str], rest: str) -> None:
    if len(args) != 1 or not args[0].isdigit():
        raise UsageError("/branch needs N, the number of exchanges to keep", hint="/branch 2")
    repl.session.branch(int(args[0]))
    repl.say(f"back to after exchange {args[0]}; the next answer starts a branch")


@command("retry", "/retry", "regenerate the last answer (the earlier one stays saved)")
def _retry(repl: Repl, args: list[str], rest: str) -> Turn:
    if not any(m.author.role.value == "user" for m in repl.session.history):
        raise UsageError("nothing to retry yet")
    return repl.session.retry()


@command("continue", "/continue", "resume a cut-off answer from where it stopped")
def _continue(repl: Repl, args: list[str], rest: str) -> Turn:
    return repl.session.resume()


@command("undo", "/undo", "remove the last question and its answer")
def _undo(repl: Repl, args: list[str], rest: str) -> None:
    repl.session.undo()
    repl.say(f"{len(repl.session.history)} messages left")


@command("prompt", "/prompt", "show the exact prompt the model will see, with tokens per message")
def _prompt(repl: Repl, args: list[str], rest: str) -> None:
    session = repl.session
    tokenizer_total = 0
    out = []
    for message in [*session.settings.prefix(), *for_prompt(session.history)]:
        pieces: list[str | int] = []
        message_pieces(message, pieces)
        count = len(pieces_to_tokens(pieces))
        tokenizer_total += count
        where = message.author.role.value + (f"/{message.channel}" if message.channel else "")
        out.append(f"── {where} · {count} tokens")
        out.append(pieces_to_text(pieces))
    out.append(f"── next: <|start|>assistant · {tokenizer_total + 2} tokens in all")
    repl.say("\n".join(out))


@command("tokens", "/tokens", "count the tokens of the next prompt")
def _tokens(repl: Repl, args: list[str], rest: str) -> None:
    count = len(pieces_to_tokens(repl.session.prompt_pieces()))
    last = repl.session.results[-1].usage.generated if repl.session.results else 0
    extra = f"; last answer {last} tokens" if last else ""
    repl.say(f"next prompt: {count} tokens{extra}")


@command("copy", "/copy", "copy the last final answer to the clipboard (OSC 52)")
def _copy(repl: Repl, args: list[str], rest: str) -> None:
    results = repl.session.results
    text = results[-1].final_text if results else ""
    if not text:
        raise UsageError("no answer to copy yet")
    repl.write_raw("\x1b]52;c;" + base64.b64encode(text.encode()).decode() + "\x07")
    repl.say(f"copied {len(text)} characters")


@command("set", "/set KEY VALUE", "set a request option (temperature, max_tokens, ...)")
def _set(repl: Repl, args: list[str], rest: str) -> None:
    from gptoss_cli.servers.profiles import parse_option_value

    if len(args) < 2:
        options = repl.session.target.call_options
        repl.say(", ".join(f"{k}={v!r}" for k, v in options.items()) or "no options set")
        return
    key, value = args[0], " ".join(args[1:])
    target = repl.session.target
    repl.session.target = replace(
        target, call_options={**target.call_options, key: parse_option_value(value)}
    )
    repl.say(f"{key} = {parse_option_value(value)!r}")


@command("tools", "/tools [FILE]", "list the tools, or enable those declared in FILE")
def _tools(repl: Repl, args: list[str], rest: str) -> None:
    if rest:
        from gptoss_cli.tools.declare import load_tool_file
        from gptoss_cli.tools.registry import Registry

        registry = Registry()
        for namespace in load_tool_file(rest):
            registry.add(namespace)
        repl.use_tools(registry)
    if not repl.tools:
        repl.say(
            "no tools (start with --tools FILE, --functions FILE.py, --python or --browser, or /tools FILE)"
        )
        return
    lines = [
        f"  {name}  [{tool.approve}]  {tool.description.splitlines()[0] if tool.description else ''}"
        for name, tool in repl.tools.tools()
    ]
    repl.say("tools:\n" + "\n".join(lines))


@command("exit", "/exit", "leave (Ctrl-D too)")
def _exit(repl: Repl, args: list[str], rest: str) -> object:
    return EXIT


def count_tokens(text: str) -> int:
    return len(get_tokenizer().encode(text))


__all__ = ["EXIT", "REGISTRY", "Command", "GptossError", "Persistence", "dispatch"]
