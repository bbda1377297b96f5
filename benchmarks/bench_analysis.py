"""Time of one KPFlow summary at the default widget configuration, in one run.

Usage::

    python benchmarks/bench_analysis.py [--threads 1] [--trials 32 64]

A GRU with H=64 on Memory-Pro (T=90): for each evaluation batch size, the
forward pass over the batch (the unit), then ``kpflow_summary`` cold (random
start vectors) and warm (started from the previous summary's eigenfunctions, as
the widgets do between snapshots), with the matvec counts of its eigensolves.
"""

from __future__ import annotations

import argparse
import time

import torch

from kpwidgets.analysis import kpflow_summary
from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import make_task


def seconds(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def report(num_trials: int) -> None:
    task = make_task("memory_pro")
    model = RecurrentModel("gru", task.input_size, 64, task.output_size, seed=0)
    inputs = task.evaluation_batch(num_trials=num_trials).inputs
    with torch.no_grad():
        model(inputs)
        unit = min(seconds(lambda: model(inputs, fused=False))[0] for _ in range(3))
    kpflow_summary(model, inputs, top_k=2)

    cold, summary = seconds(lambda: kpflow_summary(model, inputs))
    warm, _ = seconds(
        lambda: kpflow_summary(model, inputs, warm_start=summary.warm_start)
    )
    B, T, _ = inputs.shape
    print(f"\n== GRU H=64, memory_pro, evaluation batch B={B}, T={T}, float32")
    print(f"forward pass (cell loop, no grad): {unit * 1e3:.1f} ms = 1 unit")
    print(f"kpflow_summary, cold: {cold:6.2f} s = {cold / unit:6.0f} units")
    print(f"kpflow_summary, warm: {warm:6.2f} s = {warm / unit:6.0f} units")
    ranks = ", ".join(f"{k} {v:.3g}" for k, v in summary.effective_rank.items())
    print(f"effective ranks: {ranks}; misdirection {summary.misdirection:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--trials", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for num_trials in args.trials:
        report(num_trials)


if __name__ == "__main__":
    main()
