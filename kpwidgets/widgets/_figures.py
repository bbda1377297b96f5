"""Matplotlib figures inside widgets, live with ipympl or as PNG images.

A :class:`FigureHost` owns one figure and the widget that shows it. With the
ipympl front end the widget is ipympl's canvas: updates change the artists and
call ``draw_idle``, and the kernel renders when the browser asks. Without it
the figure is rendered to PNG into an ``ipywidgets.Image`` on every redraw.
Artists that change often (the loss curve) can be blitted: redrawn alone over
a saved background, which costs a tenth of a full draw.

Figures are built as :class:`matplotlib.figure.Figure` objects, never through
pyplot, so they are never shown twice, never registered with pyplot's figure
manager and never leak between panels (the effect ``plt.ioff()`` has for pyplot
figures, without changing pyplot's global state).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import matplotlib
import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.backend_bases import DrawEvent
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kpwidgets._validation import check_choice
from kpwidgets.widgets._style import DPI

FIGURE_BACKENDS = ("auto", "ipympl", "image")

# Overrides figures="auto" for every panel, e.g. KPWIDGETS_FIGURES=image.
BACKEND_VARIABLE = "KPWIDGETS_FIGURES"

IPYMPL_HINT = (
    "Figures are static images: the ipympl front end (jupyter-matplotlib) was not "
    "found. For live, zoomable figures run <code>pip install ipympl</code> in the "
    "kernel's environment, then restart JupyterLab and reload the page."
)


def ipympl_front_end_installed() -> bool:
    """Whether ipympl and its JupyterLab or Notebook front end are installed."""
    if importlib.util.find_spec("ipympl") is None:
        return False
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return False
    for kind in ("labextensions", "nbextensions"):
        for directory in jupyter_path(kind):
            if (Path(directory) / "jupyter-matplotlib").is_dir():
                return True
    return False


def resolve_figure_backend(requested: str = "auto") -> str:
    """``"ipympl"`` or ``"image"``: what ``requested`` means on this machine.

    Args:
        requested: ``"auto"`` (ipympl when its front end is installed, else
            images; ``$KPWIDGETS_FIGURES`` overrides it), ``"ipympl"`` or
            ``"image"``.

    Raises:
        ValueError: For an unknown name, or ``"ipympl"`` without ipympl.
    """
    check_choice("figures", requested, FIGURE_BACKENDS)
    if requested == "auto":
        requested = os.environ.get(BACKEND_VARIABLE, "auto").strip().lower() or "auto"
        check_choice(f"${BACKEND_VARIABLE}", requested, FIGURE_BACKENDS)
    if requested == "auto":
        return "ipympl" if ipympl_front_end_installed() else "image"
    if requested == "ipympl" and importlib.util.find_spec("ipympl") is None:
        raise ValueError(
            "figures='ipympl' needs the ipympl package (pip install ipympl); "
            "use figures='image' or 'auto' without it"
        )
    return requested


def _ipympl_canvas_class() -> type:
    """ipympl's ``Canvas``, leaving matplotlib's backend as the notebook had it.

    Importing ipympl switches matplotlib to its backend, which would turn every
    later ``plt`` figure of the notebook into a widget; the previous backend is
    put back.
    """
    previous = dict.__getitem__(matplotlib.rcParams, "backend")
    from ipympl.backend_nbagg import Canvas

    if dict.__getitem__(matplotlib.rcParams, "backend") != previous:
        matplotlib.use(previous)
    return Canvas


@functools.cache
def _locked_canvas_class() -> type:
    """ipympl's canvas, rendering only while its figure's lock is free."""
    Canvas = _ipympl_canvas_class()  # noqa: N806

    class LockedCanvas(Canvas):
        def draw(self) -> None:
            # The browser's draw requests run on the kernel's main thread while
            # a training thread may be changing artists under the same lock.
            with self.host.lock:
                started = time.thread_time()
                super().draw()
                self.host.render_seconds = time.thread_time() - started

    return LockedCanvas


class FigureHost:
    """One figure, the widget showing it, and a lock for editing it from threads.

    Args:
        width: Figure width in inches.
        height: Figure height in inches.
        backend: ``"ipympl"`` or ``"image"`` (see :func:`resolve_figure_backend`).

    Attributes:
        figure: The :class:`~matplotlib.figure.Figure`.
        widget: What to put in a layout: ipympl's canvas or an ``Image``.
        lock: Held while artists change and while the figure renders.
        redraws: How many redraws were requested (for benchmarks and tests).
        full_redraws: How many of them redrew the whole figure (not a blit).
        last_redraw: ``time.perf_counter()`` of the latest redraw, or None.
        render_seconds: CPU seconds the latest render took (a guess at first).
    """

    def __init__(self, width: float, height: float, backend: str) -> None:
        self.backend = check_choice("backend", backend, ("ipympl", "image"))
        # Fixed margins (set by each view): constrained layout doubles draw time.
        self.figure = Figure(figsize=(width, height), dpi=DPI)
        self.lock = threading.RLock()
        self.redraws = 0
        self.full_redraws = 0
        self.last_redraw: float | None = None
        self.render_seconds = 0.05
        self._animated: list[Artist] = []
        self._background = None
        self._background_size: tuple[int, int] | None = None
        if backend == "ipympl":
            from ipympl.backend_nbagg import FigureManager

            canvas = _locked_canvas_class()(self.figure)
            canvas.host = self
            with warnings.catch_warnings():
                # ipympl's toolbar passes its canvas on to traitlets, which
                # objects; nothing a user of the panel can act on.
                warnings.filterwarnings(
                    "ignore", "Passing unrecognized arguments", DeprecationWarning
                )
                FigureManager(canvas, 0)
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.resizable = False
            canvas.toolbar_visible = "fade-in-fade-out"
            self.widget: widgets.DOMWidget = canvas
        else:
            FigureCanvasAgg(self.figure)
            self.widget = widgets.Image(
                format="png",
                layout=widgets.Layout(width=f"{round(width * DPI)}px", height="auto"),
            )

    def animate(self, artists: Sequence[Artist]) -> None:
        """Draw ``artists`` apart from the rest, so updates can redraw them alone.

        Matplotlib's blitting: a full draw saves the figure without them as a
        background, then draws them on top; ``editing(animated_only=True)``
        restores that background and redraws only these artists, about ten
        times cheaper than a full draw.
        """
        for artist in artists:
            artist.set_animated(True)
        self._animated = list(artists)
        self.figure.canvas.mpl_connect("draw_event", self._on_draw)

    @contextmanager
    def editing(self, *, animated_only: bool = False) -> Iterator[Figure]:
        """Hold the figure while changing artists; redraw when the block ends.

        Args:
            animated_only: Only the artists given to :meth:`animate` changed
                (not the limits, labels or titles): redraw just those.
        """
        with self.lock:
            yield self.figure
            if animated_only and self._background_fits():
                self._blit()
            else:
                self._redraw()

    @property
    def deferred_cost(self) -> float:
        """CPU seconds a full redraw costs after it is requested: ipympl
        renders later, on the kernel's main thread, when the browser asks;
        images render at once."""
        return self.render_seconds if self.backend == "ipympl" else 0.0

    def render(self) -> bytes:
        """Render the figure now and return it as PNG bytes."""
        with self.lock:
            started = time.thread_time()
            self.figure.canvas.draw()
            png = self._png()
            self.render_seconds = time.thread_time() - started
            return png

    def _png(self) -> bytes:
        """The canvas's current pixels as PNG bytes."""
        buffer = io.BytesIO()
        PIL.Image.fromarray(np.asarray(self.figure.canvas.buffer_rgba())).save(
            buffer, format="png"
        )
        return buffer.getvalue()

    def _on_draw(self, event: DrawEvent) -> None:
        canvas = self.figure.canvas
        if event.renderer is getattr(canvas, "renderer", None):
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._background_size = canvas.get_width_height(physical=True)
        for artist in self._animated:
            artist.draw(event.renderer)

    def _background_fits(self) -> bool:
        canvas = self.figure.canvas
        return (
            self._background is not None
            and self._background_size == canvas.get_width_height(physical=True)
        )

    def _blit(self) -> None:
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for artist in self._animated:
            self.figure.draw_artist(artist)
        if self.backend == "ipympl":
            canvas.blit(self.figure.bbox)
        else:
            self.widget.value = self._png()
        self._count_redraw()

    def _redraw(self) -> None:
        if self.backend == "ipympl":
            self.figure.canvas.draw_idle()
        else:
            self.widget.value = self.render()
        self.full_redraws += 1
        self._count_redraw()

    def _count_redraw(self) -> None:
        self.redraws += 1
        self.last_redraw = time.perf_counter()
