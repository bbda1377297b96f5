"""Write the findings report: figures and the generated part of findings.md.

``docs/findings.md`` mixes prose written by people with numbers written by
:func:`build_report`: the generated part sits between two marker lines and is
replaced on every build, the rest is left as it is. A missing file is created
with the generated part only.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from kpwidgets.experiments import figures
from kpwidgets.experiments.analysis import (
    LEARNED_LOSS,
    collapse_numbers,
    multitask_numbers,
)
from kpwidgets.experiments.course_data import (
    CollapseSweep,
    MultitaskSweep,
    load_collapse_sweep,
    load_multitask_sweep,
)

BEGIN = "<!-- BEGIN GENERATED: python -m kpwidgets.experiments report -->"
END = "<!-- END GENERATED -->"


def _number(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _settings_line(settings: dict) -> str:
    order = ("context_steps", "stimulus_steps", "memory_steps", "response_steps")
    options = settings["task_options"]
    phases = ", ".join(
        f"{key.removesuffix('_steps')} {options[key]}"
        for key in order
        if key in options
    )
    return (
        f"task `{settings['task']}` ({phases} steps), H = {settings['hidden_size']}, "
        f"Adam lr {settings['lr']:g}, clip {settings['clip']}, "
        f"{settings['steps']} steps of batch 64, a snapshot every "
        f"{settings['snapshot_every']} steps"
    )


def collapse_section(sweep: CollapseSweep, figure_links: dict[str, str]) -> str:
    """The collapse part of the generated report (markdown)."""
    numbers = collapse_numbers(sweep)
    lines = [
        "### Dynamic collapse sweep",
        "",
        f"{len(sweep.architectures)} architectures x {len(sweep.init_scales)} "
        f"values of g x {len(sweep.seeds)} seeds; {_settings_line(sweep.settings)}. "
        f"Operators built on {sweep.settings['analysis_trials']} evaluation trials "
        "in float64; effective rank = participation ratio tr(N)^2 / tr(N^2).",
        "",
        f"![effective ranks]({figure_links['ranks']})",
        "",
        f"![ranks over time]({figure_links['time_ranks']})",
        "",
        f"![hidden dimension, loss, misdirection]({figure_links['dimension']})",
        "",
        f"![against g]({figure_links['scale']})",
        "",
    ]
    for architecture, entry in numbers.items():
        lines += [
            f"**{architecture.upper()}** (seed means; ranks averaged over snapshots; "
            f"learned = 20-step mean training loss below {LEARNED_LOSS})",
            "",
            "| g | hidden PR start | min | end | learned | steps to learn "
            "| final error (deg) | rank K | rank P P* | rank P K P* | misdirection |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in entry["rows"]:
            lines.append(
                f"| {row['g']:g} | {_number(row['pr_start'], 2)} "
                f"| {_number(row['pr_min'], 2)} | {_number(row['pr_end'], 2)} "
                f"| {row['learned']}/{row['seeds']} "
                f"| {_number(row['steps_to_learn'], 0)} "
                f"| {_number(row['accuracy_end'])} | {_number(row['rank_K'])} "
                f"| {_number(row['rank_PP'])} | {_number(row['rank_PKP'])} "
                f"| {_number(row['misdirection'], 2)} |"
            )
        lines.append("")
        for prefix, what in (("rank", "overall"), ("time_rank", "over time")):
            rank = entry["rank"][prefix]
            lines.append(
                f"- {what}: rank K < rank P P* at "
                f"{_number(100 * rank['k_below_pp'], 0)}% of {rank['snapshots']} "
                f"snapshots; rank P K P* nearer rank K than rank P P* (log scale) "
                f"at {_number(100 * rank['pkp_nearer_k'], 0)}%; median rank "
                f"P K P* / rank K = {_number(rank['median_pkp_over_k'], 2)}; "
                f"correlation of log ranks, P K P* with K: "
                f"{_number(rank['corr_pkp_k'], 2)}, with P P*: "
                f"{_number(rank['corr_pkp_pp'], 2)}"
            )
        lines.append("")
    return "\n".join(lines)


def multitask_section(sweep: MultitaskSweep, figure_link: str) -> str:
    """The multi-task part of the generated report (markdown)."""
    numbers = multitask_numbers(sweep)
    lines = [
        "### Multi-task sweep",
        "",
        f"{numbers['seeds']} GRUs; {_settings_line(sweep.settings)}. Grouping "
        "score = mean within-pair minus mean across-pair entry of the "
        "symmetrised 4 x 4 task matrix; half-time = first snapshot at which the "
        "score reaches half its final value.",
        "",
        f"![multitask]({figure_link})",
        "",
        "| grouping | measure | final score (mean ± sd) | seeds > 0 | half-time "
        "(steps) |",
        "|---|---|---|---|---|",
    ]
    for partition in ("pro/anti", "delay/memory"):
        entry = numbers[partition]
        for measure, label in (
            ("hidden", "hidden similarity"),
            ("operator", "operator alignment"),
        ):
            m = entry[measure]
            lines.append(
                f"| {partition} | {label} | {_number(m['final_mean'], 2)} ± "
                f"{_number(m['final_std'], 2)} | {m['positive']}/{numbers['seeds']} "
                f"| {_number(m['half_time'], 0)} |"
            )
    lines.append("")
    for partition in ("pro/anti", "delay/memory"):
        entry = numbers[partition]
        lines.append(
            f"- {partition}: the operator score reached half its final value "
            f"before the hidden score in {entry['earlier']} of {entry['compared']} "
            "seeds where both end positive."
        )
    prediction = numbers["prediction"]
    picks = sorted({0, 1, 2, 4, len(sweep.steps) // 4, len(sweep.steps) - 1})
    picks = [p for p in picks if p < len(sweep.steps)]
    lines += [
        "",
        "Correlation with the final hidden similarity (6 task pairs, seed mean):",
        "",
        "| step | " + " | ".join(str(int(sweep.steps[p])) for p in picks) + " |",
        "|---|" + "---|" * len(picks),
    ]
    for measure, label in (
        ("hidden", "hidden similarity"),
        ("operator", "operator alignment"),
    ):
        lines.append(
            f"| {label} | "
            + " | ".join(_number(prediction[measure][p], 2) for p in picks)
            + " |"
        )
    lines.append("")
    return "\n".join(lines)


def build_report(
    collapse: str | os.PathLike[str] | None = None,
    multitask: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] = "docs/findings.md",
    figures_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Draw the figures and rewrite the generated part of the report.

    Args:
        collapse: A collapse sweep directory or condensed npz; the course data
            that ships with kpwidgets when None.
        multitask: The same for the multi-task sweep.
        output: The markdown file.
        figures_dir: Folder of the ``findings_*.png`` figures; ``figures``
            next to ``output`` when None.

    Returns:
        The path of the markdown file.

    Raises:
        ValueError: If a sweep cannot be read, or ``output`` has only one of
            the two marker lines.
    """
    output = Path(output)
    text = output.read_text() if output.exists() else ""
    if (BEGIN in text) != (END in text):
        raise ValueError(
            f"{output} must hold both marker lines {BEGIN!r} and {END!r}, or neither"
        )
    folder = Path(figures_dir or output.parent / "figures")
    folder.mkdir(parents=True, exist_ok=True)
    collapse_sweep = load_collapse_sweep(collapse)
    multitask_sweep = load_multitask_sweep(multitask)

    drawn = {
        "ranks": figures.rank_figure(collapse_sweep, "rank"),
        "time_ranks": figures.rank_figure(collapse_sweep, "time_rank"),
        "dimension": figures.dimension_figure(collapse_sweep),
        "scale": figures.scale_figure(collapse_sweep),
        "multitask": figures.multitask_figure(multitask_sweep),
    }
    links = {}
    for name, figure in drawn.items():
        path = folder / f"findings_{name}.png"
        figure.savefig(path, dpi=100)
        links[name] = os.path.relpath(path, output.parent)

    generated = "\n".join(
        [
            BEGIN,
            "",
            collapse_section(collapse_sweep, links),
            multitask_section(multitask_sweep, links["multitask"]),
            END,
        ]
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + generated + tail
    else:
        text = (text + "\n\n" if text else "# Findings\n\n") + generated + "\n"
    output.write_text(text)
    return output


__all__ = ["build_report", "collapse_section", "multitask_section", "BEGIN", "END"]
