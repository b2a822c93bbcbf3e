"""The interactive chat: a prompt_toolkit prompt, slash commands, streamed answers.

Enter sends; Esc+Enter inserts a newline; a ``\"\"\"`` block spans lines until the closing
``\"\"\"``; pasting keeps newlines; Ctrl-G edits in ``$EDITOR``; Ctrl-C while streaming stops the
answer and returns to the prompt, Ctrl-C at the prompt clears the line, Ctrl-D leaves. An error
ends the turn, never the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from gptoss_cli.errors import GptossError
from gptoss_cli.session.agent import Run
from gptoss_cli.session.turn import Session, Turn
from gptoss_cli.tools.attachments import Attachment
from gptoss_cli.tools.calls import Approver
from gptoss_cli.tools.registry import Registry
from gptoss_cli.ui import commands
from gptoss_cli.ui.approval import prompt_asker
from gptoss_cli.ui.commands import EXIT, REGISTRY, Persistence
from gptoss_cli.ui.interrupts import first_only, held
from gptoss_cli.ui.sanitize import for_stream
from gptoss_cli.ui.signals import Terminated
from gptoss_cli.ui.stream import StreamView, ViewOptions
from gptoss_cli.ui.terminal import no_echo

FENCE = '"""'


class SlashCompleter(Completer):
    """Completes ``/command`` names and their fixed choices."""

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/"):
            return
        name, space, arg = text[1:].partition(" ")
        if not space:
            for cmd in REGISTRY.values():
                if cmd.name.startswith(name):
                    yield Completion("/" + cmd.name, start_position=-len(text), display_meta=cmd.help)
            return
        found = REGISTRY.get(name)
        if found is not None:
            for choice in found.choices:
                if choice.startswith(arg):
                    yield Completion(choice, start_position=-len(arg))


def _bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text = buffer.text
        if text.lstrip().startswith(FENCE) and text.count(FENCE) % 2 == 1:
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @kb.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("c-g")
    def _editor(event: KeyPressEvent) -> None:
        event.current_buffer.open_in_editor(validate_and_handle=False)

    return kb


def unfence(text: str) -> str:
    """The text of a ``\"\"\"`` block, or the text itself."""
    stripped = text.strip()
    if stripped.startswith(FENCE):
        stripped = stripped[len(FENCE) :]
        if stripped.endswith(FENCE):
            stripped = stripped[: -len(FENCE)]
        return stripped.strip("\n")
    return text


class Repl:
    """One chat session in the terminal."""

    def __init__(
        self,
        session: Session,
        view_options: ViewOptions,
        persistence: Persistence,
        *,
        history_file: Path | None = None,
        input: Any = None,
        output: Any = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        tools: Registry | None = None,
        approver: Approver | None = None,
        max_steps: int = 10,
        roles: dict[str, dict[str, Any]] | None = None,
        config_dir: Path | None = None,
    ) -> None:
        self.session = session
        self.roles = roles or {}
        """``[roles.NAME]`` from the config, for ``/role``."""
        self.config_dir = config_dir or Path.cwd()
        """Where role tool files are relative to."""
        self.attachments: list[Attachment] = []
        """``/file`` attachments waiting for the next message."""
        self.tools = tools
        self.max_steps = max_steps
        self.approver = approver or Approver(ask=prompt_asker(input, output))
        self.view_options = view_options
        self.persistence = persistence
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        history: History = InMemoryHistory()
        if history_file is not None:
            history_file.parent.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(history_file))
        self.prompt_session: PromptSession[str] = PromptSession(
            history=history,
            key_bindings=_bindings(),
            completer=SlashCompleter(),
            complete_while_typing=False,
            input=input,
            output=output,
        )
        self.conversation_id = 0

    def say(self, text: str) -> None:
        """A message from the chat itself (on stderr: stdout is the answers)."""
        self.stderr.write(for_stream(self.stderr, text + "\n"))
        self.stderr.flush()

    def write_raw(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def new_conversation(self) -> None:
        self.conversation_id += 1

    def clear_screen(self) -> None:
        """Clear the terminal (ANSI), when stdout is one."""
        if self.stdout.isatty():
            self.stdout.write("\x1b[2J\x1b[H")
            self.stdout.flush()

    def banner(self) -> str:
        """What the chat talks to: model, server, effort, and how to get help."""
        from gptoss_cli.transport.urls import redact_url

        target, settings = self.session.target, self.session.settings
        model = target.model or "the server's model"
        effort = settings.reasoning.value.lower()
        tools = f" · {len(self.tools.namespaces)} tool namespace(s)" if self.tools else ""
        server = f"{target.profile.title} at {redact_url(target.base_url)}"
        return (
            f"gptoss · {model} on {server} · reasoning {effort}{tools}\n"
            "/help lists the commands; Ctrl-C stops an answer; Ctrl-D leaves"
        )

    def run(self) -> None:
        """Read, answer, repeat until Ctrl-D or /exit."""
        self.say(self.banner())
        while True:
            try:
                text = self.prompt_session.prompt("› ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            text = unfence(text)
            if not text.strip():
                continue
            try:
                if text.lstrip().startswith("/"):
                    outcome = commands.dispatch(self, text)
                    if outcome is EXIT:
                        break
                    if isinstance(outcome, Turn):
                        self.stream(outcome)
                else:
                    if self.attachments:
                        from gptoss_cli.tools.attachments import compose

                        text, self.attachments = compose(text, self.attachments), []
                    self.stream(self.session.ask(text))
            except GptossError as exc:
                self.say(f"gptoss: error: {exc}" + (f" ({exc.hint})" if exc.hint else ""))

    def use_tools(self, registry: Registry) -> None:
        """Offer these tools (from now on, in every prompt)."""
        if self.tools is None:
            self.tools = registry
        else:
            for namespace in registry.namespaces.values():
                self.tools.add(namespace)
        self.session.settings = replace(
            self.session.settings,
            function_tools=self.tools.developer_namespaces(),
            builtin_tools=self.tools.system_namespaces(),
        )

    def stream(self, first: Turn) -> None:
        """Show one request with its tool rounds; Ctrl-C stops it, an error ends it; what arrived is kept.

        Typed keys are not echoed while it streams (see ``terminal.py``), and a second Ctrl-C during
        the clean-up is held back: it neither ends the chat nor loses the save.
        """
        turn = Run(self.session, first, self.tools, self.approver, self.max_steps)
        view = StreamView(self.view_options, stdout=self.stdout, stderr=self.stderr)
        with first_only():  # from the first Ctrl-C on, later ones are held: no window before held()
            try:
                with no_echo():
                    for event in turn:
                        view.handle(event)
            except KeyboardInterrupt:
                with held():
                    turn.close()
                    view.close()
                    saved = self._save()
                    where = f"; saved as {saved}" if saved else ""
                    self.say(f"(stopped{where}; /continue resumes the answer)")
                return
            except GptossError as exc:
                turn.close()
                view.close()
                self.say(f"gptoss: error: {exc}" + (f" ({exc.hint})" if exc.hint else ""))
            except Terminated:  # SIGTERM, SIGHUP: keep what arrived as Ctrl-C does, then leave
                with held():
                    turn.close()
                    view.close()
                    self.persistence.autosave(self.session)
                raise
        self._save()

    def _save(self) -> str | None:
        """Save the conversation; where it went (its id or file), or None."""
        try:
            saved = self.persistence.autosave(self.session)
        except GptossError as exc:
            self.say(f"gptoss: error: {exc}")
            return None
        return str(saved) if saved else None
