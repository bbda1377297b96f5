"""How each quantity is drawn in every panel, on the course's style.

The colours come from :mod:`kpwidgets.style` (Okabe and Ito's palette, readable
with every common colour-vision deficiency); each quantity also gets its own
line style and marker, so the plots read in greyscale too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.ticker import Formatter

from kpwidgets.style import (
    ANGLE_COLORMAP,
    BLACK,
    BLUE,
    CATEGORICAL,
    DPI,
    FONT_SIZE,
    GREEN,
    LINESTYLES,
    ORANGE,
    VERMILLION,
)

__all__ = [
    "ANGLE_COLORMAP",
    "CATEGORICAL",
    "DPI",
    "FONT_SIZE",
    "LINESTYLES",
    "OPERATOR_STYLES",
    "HIDDEN_STYLE",
    "TRAIN_LOSS_STYLE",
    "EVAL_LOSS_STYLE",
    "Style",
    "style_axes",
    "log_y",
]


@dataclass(frozen=True)
class Style:
    """How one quantity is drawn wherever it appears."""

    label: str
    color: str
    linestyle: str
    marker: str

    def kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``Axes.plot``."""
        return {
            "label": self.label,
            "color": self.color,
            "linestyle": self.linestyle,
            "marker": self.marker,
        }


# The three operators, keyed as in kpwidgets.analysis.KPFlowSummary.
OPERATOR_STYLES = {
    "K": Style("K", BLUE, "-", "o"),
    "PP*": Style("P P*", ORANGE, "--", "s"),
    "PKP*": Style("P K P*", GREEN, "-.", "^"),
}
HIDDEN_STYLE = Style("hidden states (PCA)", VERMILLION, ":", "D")
TRAIN_LOSS_STYLE = Style("training batch", BLACK, "-", "")
EVAL_LOSS_STYLE = Style("evaluation batch", VERMILLION, "none", "o")


def style_axes(axes: Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Label an axes and give it the panels' quiet look."""
    axes.set_xlabel(xlabel, fontsize=FONT_SIZE)
    axes.set_ylabel(ylabel, fontsize=FONT_SIZE)
    axes.set_title(title, fontsize=FONT_SIZE + 1)
    axes.tick_params(labelsize=FONT_SIZE - 1)
    axes.grid(True, which="major", alpha=0.3, linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


class _PlainLogFormatter(Formatter):
    """Log-axis labels as plain numbers (0.05, 2, 300); minor ones on short axes."""

    def __init__(self, minor: bool) -> None:
        self.minor = minor

    def __call__(self, value: float, position: int | None = None) -> str:
        if value <= 0:
            return ""
        if self.minor:
            low, high = self.axis.get_view_interval()
            mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
            if high > 100 * low or round(mantissa) not in (2, 3, 5):
                return ""
        return f"{value:g}"


def log_y(axes: Axes) -> None:
    """Give ``axes`` a logarithmic y-axis labelled with plain numbers."""
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(_PlainLogFormatter(minor=False))
    axes.yaxis.set_minor_formatter(_PlainLogFormatter(minor=True))
