"""Command line: ``python -m kpwidgets.experiments {sweep,report,package}``.

Examples::

    python -m kpwidgets.experiments sweep collapse --workers 2
    python -m kpwidgets.experiments sweep multitask --scheduler tcp://head:8786
    python -m kpwidgets.experiments package   # refresh the course's shipped data
    python -m kpwidgets.experiments report    # docs/findings.md and its figures
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from kpwidgets.experiments.runner import run_sweep
from kpwidgets.experiments.specs import EXPERIMENTS, PRESETS, preset

DEFAULT_SWEEPS = Path("sweeps")


def _progress_bar(description: str):
    """A tqdm bar fed by :func:`run_sweep`'s progress callback."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit="run")

    def update(done: int, total: int, run_id: str) -> None:
        bar.total = total
        bar.n = done
        if run_id:
            bar.set_postfix_str(run_id)
        bar.refresh()

    return bar, update


def _sweep(arguments: argparse.Namespace) -> int:
    specs = preset(arguments.experiment, arguments.preset)
    out = arguments.out or DEFAULT_SWEEPS / f"{arguments.experiment}-{arguments.preset}"
    bar, update = _progress_bar(f"{arguments.experiment} sweep")
    with bar:
        outcome = run_sweep(
            specs,
            out,
            workers=arguments.workers,
            scheduler=arguments.scheduler,
            threads=arguments.threads,
            progress=None if arguments.quiet else update,
        )
    print(
        f"{len(outcome.completed)} runs trained, {len(outcome.skipped)} already "
        f"done; results in {outcome.directory}"
    )
    return 0


def _report(arguments: argparse.Namespace) -> int:
    from kpwidgets.experiments.report import build_report

    path = build_report(
        collapse=arguments.collapse,
        multitask=arguments.multitask,
        output=arguments.output,
        figures_dir=arguments.figures,
    )
    print(f"wrote {path}")
    return 0


def _package(arguments: argparse.Namespace) -> int:
    from kpwidgets.experiments.course_data import package_sweeps

    paths = package_sweeps(arguments.collapse, arguments.multitask)
    for path in paths:
        print(f"wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    main = argparse.ArgumentParser(
        prog="python -m kpwidgets.experiments", description=__doc__.split("\n")[0]
    )
    main.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = main.add_subparsers(dest="command", required=True)

    sweep = commands.add_parser("sweep", help="train and measure a grid of runs")
    sweep.add_argument("experiment", choices=EXPERIMENTS)
    sweep.add_argument("--preset", choices=PRESETS, default="course")
    sweep.add_argument("--out", type=Path, help="result directory")
    sweep.add_argument("--workers", type=int, default=1, help="local processes")
    sweep.add_argument("--scheduler", help="Dask scheduler address, tcp://host:8786")
    sweep.add_argument("--threads", type=int, default=1, help="torch threads per run")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=_sweep)

    report = commands.add_parser("report", help="write findings.md and figures")
    report.add_argument("--collapse", type=Path, help="collapse sweep directory")
    report.add_argument("--multitask", type=Path, help="multitask sweep directory")
    report.add_argument("--output", type=Path, default=Path("docs/findings.md"))
    report.add_argument(
        "--figures", type=Path, help="figure folder (default: figures/ by --output)"
    )
    report.set_defaults(handler=_report)

    package = commands.add_parser(
        "package", help="condense sweeps into the package's course data"
    )
    package.add_argument(
        "--collapse", type=Path, default=DEFAULT_SWEEPS / "collapse-course"
    )
    package.add_argument(
        "--multitask", type=Path, default=DEFAULT_SWEEPS / "multitask-course"
    )
    package.set_defaults(handler=_package)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return arguments.handler(arguments)
    except (ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
