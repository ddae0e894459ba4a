"""Progress display for long work, in a terminal or a notebook.

A bar appears only when the work has lasted more than a couple of seconds, so quick
loads stay silent. ``TOOLKIT_PROGRESS=0`` turns bars off everywhere; a function's
``progress=False`` turns them off for one call, ``progress=True`` shows them at once.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

__all__ = ["Progress"]

_DELAY_S = 2.0


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _bar_class() -> Any:
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm as notebook_tqdm

            return notebook_tqdm
        except ImportError:  # no widgets: the text bar still renders in a notebook
            pass
    from tqdm.std import tqdm as std_tqdm

    return std_tqdm


class Progress:
    """A lazily created tqdm bar over a total (bytes, rows, notebooks ...).

    Parameters
    ----------
    description : str
        Shown left of the bar.
    total : float, optional
        Expected total.
    unit : str, default "B"
        Unit of the counts; ``"B"`` scales to kB/MB.
    enabled : bool, optional
        None: shown after two seconds unless ``TOOLKIT_PROGRESS=0``; True: at once;
        False: never.

    Examples
    --------
    >>> with Progress("reading", total=10, enabled=False) as bar:
    ...     bar.update(10)
    """

    def __init__(
        self,
        description: str,
        total: float | None = None,
        *,
        unit: str = "B",
        enabled: bool | None = None,
    ) -> None:
        env_off = os.environ.get("TOOLKIT_PROGRESS", "1").strip().lower() in {"0", "false", "no"}
        self._enabled = (not env_off) if enabled is None else enabled
        self._delay = _DELAY_S if enabled is None else 0.0
        self._description = description
        self._total = total
        self._unit = unit
        self._bar: Any = None
        self._done = 0.0

    def _ensure(self) -> Any:
        if self._bar is None and self._enabled:
            cls = _bar_class()
            self._bar = cls(
                total=self._total,
                desc=self._description,
                unit=self._unit,
                unit_scale=self._unit == "B",
                unit_divisor=1024 if self._unit == "B" else 1000,
                delay=self._delay,
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
            )
        return self._bar

    def update(self, n: float = 1) -> None:
        """Advance by ``n``."""
        self._done += n
        bar = self._ensure()
        if bar is not None:
            bar.update(n)

    def update_to(self, done: float, total: float | None = None) -> None:
        """Set the position (and total) directly."""
        if total is not None and total != self._total:
            self._total = total
            if self._bar is not None:
                self._bar.total = total
        self.update(done - self._done)

    def describe(self, description: str) -> None:
        """Change the text left of the bar."""
        self._description = description
        if self._bar is not None:
            self._bar.set_description_str(description, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
