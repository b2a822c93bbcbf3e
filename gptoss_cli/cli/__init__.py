"""The ``gptoss`` command line (Typer). The one error boundary lives in :func:`main`.

Nothing imports this package; commands import the layers below lazily so that
``gptoss --version`` and ``--help`` load Typer and nothing heavy.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from gptoss_cli import __version__
from gptoss_cli.cli.coerce import install
from gptoss_cli.errors import GptossError, UsageError
from gptoss_cli.ui.signals import Terminated

install()  # plain option values without pydantic (coerce.py)

# httpx imports its own command-line tool (rich, pygments, click: 200M instructions, 60% of its
# import) whenever they are installed, as they are here for the terminal view. gptoss never runs
# it; a None entry makes that import fail, and httpx then leaves it out (see httpx/__init__.py).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

_ORDER = (
    "ask", "chat", "serve", "replay", "show", "diff", "history", "config", "doctor", "render", "parse",
    "completion",
)  # fmt: skip


class _Commands(TyperGroup):
    """Commands listed in a fixed, useful order (not in whatever order their modules were imported)."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))


app = typer.Typer(
    cls=_Commands,
    name="gptoss",
    help="A terminal client for GPT-OSS models that speaks Harmony itself.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"gptoss {__version__}\n")
        raise typer.Exit()


def _install_completion(value: bool) -> None:
    if value:
        from gptoss_cli.cli.completion_cmd import install

        install(None)  # the shell gptoss runs in ($SHELL)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            callback=_install_completion,
            is_eager=True,
            help="Install tab completion for the current shell and exit.",
        ),
    ] = False,
) -> None:
    """A terminal client for GPT-OSS models that speaks Harmony itself."""
    _state["debug"] = debug or bool(os.environ.get("GPTOSS_DEBUG"))


def fail_line(message: str, hint: str | None = None) -> None:
    """One red line on stderr (plain when stderr is not a terminal or NO_COLOR is set)."""
    tty = sys.stderr.isatty()
    color = tty and not os.environ.get("NO_COLOR")
    text = f"gptoss: error: {message}"
    if hint:
        text += f" ({hint})"
    if tty:  # a server's or a file's words are in the message: they must not drive the terminal
        from gptoss_cli.ui.sanitize import sanitize

        text = sanitize(text)
    sys.stderr.write(f"\x1b[31m{text}\x1b[0m\n" if color else f"{text}\n")
    sys.stderr.flush()


def pair_options(argv: list[str]) -> list[str]:
    """``-o KEY VALUE`` (as ``llm -o``) becomes ``--option KEY=VALUE``, which Typer can take."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg in ("-o", "--option") and i + 2 < len(argv) and "=" not in argv[i + 1]:
            out.extend(["--option", f"{argv[i + 1]}={argv[i + 2]}"])
            i += 3
            continue
        out.append(arg)
        i += 1
    return out


EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
"""The exit codes (the README's table): an answer, an error, a usage error, Ctrl-C."""


COMMAND_MODULES = {
    "ask": "ask_cmd", "chat": "chat_cmd", "serve": "serve_cmd", "replay": "replay_cmd", "show": "show_cmd",
    "diff": "show_cmd", "history": "history_cmd", "config": "config_cmd", "doctor": "doctor_cmd",
    "render": "harmony_cmds", "parse": "harmony_cmds", "completion": "completion_cmd",
}  # fmt: skip
"""Which module of this package registers each command (a test checks it against the modules)."""

_COMPLETE_VAR = "_GPTOSS_COMPLETE"  # completion_cmd.COMPLETE_VAR (a test checks they agree)


def modules_for(args: list[str]) -> list[str]:
    """The command modules a command line needs: the invoked command's alone, none for ``--version``,
    every one otherwise (help lists them all; an unknown name gets click's own error and suggestions).

    Building a command's parameters is most of Typer's cost: ``history list`` need not pay for
    ``ask``'s 29 options, nor ``--version`` for any.
    """
    everything = sorted(set(COMMAND_MODULES.values()))
    if _COMPLETE_VAR in os.environ:  # a shell asking for completions: any command may be asked about
        return everything
    for arg in args:
        if arg in COMMAND_MODULES:
            return [COMMAND_MODULES[arg]]
        if arg == "--version":  # eager: it prints and exits before any command is looked up
            return []
        if arg != "--debug":  # help, --install-completion, "--", a typo: the whole tree
            break
    return everything


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every expected failure becomes one line on stderr and exit code 1 (2 for usage)."""
    import importlib

    args = pair_options(sys.argv[1:] if argv is None else argv)
    for module in modules_for(args):
        importlib.import_module(f"gptoss_cli.cli.{module}")  # registers its commands on `app`
    if _COMPLETE_VAR in os.environ:  # a shell asking for completions (completion_cmd)
        from gptoss_cli.cli.completion_cmd import enable

        enable()
    try:
        result = app(args=args, prog_name="gptoss", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("\n")
        return EXIT_INTERRUPTED
    except typer.TyperException as exc:  # usage errors: click's own message and exit code 2
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        return int(getattr(exc, "exit_code", EXIT_USAGE))
    except KeyboardInterrupt:
        from gptoss_cli.ui.interrupts import ignore_from_now

        ignore_from_now()  # on the way out: a second Ctrl-C must not turn exit 130 into a SIGINT death
        sys.stderr.write("\n")
        return EXIT_INTERRUPTED
    except Terminated as exc:  # SIGTERM, SIGHUP: the command saved what it had (see signals.py)
        sys.stderr.write("\n")
        return exc.exit_code
    except GptossError as exc:
        if _state["debug"]:
            raise
        fail_line(str(exc), exc.hint)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except BrokenPipeError:
        # the reader went away (e.g. `gptoss ... | head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if _state["debug"]:
            raise
        fail_line(f"internal error: {type(exc).__name__}: {exc}", "run with --debug for the traceback")
        return 1
    if result == EXIT_INTERRUPTED:  # typer's answer to a Ctrl-C no command caught: end the ^C line
        from gptoss_cli.ui.interrupts import ignore_from_now

        ignore_from_now()
        sys.stderr.write("\n")
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console-script entry point."""
    try:
        code = main()
    except KeyboardInterrupt:  # between main's handlers (the first Ctrl-C already stopped the work)
        code = EXIT_INTERRUPTED
    sys.exit(code)
