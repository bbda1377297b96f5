"""Jupyter panels: retrain a recurrent network from sliders, watch K and P live.

:class:`TrainingLab` is the main panel. :class:`SpectrumPanel`,
:class:`TrajectoryPanel` and :class:`CollapsePanel` are smaller labs with one
view and a few controls each, for single lessons. Every panel can also show a
run trained elsewhere (``panel.show_run(run)``).
"""

from kpwidgets.widgets._figures import (
    FIGURE_BACKENDS,
    ipympl_front_end_installed,
    resolve_figure_backend,
)
from kpwidgets.widgets._settings import TASK_PRESETS, LabSettings
from kpwidgets.widgets.lab import VIEWS, TrainingLab
from kpwidgets.widgets.panels import CollapsePanel, SpectrumPanel, TrajectoryPanel

__all__ = [
    # the main panel
    "TrainingLab",
    "LabSettings",
    "VIEWS",
    "TASK_PRESETS",
    # focused panels
    "SpectrumPanel",
    "TrajectoryPanel",
    "CollapsePanel",
    # figures
    "FIGURE_BACKENDS",
    "resolve_figure_backend",
    "ipympl_front_end_installed",
]
