"""Draw docs/figures/course.png, the README's picture of the course.

Left, from notebook 01: a GRU's memory states during the memory period of
Memory-Pro, before and after training (they settle on a ring). Right, from
notebook 05: a chaotic tanh RNN's hidden dimension and the effective ranks of
K, P P* and P K P* over training (dynamic collapse).

Run from the repository root: ``.venv/bin/python docs/figures/make_course_figure.py``
(about half a minute on a laptop; uses the run cache).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import kpwidgets as kpw  # noqa: E402
from kpwidgets.analysis import kpflow_summary  # noqa: E402
from kpwidgets.analysis.projection import principal_components  # noqa: E402
from kpwidgets.style import ANGLE_COLORMAP  # noqa: E402

OUTPUT = Path(__file__).with_name("course.png")
SETTINGS = {"lr": 3e-3, "batch_size": 32, "clip": 1.0, "seed": 0}


def draw_ring(axes_pair, task) -> None:
    """Memory-period paths of an untrained and a trained GRU, coloured by angle."""
    model = kpw.RecurrentModel("gru", 3, 64, 3, seed=0)
    run = kpw.train(model, task, steps=400, **SETTINGS)
    memory = task.phases["memory"]
    angles = run.evaluation.angles
    colours = plt.get_cmap(ANGLE_COLORMAP)((angles / (2 * math.pi)).numpy())
    for axes, snapshot in zip(
        axes_pair, [run.snapshots[0], run.snapshots[-1]], strict=True
    ):
        paths = principal_components(snapshot.hidden[:, memory], 2).projection
        for b, colour in enumerate(colours):
            axes.plot(paths[b, :, 0], paths[b, :, 1], color=colour, lw=0.8, ls="-")
            axes.plot(paths[b, -1, 0], paths[b, -1, 1], "o", ms=4, color=colour)
        stage = (
            "untrained" if snapshot.step == 0 else f"trained ({snapshot.step} steps)"
        )
        axes.set_title(f"GRU memory states, {stage}")
        axes.set_xlabel("PC 1")
        axes.set_ylabel("PC 2")


def draw_collapse(axes, task) -> None:
    """Hidden dimension and operator effective ranks of a g = 3 tanh RNN."""
    model = kpw.RecurrentModel("rnn", 3, 64, 3, init_scale=3.0, seed=0)
    run = kpw.train(model, task, steps=500, snapshot_every=25, **SETTINGS)
    chosen = range(0, len(run.snapshots), 2)
    steps = [run.snapshots[index].step for index in chosen]
    summaries = [
        kpflow_summary(run.build_model(i), run.evaluation.inputs) for i in chosen
    ]
    labels = {"K": "$K$", "PP*": "$P P^*$", "PKP*": "$P K P^*$"}
    for name, label in labels.items():
        ranks = [summary.effective_rank[name] for summary in summaries]
        axes.semilogy(steps, ranks, "o-", ms=3, label=f"effective rank of {label}")
    curve = kpw.collapse_curve(run)
    axes.semilogy(curve["step"], curve["participation_ratio"], "k-", label="hidden PR")
    axes.set_title("tanh RNN, g = 3: dynamic collapse")
    axes.set_xlabel("training step")
    axes.set_ylabel("participation ratio")
    axes.legend(fontsize=8)


def main() -> None:
    kpw.setup()
    task = kpw.make_task(
        "memory_pro",
        stimulus_steps=10,
        memory_steps=10,
        response_steps=10,
        grace_steps=3,
    )
    figure, panels = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    draw_ring(panels[:2], task)
    draw_collapse(panels[2], task)
    figure.savefig(OUTPUT, dpi=100)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
