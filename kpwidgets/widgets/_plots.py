"""The four live views: loss, hidden trajectories, spectra, dimension collapse.

Each view owns a :class:`FigureHost`, builds its artists once and afterwards
only changes their data (``set_data``) and asks for a redraw, from whichever
thread has new numbers. Views take plain numpy arrays and know nothing about
training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D

from kpwidgets.tasks import EvaluationBatch
from kpwidgets.widgets._analysis import OPERATORS, Spectra
from kpwidgets.widgets._figures import FigureHost
from kpwidgets.widgets._style import (
    ANGLE_COLORMAP,
    CATEGORICAL,
    EVAL_LOSS_STYLE,
    FONT_SIZE,
    HIDDEN_STYLE,
    LINESTYLES,
    OPERATOR_STYLES,
    TRAIN_LOSS_STYLE,
    log_y,
    style_axes,
)


def _positive(values: np.ndarray) -> np.ndarray:
    """``values`` with non-positive entries hidden (NaN), for log axes."""
    values = np.asarray(values, dtype=float)
    return np.where(values > 0, values, np.nan)


def _nice(value: float, down: bool = False) -> float:
    """The nearest of 1, 2, 5 times a power of ten below (or above) ``value``."""
    decade = 10.0 ** np.floor(np.log10(value))
    steps = [decade * m for m in (1, 2, 5, 10)]
    if down:
        return max(step for step in steps if step <= value * (1 + 1e-12))
    return min(step for step in steps if step >= value * (1 - 1e-12))


def _log_limits(
    current: tuple[float, float], data: list[np.ndarray]
) -> tuple[float, float]:
    """Log-axis limits for ``data``: ``current`` while they still fit well.

    New limits snap to 1, 2, 5 times a power of ten, and are chosen only when
    the data leave the current ones or fill less than a quarter of their
    decades, so an axis changes (and needs a full redraw) rarely.
    """
    values = np.concatenate([_positive(values) for values in data])
    values = values[np.isfinite(values)]
    if not values.size:
        return current
    low, high = values.min(), values.max()
    wanted = (_nice(low / 1.2, down=True), _nice(high * 1.2))
    outside = not current[0] <= low <= high <= current[1]
    loose = np.log10(current[1] / current[0]) > 4 * np.log10(wanted[1] / wanted[0])
    return wanted if outside or loose else current


def _legend(axes, **kwargs) -> None:
    axes.legend(fontsize=FONT_SIZE - 1, frameon=False, **kwargs)


def _figure_legend(figure, handles: list[Line2D]) -> None:
    """One row of legend entries along the bottom of the figure."""
    figure.legend(
        handles=handles,
        loc="lower center",
        ncols=len(handles),
        fontsize=FONT_SIZE - 1,
        frameon=False,
        handlelength=2.4,
        columnspacing=1.2,
    )


class LossPlot:
    """Training loss per step and evaluation loss at snapshots, log scale."""

    def __init__(self, backend: str) -> None:
        self.host = FigureHost(4.4, 2.9, backend)
        self.host.figure.subplots_adjust(left=0.16, right=0.97, bottom=0.16, top=0.9)
        self.axes = axes = self.host.figure.add_subplot()
        (self.train_line,) = axes.plot([], [], lw=1.0, **TRAIN_LOSS_STYLE.kwargs())
        (self.eval_line,) = axes.plot([], [], ms=4, **EVAL_LOSS_STYLE.kwargs())
        log_y(axes)
        style_axes(axes, "training step", "loss (mean squared error)", "Loss")
        _legend(axes, loc="upper right")
        # The lines move at every update, the axes only now and then.
        self.host.animate([self.train_line, self.eval_line])
        self._frame: tuple = ()
        self._set_frame((1e-3, 1.0), 1, "Loss")

    def _set_frame(self, ylim: tuple[float, float], total: int, title: str) -> bool:
        """Set limits and title; whether they changed (a full redraw)."""
        frame = (ylim, total, title)
        if frame == self._frame:
            return False
        self._frame = frame
        self.axes.set_ylim(*ylim)
        self.axes.set_xlim(0, total)
        self.axes.set_title(title, fontsize=FONT_SIZE + 1)
        return True

    def update(
        self,
        steps: np.ndarray,
        losses: np.ndarray,
        eval_steps: np.ndarray,
        eval_losses: np.ndarray,
        total_steps: int,
        title: str = "Loss",
    ) -> None:
        """Show the losses so far on an x-axis running to ``total_steps``.

        Redraws only the lines while the losses stay within the y-limits, which
        snap to 1, 2, 5 times a power of ten so they change rarely.
        """
        ylim = _log_limits(self._frame[0], [losses, eval_losses])
        with self.host.lock:
            moved = self._set_frame(ylim, max(total_steps, 1), title)
            with self.host.editing(animated_only=not moved):
                self.train_line.set_data(steps, _positive(losses))
                self.eval_line.set_data(eval_steps, _positive(eval_losses))


@dataclass(frozen=True)
class TrialStyles:
    """How each trial of an evaluation batch is drawn, and how to explain it."""

    colors: list[tuple[float, ...]]
    linestyles: list[str]
    legend: list[tuple[str, tuple[float, ...], str]]
    angle_colorbar: bool
    caption: str  # what the colours mean, when no legend or colour bar says it


def trial_styles(evaluation: EvaluationBatch) -> TrialStyles:
    """Colour trials by task (multitask), stimulus angle, or final bit pattern."""
    to_rgba = matplotlib.colors.to_rgba
    if evaluation.labels is not None:
        labels = evaluation.labels.tolist()
        colors = [to_rgba(CATEGORICAL[label % len(CATEGORICAL)]) for label in labels]
        styles = [LINESTYLES[label % len(LINESTYLES)] for label in labels]
        legend = [
            (name, to_rgba(CATEGORICAL[i % len(CATEGORICAL)]), LINESTYLES[i % 4])
            for i, name in enumerate(evaluation.label_names)
        ]
        return TrialStyles(colors, styles, legend, False, "")
    if evaluation.angles is not None:
        colormap = matplotlib.colormaps[ANGLE_COLORMAP]
        turns = (evaluation.angles.double().numpy() / (2 * np.pi)) % 1.0
        colors = [tuple(colormap(turn)) for turn in turns]
        return TrialStyles(colors, ["-"] * len(colors), [], True, "")
    bits = (evaluation.targets[:, -1] > 0).numpy()  # [B, K]
    codes = (bits * 2 ** np.arange(bits.shape[1])).sum(axis=1).tolist()
    colors = [to_rgba(CATEGORICAL[code % len(CATEGORICAL)]) for code in codes]
    return TrialStyles(colors, ["-"] * len(colors), [], False, "colour: final bits")


class TrajectoryPlot:
    """Hidden trajectories in their top three principal components (3-D)."""

    def __init__(self, backend: str) -> None:
        self.host = FigureHost(4.4, 3.6, backend)
        self.axes = self.host.figure.add_axes((0.0, 0.0, 0.84, 0.86), projection="3d")
        self.lines: list[Line2D] = []
        self._extras: list = []
        self.caption = ""
        self.axes.view_init(elev=22, azim=-55)
        self._label_axes(None)

    def set_trials(self, styles: TrialStyles) -> None:
        """Make one line per trial, drawn as ``styles`` says (clears the data)."""
        with self.host.editing():
            for artist in self.lines + self._extras:
                artist.remove()
            self.lines, self._extras = [], []
            for color, linestyle in zip(styles.colors, styles.linestyles, strict=True):
                (line,) = self.axes.plot(
                    [], [], [], color=color, linestyle=linestyle, linewidth=0.9,
                    marker="o", markevery=[-1], markersize=2.5,
                )  # fmt: skip
                self.lines.append(line)
            if styles.legend:
                handles = [
                    Line2D([], [], color=color, linestyle=style, label=name)
                    for name, color, style in styles.legend
                ]
                self._extras.append(
                    self.axes.legend(
                        handles=handles,
                        fontsize=FONT_SIZE - 2,
                        frameon=False,
                        loc="upper left",
                        bbox_to_anchor=(-0.1, 1.02),
                    )  # fmt: skip
                )
            if styles.angle_colorbar:
                mappable = ScalarMappable(
                    Normalize(0, 360), matplotlib.colormaps[ANGLE_COLORMAP]
                )
                colorbar = self.host.figure.colorbar(
                    mappable,
                    cax=self.host.figure.add_axes((0.86, 0.22, 0.025, 0.48)),
                    ticks=[0, 90, 180, 270, 360],
                )
                colorbar.set_label("stimulus angle (°)", fontsize=FONT_SIZE - 1)
                colorbar.ax.tick_params(labelsize=FONT_SIZE - 2)
                self._extras.append(colorbar)
            self.caption = styles.caption
            self._label_axes(None)

    def update(self, projection: np.ndarray, step: int, explained: float) -> None:
        """Show ``projection`` [B, T, 3] (one line per trial) at ``step``.

        ``explained`` is the fraction of the variance the three directions hold.
        """
        if projection.shape[0] != len(self.lines):
            raise ValueError(
                f"projection must have one trial per line ({len(self.lines)}); "
                f"got shape {list(projection.shape)}"
            )
        with self.host.editing():
            for line, trial in zip(self.lines, projection, strict=True):
                line.set_data_3d(trial[:, 0], trial[:, 1], trial[:, 2])
            low = projection.reshape(-1, 3).min(axis=0)
            high = projection.reshape(-1, 3).max(axis=0)
            pad = 0.05 * np.maximum(high - low, 1e-6)
            self.axes.set_xlim(low[0] - pad[0], high[0] + pad[0])
            self.axes.set_ylim(low[1] - pad[1], high[1] + pad[1])
            self.axes.set_zlim(low[2] - pad[2], high[2] + pad[2])
            self._label_axes(step, explained)

    def _label_axes(self, step: int | None, explained: float | None = None) -> None:
        axes = self.axes
        for set_label, name in zip(
            (axes.set_xlabel, axes.set_ylabel, axes.set_zlabel),
            ("PC 1", "PC 2", "PC 3"),
            strict=True,
        ):
            set_label(name, fontsize=FONT_SIZE - 1, labelpad=-12)
        # Principal-component units mean nothing to a student: no numbers.
        for axis in (axes.xaxis, axes.yaxis, axes.zaxis):
            axis.set_ticklabels([])
        when = "" if step is None else f", step {step}"
        notes = [] if explained is None else [f"top 3 PCs: {explained:.0%} of variance"]
        if self.caption:
            notes.append(self.caption)
        caption = f"\n({'; '.join(notes)})" if notes else ""
        axes.set_title(f"Hidden trajectories{when}{caption}", fontsize=FONT_SIZE + 1)


class SpectrumPlot:
    """Top eigenvalues of K, P P*, P K P* and the cumulative fraction of trace."""

    def __init__(self, backend: str) -> None:
        self.host = FigureHost(6.0, 3.1, backend)
        self.host.figure.subplots_adjust(
            left=0.11, right=0.98, bottom=0.27, top=0.9, wspace=0.32
        )
        self.values_axes, self.fraction_axes = self.host.figure.subplots(1, 2)
        self.value_lines: dict[str, Line2D] = {}
        self.fraction_lines: dict[str, Line2D] = {}
        for name, style in OPERATOR_STYLES.items():
            (self.value_lines[name],) = self.values_axes.plot(
                [], [], markersize=3.5, linewidth=1.2, **style.kwargs()
            )
            (self.fraction_lines[name],) = self.fraction_axes.plot(
                [], [], markersize=3.5, linewidth=1.2, **style.kwargs()
            )
        log_y(self.values_axes)
        self.values_axes.set_ylim(1e-2, 1e2)
        style_axes(self.values_axes, "mode", "eigenvalue", "Top eigenvalues")
        style_axes(
            self.fraction_axes,
            "modes kept",
            "fraction of the trace",
            "Cumulative fraction of the trace",
        )
        self.fraction_axes.set_ylim(0, 1.02)
        for axes in (self.values_axes, self.fraction_axes):
            axes.set_xlim(0.5, 10.5)
        _figure_legend(self.host.figure, list(self.value_lines.values()))

    def update(self, spectra: Spectra | None, step: int | None, shown: str) -> None:
        """Show ``spectra`` (None: not computed yet) of operator ``shown`` or all."""
        with self.host.editing():
            visible = []
            for name in OPERATORS:
                on = spectra is not None and shown in ("all", name)
                values = spectra.eigenvalues[name] if on else np.array([])
                fractions = spectra.cumulative_fraction[name] if on else np.array([])
                modes = np.arange(1, len(values) + 1)
                self.value_lines[name].set_data(modes, _positive(values))
                self.fraction_lines[name].set_data(modes, fractions)
                self.value_lines[name].set_visible(on)
                self.fraction_lines[name].set_visible(on)
                if on:
                    visible.append(_positive(values))
            shown_values = np.concatenate(visible) if visible else np.array([])
            shown_values = shown_values[np.isfinite(shown_values)]
            if shown_values.size:
                self.values_axes.set_ylim(
                    shown_values.min() / 2, shown_values.max() * 2
                )
                top_k = max(len(v) for v in visible)
                for axes in (self.values_axes, self.fraction_axes):
                    axes.set_xlim(0.5, top_k + 0.5)
            when = "not computed yet" if step is None else f"step {step}"
            self.values_axes.set_title(
                f"Top eigenvalues ({when})", fontsize=FONT_SIZE + 1
            )


class CollapsePlot:
    """Effective ranks of the operators and of the hidden states over training."""

    def __init__(self, backend: str) -> None:
        self.host = FigureHost(4.4, 3.1, backend)
        self.host.figure.subplots_adjust(left=0.15, right=0.97, bottom=0.27, top=0.9)
        self.axes = axes = self.host.figure.add_subplot()
        self.rank_lines: dict[str, Line2D] = {}
        for name, style in OPERATOR_STYLES.items():
            (self.rank_lines[name],) = axes.plot(
                [], [], markersize=3.5, linewidth=1.2, **style.kwargs()
            )
        (self.hidden_line,) = axes.plot(
            [], [], markersize=3.5, linewidth=1.4, **HIDDEN_STYLE.kwargs()
        )
        self.cursor = axes.axvline(0, color="#888888", linewidth=0.8, zorder=0)
        log_y(axes)
        style_axes(
            axes,
            "training step",
            "effective rank (participation ratio)",
            "Dimension over training",
        )
        lines = [*self.rank_lines.values(), self.hidden_line]
        _figure_legend(self.host.figure, lines)
        self.host.animate([self.cursor, *lines])
        self._frame: tuple = ()
        self._set_frame((1.0, 100.0), 1)

    def _set_frame(self, ylim: tuple[float, float], total: int) -> bool:
        """Set the limits; whether they changed (a full redraw)."""
        if (ylim, total) == self._frame:
            return False
        self._frame = (ylim, total)
        self.axes.set_ylim(*ylim)
        self.axes.set_xlim(0, total)
        return True

    def update(
        self,
        hidden_steps: np.ndarray,
        hidden_ratio: np.ndarray,
        spectra_steps: np.ndarray,
        ranks: Mapping[str, np.ndarray],
        cursor: int,
        total_steps: int,
    ) -> None:
        """Show participation ratios so far, and a cursor at the viewed step."""
        shown = [hidden_ratio, *(ranks[name] for name in OPERATORS if name in ranks)]
        ylim = _log_limits(self._frame[0], shown)
        with self.host.lock:
            moved = self._set_frame(ylim, max(total_steps, 1))
            with self.host.editing(animated_only=not moved):
                self.hidden_line.set_data(hidden_steps, _positive(hidden_ratio))
                for name in OPERATORS:
                    line = self.rank_lines[name]
                    if name in ranks:
                        line.set_data(spectra_steps, _positive(ranks[name]))
                    else:
                        line.set_data([], [])
                self.cursor.set_xdata([cursor, cursor])
