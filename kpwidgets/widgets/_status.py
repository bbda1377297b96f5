"""The status line, progress bar, error area and text readout of a panel.

The status line is plain text in a fixed vocabulary (``training gru-64 on cpu:
step 120 of 1000``, ``finished: ...``, ``stopped at step 412``, ``diverged at
step 37 (loss became nan): lower the learning rate``, ``error in ...``), so a
test, a screen reader and a student all read the same thing.
"""

from __future__ import annotations

import html
import threading
import traceback
from collections.abc import Sequence

import ipywidgets as widgets

# The bar colour of each panel state.
_BAR_STYLES = {
    "ready": "",
    "training": "info",
    "analysing": "info",
    "finished": "success",
    "stopped": "warning",
    "diverged": "danger",
    "error": "danger",
}


class StatusArea:
    """Progress bar, status line and a place where errors are shown in full.

    Attributes:
        progress: ``IntProgress`` over the run's steps.
        line: The status ``Label``.
        errors: An ``Output`` holding the tracebacks of anything that failed.
        widget: The laid-out area.
    """

    def __init__(self) -> None:
        self.progress = widgets.IntProgress(
            value=0,
            min=0,
            max=1,
            description="Progress",
            style={"description_width": "92px"},
            layout=widgets.Layout(width="420px"),
        )
        self.line = widgets.Label(
            value="", layout=widgets.Layout(width="auto", margin="0 0 0 12px")
        )
        self.errors = widgets.Output(
            layout=widgets.Layout(max_height="220px", overflow="auto")
        )
        self._lock = threading.Lock()
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [self.progress, self.line],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.errors,
            ]
        )

    @property
    def text(self) -> str:
        """The status line as shown."""
        return self.line.value

    def show(self, text: str, state: str) -> None:
        """Show ``text`` with the bar coloured for ``state``."""
        with self._lock:
            self.line.value = text
            self.progress.bar_style = _BAR_STYLES.get(state, "")

    def advance(self, value: int, maximum: int) -> None:
        """Move the bar to ``value`` of ``maximum``."""
        with self._lock:
            self.progress.max = max(maximum, 1)
            self.progress.value = min(value, self.progress.max)

    def report_error(self, where: str, error: BaseException) -> None:
        """Say in the status line that ``where`` failed; print the traceback below."""
        summary = f"{type(error).__name__}: {error}"
        self.show(f"error in {where}: {summary} (details below)", "error")
        details = "".join(
            traceback.format_exception(type(error), error, error.__traceback__)
        )
        self.errors.append_stderr(f"Error in {where}:\n{details}")

    def clear_errors(self) -> None:
        """Empty the error area."""
        self.errors.outputs = ()

    @property
    def error_text(self) -> str:
        """Everything the error area shows, as text."""
        return "".join(output.get("text", "") for output in self.errors.outputs)


def readout_html(title: str, rows: Sequence[tuple[str, str | None]]) -> str:
    """A small table of named numbers for an ``HTML`` widget.

    A row whose value is None is a heading for the rows after it.
    """
    cells = []
    for name, value in rows:
        if value is None:
            cells.append(
                f"<tr><td colspan='2' style='padding:4px 0 1px 0'>"
                f"<b>{html.escape(name)}</b></td></tr>"
            )
        else:
            cells.append(
                f"<tr><td style='padding:0 12px 0 0;color:#444;white-space:nowrap'>"
                f"{html.escape(name)}</td><td style='padding:0;"
                f"font-variant-numeric:tabular-nums'>{html.escape(value)}</td></tr>"
            )
    return (
        f"<div style='font-size:12.5px;line-height:1.3'>"
        f"<b>{html.escape(title)}</b><table>{''.join(cells)}</table></div>"
    )
