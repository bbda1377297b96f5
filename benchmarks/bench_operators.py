"""Cost of the KPFlow operators as multiples of one forward pass, in one run.

Usage::

    python benchmarks/bench_operators.py [--threads 1] [--repeats 3]

For a GRU at the paper's scale (H=256, B=50, T=90) and at the default widget
size (H=64, B=32, T=60), float32, it prints the time of one forward pass of the
cell over the batch (the unit), then each operator's build and matvec cost in
that unit, the per-probe cost of a block of 32 probes against single matvecs,
a top-10 eigensolve of P K P*, and the peak extra memory of building and
applying the operators (measured in a child process, from its peak RSS).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import torch

from kpwidgets.operators import (
    ParameterOperator,
    PropagationOperator,
    kpflow_operators,
)

SIZES = {"paper": (50, 90, 256), "widget": (32, 60, 64)}
INPUT_SIZE = 3
PROBES = 32


def make_trajectory(batch, steps, hidden_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    cell = torch.nn.GRUCell(INPUT_SIZE, hidden_size)
    inputs = torch.randn(batch, steps, INPUT_SIZE, generator=generator)
    return cell, inputs, forward(cell, inputs)


@torch.no_grad()
def forward(cell, inputs):
    state = torch.zeros(inputs.shape[0], cell.hidden_size)
    states = []
    for t in range(inputs.shape[1]):
        state = cell(inputs[:, t], state)
        states.append(state)
    return torch.stack(states, dim=1)


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb():
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited on fork)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def measure_memory(size_name):
    """Child process: peak extra RSS of building and applying the operators."""
    torch.set_num_threads(1)
    # Touch every code path once at toy size, so that library pages loaded on
    # first use are not counted as the operators' memory.
    warm_cell, warm_inputs, warm_hidden = make_trajectory(2, 3, 8)
    kpflow_operators(warm_cell, warm_inputs, warm_hidden).hidden_ntk.matvec(
        torch.randn_like(warm_hidden)
    )
    cell, inputs, hidden = make_trajectory(*SIZES[size_name])
    probe = torch.randn_like(hidden)
    forward(cell, inputs)
    baseline = current_rss_mb()
    operators = kpflow_operators(cell, inputs, hidden)
    operators.hidden_ntk.matvec(probe)
    print(f"{peak_rss_mb() - baseline:.1f}")


def report(size_name, repeats):
    batch, steps, hidden_size = SIZES[size_name]
    cell, inputs, hidden = make_trajectory(batch, steps, hidden_size)
    probe = torch.randn_like(hidden)
    block = torch.randn(PROBES, *hidden.shape)
    unit = best_time(lambda: forward(cell, inputs), repeats)

    operators = kpflow_operators(cell, inputs, hidden)
    K, P, ntk = operators.K, operators.P, operators.hidden_ntk
    rows = [
        (
            "build K and P together",
            best_time(lambda: kpflow_operators(cell, inputs, hidden), 1),
        ),
        ("build K", best_time(lambda: ParameterOperator(cell, inputs, hidden), 1)),
        ("build P", best_time(lambda: PropagationOperator(cell, inputs, hidden), 1)),
        ("matvec K", best_time(lambda: K.matvec(probe), repeats)),
        ("matvec P", best_time(lambda: P.matvec(probe), repeats)),
        ("matvec P*", best_time(lambda: P.T.matvec(probe), repeats)),
        ("matvec P K P*", best_time(lambda: ntk.matvec(probe), repeats)),
    ]
    print(f"\n== GRU {size_name} size: B={batch}, T={steps}, H={hidden_size}, float32")
    print(f"one forward pass (cell loop, no grad): {unit * 1e3:.1f} ms = 1 unit")
    for name, seconds in rows:
        print(f"{name:<28}{seconds * 1e3:9.1f} ms {seconds / unit:7.2f} units")

    for name, op in [("K", K), ("P", P), ("P*", P.T), ("P K P*", ntk)]:
        single = best_time(lambda op=op: op.matvec(probe), repeats)
        folded = best_time(lambda op=op: op.matvec(block), 1) / PROBES
        print(
            f"block of {PROBES} through {name:<7} {folded * 1e3:9.1f} ms/probe, "
            f"{single / folded:5.2f}x cheaper per probe than single matvecs"
        )

    try:
        from kpwidgets.linalg import top_eigenpairs
    except ImportError:
        print("top-10 eigenpairs: kpwidgets.linalg.top_eigenpairs not available")
    else:
        start = time.perf_counter()
        result = top_eigenpairs(ntk, 10)
        seconds = time.perf_counter() - start
        print(
            f"top-10 eigenpairs of P K P*   {seconds:9.2f} s  {seconds / unit:7.1f} "
            f"units, {result.num_matvecs} matvecs, converged={result.converged}"
        )

    # Large blocks from mmap, so freed memory leaves the process and the peak
    # RSS of the child measures what the operators themselves hold.
    memory = subprocess.run(
        [sys.executable, __file__, "--memory", size_name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"},
    ).stdout.strip()
    trajectory_mb = hidden.numel() * hidden.element_size() / 2**20
    print(
        f"peak extra memory, build K and P + one P K P* matvec: {memory} MB "
        f"(one trajectory tensor is {trajectory_mb:.1f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    parser.add_argument("--memory", choices=SIZES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        measure_memory(args.memory)
        return
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    for size_name in args.sizes:
        report(size_name, args.repeats)


if __name__ == "__main__":
    main()
