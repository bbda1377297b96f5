"""How responsive the TrainingLab is at its default settings, in one run.

Usage::

    python benchmarks/bench_widgets.py [--threads 1] [--figures ipympl image]

For the default panel (GRU, width 64, memory_pro with 30-step trials, 300
steps, batch 32) it prints, per figure backend:

- training time of plain :func:`kpwidgets.training.train` (same snapshots, no
  panel) against the same run inside the panel (live plots, snapshot analysis
  and spectra in the background), and the slowdown;
- the live update rate: redraws of the loss plot per second of training, and
  how many snapshots got spectra while training;
- the time from the end of training to the finished status (final spectra);
- the time from a control that needs no retraining (``Spectrum of``, ``View
  step``) to the redrawn figure, rendered;
- the time to go back to a remembered setting.

Targets (DESIGN.md section 5): redraw after a control change under 1 s, at least
2 live updates per second, training slowed by at most 20%.

Without a browser nobody renders ipympl figures, so a thread stands in for the
kernel's main thread answering the browser: it renders every canvas that asked
for a redraw, at most 60 times a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

os.environ.setdefault("KPWIDGETS_CACHE", "0")

import torch  # noqa: E402

from kpwidgets.models import RecurrentModel  # noqa: E402
from kpwidgets.training import resolve_device, train  # noqa: E402
from kpwidgets.widgets import TrainingLab  # noqa: E402
from kpwidgets.widgets._jobs import snapshot_interval  # noqa: E402
from kpwidgets.widgets._settings import build_task  # noqa: E402


class BrowserStandIn:
    """Render each ipympl canvas that asked for a redraw, like the browser would.

    Blitted updates send their pixels themselves; only full redraws (ipympl's
    ``draw_idle``) wait for the browser to ask for a render.
    """

    def __init__(self, lab: TrainingLab) -> None:
        self.hosts = [view.host for view in lab.plots.values()]
        self.rendered = {id(host): host.full_redraws for host in self.hosts}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> BrowserStandIn:
        if all(host.backend == "ipympl" for host in self.hosts):
            for host in self.hosts:
                # What the browser says once it shows the canvas: from then on
                # ipympl sends image diffs instead of keeping a PNG copy.
                host.widget._handle_message(host.widget, {"type": "initialized"}, [])
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()

    def _loop(self) -> None:
        while not self.stop.wait(1 / 60):
            for host in self.hosts:
                if host.full_redraws != self.rendered[id(host)]:
                    self.rendered[id(host)] = host.full_redraws
                    host.widget.draw()


def render(lab: TrainingLab, names) -> None:
    """Finish drawing ``names``: what the browser waits for after a change."""
    for name in names:
        host = lab.plots[name].host
        if host.backend == "ipympl":
            host.widget.draw()  # images were rendered when they were set


def plain_training_time(settings, repeats: int) -> float:
    task = build_task(settings.task, None)
    times = []
    for _ in range(repeats):
        model = RecurrentModel(
            settings.architecture, task.input_size, settings.width,
            task.output_size, init_scale=settings.init_scale, seed=settings.seed,
        )  # fmt: skip
        run = train(
            model, task, settings.steps, settings.learning_rate, batch_size=32,
            clip=1.0, seed=settings.seed, cache=False,
            snapshot_every=snapshot_interval(settings.steps),
        )  # fmt: skip
        times.append(run.elapsed)
    return min(times)


def long_run(figures: str, threads: int, steps: int = 1500) -> str:
    """Slowdown and live spectra of a longer run, where spectra come during it."""
    lab = TrainingLab(figures=figures, torch_threads=threads, steps=steps)
    plain = plain_training_time(lab.settings, 1)
    with BrowserStandIn(lab):
        run = panel_run(lab)
    return (
        f"{steps} steps: plain {plain:.1f} s, in the panel {run['elapsed']:.1f} s "
        f"({100 * (run['elapsed'] / plain - 1):+.0f}%), {run['rate']:.1f} loss "
        f"redraws per second, spectra while training: {run['live_spectra']} snapshots"
    )


def panel_run(lab: TrainingLab) -> dict[str, float]:
    loss = lab.plots["loss"].host
    before = loss.redraws
    lab.train()
    job = lab._job
    while job.state in ("starting", "training"):
        time.sleep(0.005)
    training_ended = time.perf_counter()
    redraws = loss.redraws - before
    run = lab.wait()
    finished = time.perf_counter() - training_ended
    live_spectra = sum(
        1
        for step, result in job.analyses.items()
        if result.spectra is not None and 0 < step < run.steps_completed
    )
    return {
        "elapsed": run.elapsed,
        "rate": redraws / run.elapsed,
        "live_spectra": live_spectra,
        "finish": finished,
    }


def timed(action) -> tuple[float, float]:
    """Wall and CPU seconds of ``action()`` (CPU: what an idle machine would see)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    action()
    return time.perf_counter() - wall, time.thread_time() - cpu


def control_latency(lab: TrainingLab, rounds: int):
    spectrum, view_step = [], []
    steps = list(lab.view_controls.view_step.options)
    controls = lab.view_controls

    def show_spectrum(value):
        controls.spectrum.value = value
        render(lab, ["spectra"])

    def show_step(step):
        controls.view_step.value = step
        render(lab, ["trajectories", "spectra", "collapse"])

    for index in range(rounds):
        for value in ("K", "PP*", "PKP*", "all"):
            spectrum.append(timed(lambda value=value: show_spectrum(value)))
        step = steps[(index * 7) % len(steps)]
        view_step.append(timed(lambda step=step: show_step(step)))
    controls.view_step.value = steps[-1]
    return spectrum, view_step


def revisit_latency(lab: TrainingLab) -> tuple[float, float]:
    width = lab.settings.width
    lab.configure(width=width // 2)
    lab.wait()

    def revisit():
        lab.configure(width=width)
        render(lab, list(lab.plots))

    times = timed(revisit)
    assert lab.state == "finished", lab.status.text
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--figures", nargs="+", default=["ipympl", "image"], choices=["ipympl", "image"]
    )
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)

    lab = TrainingLab(figures="image", torch_threads=arguments.threads)
    settings = lab.settings
    print(
        f"TrainingLab defaults: {settings.name} on {settings.task}, "
        f"{settings.steps} steps, batch 32; torch threads {arguments.threads}; "
        f"device {resolve_device().type}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} (other programs' load inflates wall times)"
    )
    for figures in arguments.figures:
        lab = TrainingLab(figures=figures, torch_threads=arguments.threads)
        with BrowserStandIn(lab):
            # Alternate plain and panel runs, so both meet the same machine load.
            plains, runs = [], []
            for _ in range(arguments.repeats):
                plains.append(plain_training_time(settings, 1))
                lab._remembered.clear()
                runs.append(panel_run(lab))
            plain = min(plains)
            best = min(runs, key=lambda run: run["elapsed"])
            spectrum, view_step = control_latency(lab, rounds=3)
            revisit = revisit_latency(lab)
        print(f"\n== figures={figures}")
        print(f"plain train(): {plain:.2f} s ({settings.steps / plain:.0f} steps/s)")
        print(
            f"training in the panel: {best['elapsed']:.2f} s, slowdown "
            f"{100 * (best['elapsed'] / plain - 1):+.0f}% (target <= +20%)"
        )
        print(
            f"live loss redraws: {best['rate']:.1f} per second (target >= 2); "
            f"spectra while training: {best['live_spectra']} snapshots"
        )
        print(f"end of training -> finished (final spectra): {best['finish']:.2f} s")
        for name, times in (("Spectrum of", spectrum), ("View step", view_step)):
            wall = [w for w, _ in times]
            cpu = [c for _, c in times]
            print(
                f"{name} change -> redrawn: median {statistics.median(wall):.3f} s, "
                f"max {max(wall):.3f} s (CPU median {statistics.median(cpu):.3f} s; "
                "target < 1 s)"
            )
        print(
            f"back to a remembered setting -> redrawn: {revisit[0]:.3f} s "
            f"(CPU {revisit[1]:.3f} s)"
        )
        print(f"longer run: {long_run(figures, arguments.threads)}")


if __name__ == "__main__":
    main()
