"""Smaller panels for single lessons: one view each, a few controls.

Each is a :class:`~kpwidgets.widgets.TrainingLab` with its own defaults, so
everything the lab does (Train, Stop, retraining on change, ``show_run``,
``wait``) works the same; pass ``views=`` or ``controls=`` to change them.
"""

from __future__ import annotations

from kpwidgets.widgets.lab import TrainingLab


class SpectrumPanel(TrainingLab):
    """The spectra of K, P P* and P K P*, with the loss, as width and g change."""

    default_controls = ("architecture", "width", "init_scale", "steps")
    default_views = ("loss", "spectra")
    default_title = "Spectra of K, P P* and P K P*"


class TrajectoryPanel(TrainingLab):
    """Hidden trajectories in their top three principal components, with the loss."""

    default_controls = ("architecture", "task", "width", "init_scale", "steps")
    default_views = ("loss", "trajectories")
    default_title = "Hidden trajectories during training"


class CollapsePanel(TrainingLab):
    """Effective ranks of the operators and of the hidden states over training."""

    default_controls = ("architecture", "width", "init_scale", "learning_rate", "steps")
    default_views = ("loss", "collapse")
    default_title = "Dimension collapse"
