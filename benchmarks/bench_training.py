"""Training speed for the default widget configuration.

Measures, for a GRU with H = 64 on Memory-Pro (T = 90) with batches of 64:

1. throughput: optimiser steps per second of :func:`kpwidgets.training.train`,
   next to the cost of one plain forward pass of the same batch;
2. time to solve: steps and seconds until the response angle error on the
   noise-free evaluation batch falls under 10 degrees (target: under 30 s on
   a 2-core CPU), for a few seeds.

Run it with ``python benchmarks/bench_training.py [--threads N] [--seeds ...]``.
The torch thread count is fixed (default 1) and reported: on a shared 2-core
machine two threads make these small GEMMs much slower whenever the other core
is busy.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import torch

import kpwidgets
from kpwidgets.models import RecurrentModel
from kpwidgets.tasks import make_task
from kpwidgets.training import train

ARCHITECTURE, WIDTH, TASK, BATCH_SIZE = "gru", 64, "memory_pro", 64
LEARNING_RATE = 1e-2
TARGET_DEGREES, TARGET_SECONDS = 10.0, 30.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lr", type=float, default=LEARNING_RATE)
    parser.add_argument("--throughput-steps", type=int, default=100)
    parser.add_argument("--max-steps", type=int, default=2000)
    return parser.parse_args()


def fresh_model(task, seed):
    return RecurrentModel(
        ARCHITECTURE, task.input_size, WIDTH, task.output_size, seed=seed
    )


def forward_seconds(task) -> float:
    """Median time of one no-grad forward pass of a training-sized batch."""
    model = fresh_model(task, 0)
    inputs, _ = task.sample(BATCH_SIZE, torch.Generator().manual_seed(0))
    times = []
    with torch.no_grad():
        for _ in range(20):
            start = time.perf_counter()
            model(inputs)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def throughput(task, steps: int, lr: float) -> float:
    """Steps per second of train() over ``steps`` steps (after a warm-up run)."""
    train(fresh_model(task, 0), task, 5, lr, seed=0, cache=False)
    run = train(fresh_model(task, 0), task, steps, lr, seed=0, cache=False)
    return steps / run.elapsed


def time_to_solve(task, seed: int, lr: float, max_steps: int):
    """Steps and seconds until the evaluation angle error is under the target."""
    stop, solved = threading.Event(), {}

    def watch(step, metrics):
        if metrics.get("eval_accuracy", float("inf")) < TARGET_DEGREES:
            solved.update(step=step, seconds=metrics["elapsed"])
            stop.set()

    run = train(
        fresh_model(task, seed),
        task,
        max_steps,
        lr,
        batch_size=BATCH_SIZE,
        seed=seed,
        callback=watch,
        stop_event=stop,
        snapshot_every=10,
        cache=False,
    )
    return solved.get("step"), solved.get("seconds"), run.snapshots[-1].accuracy


def main() -> None:
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    task = make_task(TASK)
    print(
        f"kpwidgets {kpwidgets.__version__}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}"
    )
    print(
        f"config: {ARCHITECTURE} H={WIDTH}, {TASK} T={task.num_steps}, "
        f"batch {BATCH_SIZE}, adam lr={arguments.lr:g}"
    )

    forward = forward_seconds(task)
    rate = throughput(task, arguments.throughput_steps, arguments.lr)
    print(f"forward pass (no grad, B={BATCH_SIZE}): {1e3 * forward:.1f} ms")
    print(
        f"throughput: {rate:.1f} steps/s ({1e3 / rate:.1f} ms/step, "
        f"{1 / (rate * forward):.1f} forward passes per step)"
    )

    seconds = []
    for seed in arguments.seeds:
        step, elapsed, final_error = time_to_solve(
            task, seed, arguments.lr, arguments.max_steps
        )
        if step is None:
            print(
                f"seed {seed}: not solved in {arguments.max_steps} steps "
                f"(final error {final_error:.1f} deg)"
            )
            continue
        seconds.append(elapsed)
        verdict = "meets" if elapsed < TARGET_SECONDS else "misses"
        print(
            f"seed {seed}: error < {TARGET_DEGREES:g} deg at step {step} after "
            f"{elapsed:.1f} s ({verdict} the {TARGET_SECONDS:g} s target)"
        )
    if seconds:
        print(
            f"time to solve: median {statistics.median(seconds):.1f} s, "
            f"worst {max(seconds):.1f} s over {len(seconds)} solved seeds"
        )


if __name__ == "__main__":
    main()
