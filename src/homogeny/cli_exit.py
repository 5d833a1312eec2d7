"""How `homogeny` ends: one exit code per outcome, one line per error, never a traceback for
a user's mistake (README, "Exit codes").

    0    success
    1    some work failed (the failures are named; rerunning retries them)
    2    user error (usage, bad input, bad environment), one line
    130  interrupted (Ctrl-C, SIGINT); rerunning the same command resumes
    143  stopped by SIGTERM (`kill PID`), the same clean stop; rerunning resumes

Typer 0.2x bundles its own copy of click (`typer._click`), older typer uses click itself, so the
exception classes are looked up in both, and only in modules already imported: an exception
can only come from a module that is loaded, and importing click here would slow `--help`.
Outside standalone mode typer returns (not raises) the exit code of `typer.Exit`, and turns
Ctrl-C into `Exit(130)`; the returned value is the exit code.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

SUCCESS, WORK_FAILED, USER_ERROR, INTERRUPTED, TERMINATED = 0, 1, 2, 130, 143
INTERRUPTED_LINE = (
    "homogeny: interrupted; the run stopped and what finished is stored; "
    "rerun the same command to resume"
)
# modules that may define the exception classes, newest typer first
_EXCEPTION_MODULES = ("typer._click.exceptions", "typer.exceptions", "typer", "click.exceptions")


def _loaded_classes(name: str) -> tuple[type[BaseException], ...]:
    """Every class called `name` in the already imported typer/click exception modules."""
    found: list[type[BaseException]] = []
    for module in _EXCEPTION_MODULES:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
            found.append(cls)
    return tuple(found)


class _SigintWatch:
    """Makes the first Ctrl-C (or SIGTERM) stop the run, however it lands.

    It remembers which signal came, so an error it caused on its way up (a DuckDB "Query
    interrupted", a worker thread's error) still ends as an interrupt, exit 130 (143 for
    SIGTERM). SIGTERM is turned into the same KeyboardInterrupt, so `kill PID` stops as cleanly
    as Ctrl-C: the run is marked interrupted and a rerun resumes. (A job started with `&` from
    a non-interactive shell starts with SIGINT ignored, as POSIX says; that is left alone, and
    SIGTERM is the way to stop it.) A KeyboardInterrupt raised inside a C library's callback
    into Python (llama.cpp's log and progress callbacks while a model loads) is swallowed by
    ctypes and reaches only sys.unraisablehook: the signal is raised again there, to land once
    the C call returns."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}
        self._previous_hook: Any = None

    @property
    def seen(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> _SigintWatch:
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for signum, default in defaults.items():
            try:
                if signal.getsignal(signum) is default:
                    self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        raise KeyboardInterrupt

    def _unraisable(self, info: Any) -> None:
        if isinstance(info.exc_value, KeyboardInterrupt) and self.signum is not None:
            signal.raise_signal(self.signum)  # delivered again, outside the callback
            return
        self._previous_hook(info)

    def exit_code(self) -> int:
        """130 for Ctrl-C (or a KeyboardInterrupt of unknown origin), 143 for SIGTERM."""
        return TERMINATED if self.signum == signal.SIGTERM else INTERRUPTED

    def __exit__(self, *exc: object) -> None:
        sys.unraisablehook = self._previous_hook
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def say(line: str) -> None:
    """Print one line on stderr (undecodable characters escaped, never an encoding error)."""
    print(line, file=sys.stderr, flush=True)


def work_failed(line: str) -> NoReturn:
    """End a command whose work partly failed: the failures in one line, exit 1."""
    import typer

    say(f"homogeny: {line}")
    raise typer.Exit(WORK_FAILED)


def _exit_code(value: Any) -> int:
    """The exit code for what `app(standalone_mode=False)` returned (None and non-ints: 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else SUCCESS


def _interrupted(code: int = INTERRUPTED) -> int:
    say(INTERRUPTED_LINE)
    return code


def _from_exception(exc: BaseException, watch: _SigintWatch) -> int:
    """The exit code for an exception that left the app; re-raises what is a bug."""
    from homogeny.errors import HomogenyError

    if isinstance(exc, (KeyboardInterrupt, *_loaded_classes("Abort"))) or watch.seen:
        return _interrupted(watch.exit_code())
    if isinstance(exc, HomogenyError):
        say(f"homogeny: error: {exc}")
        return USER_ERROR
    if isinstance(exc, _loaded_classes("Exit")):
        code = _exit_code(getattr(exc, "exit_code", SUCCESS))
        return _interrupted() if code == INTERRUPTED else code
    if isinstance(exc, _loaded_classes("ClickException")):
        exc.show()  # type: ignore[attr-defined]  # click's short usage message and the error
        return USER_ERROR
    raise exc


def run(app: Callable[..., Any], args: Sequence[str] | None = None) -> int:
    """Run a typer app outside standalone mode and return its exit code (see module doc)."""
    with _SigintWatch() as watch:
        try:
            value = app(args=args, prog_name="homogeny", standalone_mode=False)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - every way out is mapped to a code
            return _from_exception(exc, watch)
    code = _exit_code(value)
    if code == INTERRUPTED:
        return _interrupted(watch.exit_code())
    return code
