"""The report command, the condensed course data and the command line."""

from __future__ import annotations

import numpy as np
import pytest

from kpwidgets.experiments.__main__ import main
from kpwidgets.experiments.course_data import (
    COLLAPSE_FILE,
    MULTITASK_FILE,
    PARTITIONS,
    grouping_score,
    load_collapse_sweep,
    load_multitask_sweep,
    package_sweeps,
    regenerate_course_data,
)
from kpwidgets.experiments.report import BEGIN, END, build_report

FIGURES = ("ranks", "time_ranks", "dimension", "scale", "multitask")


PROSE_BEFORE = "# Ours\n\nprose before\n\n"
PROSE_AFTER = "\n\nprose after\n"


@pytest.fixture(scope="module")
def report(tiny_sweeps, tmp_path_factory):
    """The report command run once on the tiny sweeps, into a file with prose."""
    output = tmp_path_factory.mktemp("docs") / "findings.md"
    output.write_text(f"{PROSE_BEFORE}{BEGIN}\nold\n{END}{PROSE_AFTER}")
    status = main(
        [
            "report",
            "--collapse",
            str(tiny_sweeps / "collapse"),
            "--multitask",
            str(tiny_sweeps / "multitask"),
            "--output",
            str(output),
        ]
    )
    assert status == 0
    return output


def test_report_builds_from_a_tiny_sweep(report):
    text = report.read_text()

    assert "| 0.5 |" in text and "pro/anti" in text
    for name in FIGURES:
        figure = report.parent / "figures" / f"findings_{name}.png"
        assert figure.stat().st_size > 10_000
        assert f"(figures/findings_{name}.png)" in text


def test_report_keeps_the_prose_around_the_generated_part(report):
    text = report.read_text()

    assert text.startswith(f"{PROSE_BEFORE}{BEGIN}")
    assert text.endswith(f"{END}{PROSE_AFTER}")
    assert "\nold\n" not in text


def test_a_new_report_file_gets_a_title(tiny_sweeps, tmp_path, monkeypatch):
    # Figures are checked above; here only the markdown is of interest.
    monkeypatch.setattr("matplotlib.figure.Figure.savefig", lambda *a, **k: None)

    path = build_report(
        tiny_sweeps / "collapse", tiny_sweeps / "multitask", tmp_path / "new.md"
    )

    assert path.read_text().startswith(f"# Findings\n\n{BEGIN}")


def test_report_refuses_a_file_with_one_marker(tiny_sweeps, tmp_path):
    output = tmp_path / "findings.md"
    output.write_text(f"{BEGIN}\n")

    with pytest.raises(ValueError, match="must hold both marker lines"):
        build_report(tiny_sweeps / "collapse", tiny_sweeps / "multitask", output)


def test_condensed_sweeps_round_trip(tiny_sweeps, tmp_path):
    paths = package_sweeps(
        tiny_sweeps / "collapse", tiny_sweeps / "multitask", tmp_path
    )
    collapse = load_collapse_sweep(paths[0])
    multitask = load_multitask_sweep(paths[1])
    direct = load_collapse_sweep(tiny_sweeps / "collapse")

    assert collapse.architectures == ("gru", "rnn")
    np.testing.assert_array_equal(collapse.init_scales, [0.5, 2.0])
    assert collapse.metrics["rank_K"].shape == (2, 2, 1, 3)
    assert collapse.metrics["eigenvalues_PKP"].shape == (2, 2, 1, 3, 10)
    np.testing.assert_allclose(
        collapse.metrics["rank_K"], direct.metrics["rank_K"], rtol=1e-6
    )
    assert collapse.mean("hidden_pr").shape == (2, 2, 3)
    assert collapse.settings["hidden_size"] == 4
    assert multitask.metrics["cumulative_alignment"].shape == (2, 3, 4, 4)
    assert multitask.grouping("hidden_similarity", "pro/anti").shape == (2, 3)


def test_the_course_data_ships_with_the_package():
    collapse = load_collapse_sweep()
    multitask = load_multitask_sweep()

    assert collapse.architectures == ("gru", "rnn")
    assert len(collapse.init_scales) >= 6 and len(collapse.seeds) >= 3
    assert np.isfinite(collapse.metrics["rank_K"]).mean() > 0.9
    assert len(multitask.seeds) >= 10
    assert multitask.task_names == tuple(
        name for pair in PARTITIONS["delay/memory"] for name in pair
    )


def test_grouping_score_of_a_perfect_grouping():
    names = ("memory_pro", "memory_anti", "delay_pro", "delay_anti")
    blocks = np.kron(np.eye(2), np.ones((2, 2)))  # memory together, delay together

    assert grouping_score(blocks, names, "delay/memory") == pytest.approx(1.0)
    assert grouping_score(blocks, names, "pro/anti") == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="partition must be one of"):
        grouping_score(blocks, names, "left/right")


def test_command_line_reports_errors(tmp_path, capsys):
    status = main(["report", "--collapse", str(tmp_path / "nowhere")])

    assert status == 2
    assert "no sweep at" in capsys.readouterr().err


def test_command_line_sweep_resumes(tmp_path, capsys):
    arguments = ["sweep", "multitask", "--preset", "tiny", "--out", str(tmp_path)]

    assert main([*arguments, "--quiet"]) == 0
    assert main([*arguments, "--quiet"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 runs trained, 0 already done")
    assert lines[1].startswith("0 runs trained, 2 already done")


def test_one_call_regenerates_the_course_data(tmp_path):
    paths = regenerate_course_data(
        preset_name="tiny", sweeps=tmp_path / "sweeps", destination=tmp_path
    )

    assert [path.name for path in paths] == [COLLAPSE_FILE, MULTITASK_FILE]
    assert load_collapse_sweep(paths[0]).metrics["rank_K"].shape == (2, 2, 1, 3)
    assert len(load_multitask_sweep(paths[1]).seeds) == 2
    assert sorted(p.name for p in (tmp_path / "sweeps").iterdir()) == [
        "collapse-tiny",
        "multitask-tiny",
    ]
