"""The course's plot style: Okabe-Ito colours with distinct line styles.

The palette is Okabe and Ito's (2008), readable with every common colour-vision
deficiency; each colour of the cycle also gets its own line style, so the plots
read in greyscale too.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

# Okabe-Ito, by name.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

# Categorical colours in order of contrast on white (yellow last).
CATEGORICAL = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, BLACK, YELLOW)
LINESTYLES = ("-", "--", "-.", ":")

# A perceptually uniform cyclic map for stimulus angles.
ANGLE_COLORMAP = "twilight"

DPI = 90
FONT_SIZE = 9


def apply_style() -> None:
    """Set matplotlib defaults: colour-blind-safe cycle, readable sizes, light grid."""
    colours = CATEGORICAL[:7]
    styles = [LINESTYLES[index % len(LINESTYLES)] for index in range(len(colours))]
    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=colours) + cycler(linestyle=styles),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": FONT_SIZE + 1,
            "figure.figsize": (6.0, 3.6),
            "figure.dpi": DPI,
            "image.cmap": "viridis",
        }
    )
