"""The python built-in: a persistent subprocess, its own working directory, time and output limits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_cli.errors import ToolError
from gptoss_cli.harmony import PYTHON
from gptoss_cli.tools.python_tool import PythonTool, python_namespace
from gptoss_cli.tools.registry import Registry


@pytest.fixture
def python(tmp_path: Path) -> Iterator[PythonTool]:
    tool = PythonTool(timeout=10, workdir=tmp_path / "work")
    yield tool
    tool.close()


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_namespace_is_the_reference_declaration_and_the_tool_itself() -> None:
    ns = python_namespace()
    registry = Registry()
    registry.add(ns)
    try:
        assert ns.builtin and ns.name == "python" and ns.tools == ()
        assert ns.config() is PYTHON
        tool = registry.resolve("python")
        assert tool is ns.single and tool is not None
        assert tool.name == "python" and tool.parameters is None and tool.approve == "ask"
        assert registry.system_namespaces() == (PYTHON,) and registry.developer_namespaces() == ()
    finally:
        registry.close()


def test_state_persists_and_the_final_expression_is_echoed(python: PythonTool) -> None:
    assert python.run("x = 41\nimport math").text == "[no output]"
    out = python.run("x += 1\nx")
    assert out.text == "42" and not out.error
    assert python.run("def f(n):\n    return n * 2\nf(x)").text == "84"
    assert python.run("'a' + 'b'").text == "'ab'"
    assert python.run("None").text == "[no output]"
    assert python.run("_").text == "'ab'"  # like Jupyter, _ is the last echoed value


def test_stdout_stderr_and_subprocess_output_are_captured_in_order(python: PythonTool) -> None:
    out = python.run(
        "import os, sys, subprocess\n"
        "print('one')\n"
        "print('two', file=sys.stderr)\n"
        "subprocess.run([sys.executable, '-c', 'print(\"three\")'])\n"
        "os.write(1, b'four\\n')\n"
        "5"
    )
    assert out.text == "one\ntwo\nthree\nfour\n5"
    assert not out.error


def test_exceptions_are_tracebacks_of_the_cell_only(python: PythonTool) -> None:
    out = python.run("y = 1\n1 / 0")
    assert out.error
    assert out.text.startswith("Traceback (most recent call last):")
    assert 'File "<cell 1>", line 2' in out.text and "1 / 0" in out.text
    assert out.text.endswith("ZeroDivisionError: division by zero")
    assert "_python_driver" not in out.text
    assert python.run("y").text == "1"  # an error does not lose the state
    syntax = python.run("def f(:\n  pass")
    assert syntax.error and "SyntaxError" in syntax.text
    assert python.run("import sys; sys.exit(3)").text.endswith("SystemExit: 3")
    assert python.run("y + 1").text == "2"  # sys.exit() in a cell does not end the process


def test_output_before_an_exception_is_kept(python: PythonTool) -> None:
    out = python.run("print('partial')\nraise ValueError('bad')")
    assert out.error
    assert out.text.startswith("partial\nTraceback")
    assert out.text.endswith("ValueError: bad")


def test_working_directory_is_the_given_one(python: PythonTool, tmp_path: Path) -> None:
    assert python.run("import os; os.getcwd()").text == repr(str(tmp_path / "work"))
    python.run("open('made.txt', 'w').write('hello')")
    assert (tmp_path / "work" / "made.txt").read_text() == "hello"
    (tmp_path / "work" / "helper.py").write_text("VALUE = 7\n")
    assert python.run("import helper; helper.VALUE").text == "7"  # the cwd is importable


def test_default_working_directory_is_a_fresh_temp_dir_removed_on_close() -> None:
    tool = PythonTool()
    cwd = Path(eval(tool.run("import os; os.getcwd()").text))
    assert cwd == tool.workdir and cwd.name.startswith("gptoss-python-") and cwd.is_dir()
    tool.close()
    assert not cwd.exists()


def test_the_child_has_no_terminal_stdin_or_client_secrets(
    python: PythonTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    out = python.run("input()")
    assert out.error and "EOFError" in out.text
    assert python.run("import os; os.isatty(0), os.isatty(1), os.isatty(2)").text == "(False, False, False)"
    assert python.run("import os; os.environ.get('OPENAI_API_KEY')").text == "[no output]"
    if hasattr(os, "getsid"):
        assert python.run("import os; os.getsid(0) == os.getpid()").text == "True"  # a session of its own


def test_timeout_kills_the_process_and_the_next_call_starts_fresh(tmp_path: Path) -> None:
    tool = PythonTool(timeout=1.0, workdir=tmp_path)
    try:
        pid = int(tool.run("import os; state = 1; open('kept', 'w').close(); os.getpid()").text)
        out = tool.run("import time\nprint('working')\ntime.sleep(30)")
        assert out.error
        assert "timed out after 1 seconds" in out.text and "state" in out.text and "lost" in out.text
        assert _pid_gone(pid)
        again = tool.run("state")
        assert again.error and "NameError" in again.text  # a fresh process: the state is gone
        assert tool.run("import os; os.path.exists('kept')").text == "True"  # the directory is not
    finally:
        tool.close()


def test_a_process_that_exits_is_reported_and_replaced(python: PythonTool) -> None:
    python.run("z = 1")
    out = python.run("import os; os._exit(5)")
    assert out.error and "exited with code 5" in out.text and "state is lost" in out.text
    assert python.run("1 + 1").text == "2"
    assert "NameError" in python.run("z").text


def test_output_is_cut_with_a_note(tmp_path: Path) -> None:
    tool = PythonTool(max_output=200, workdir=tmp_path)
    try:
        out = tool.run("print('a' * 150 + 'b' * 150)")  # over max_output, under the child's byte cap
        assert len(out.text) < 320
        assert out.text.startswith("a" * 150) and out.text.endswith("b" * 50)
        assert "characters cut: the tool output limit is 200 characters (GPTOSS_MAX_TOOL_OUTPUT)" in out.text
        flood = tool.run("for i in range(10000): print(i)")  # far over: the child keeps the start only
        assert flood.text.startswith("0\n1\n2\n")
        assert "more bytes were printed" in flood.text
        assert len(flood.text) < 330
        assert tool.run("'x' * 5000").text.startswith("'xxx")
    finally:
        tool.close()


def test_close_kills_the_child_and_later_calls_are_refused(tmp_path: Path) -> None:
    tool = PythonTool(workdir=tmp_path)
    pid = int(tool.run("import os; os.getpid()").text)
    assert pid != os.getpid()
    tool.close()
    assert _pid_gone(pid)
    out = tool.run("1")
    assert out.error and "shut down" in out.text
    tool.close()  # idempotent


def test_arguments_other_than_code(python: PythonTool) -> None:
    assert python.run({"code": "6 * 7"}).text == "42"  # lenient: JSON with a code field
    out = python.run({"script": "1"})
    assert out.error and "code" in out.text


def test_a_working_directory_that_cannot_be_made_is_an_error_for_the_model(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    tool = PythonTool(workdir=tmp_path / "file" / "sub")
    out = tool.run("1")
    assert out.error and out.text.startswith("[The python tool could not start: cannot run ")
    assert str(tmp_path / "file" / "sub") in out.text
    tool.close()


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ToolError):
        PythonTool(timeout=0)
