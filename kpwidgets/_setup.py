"""``kpw.setup()``: the one call at the top of every course notebook."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import numpy as np
import torch

logger = logging.getLogger(__name__)

IPYMPL_HINT = (
    "live plots need the ipympl front end: run `make lab` (or `pip install "
    "ipympl` and restart JupyterLab); plots fall back to still images meanwhile"
)


@dataclass(frozen=True)
class SetupReport:
    """What :func:`setup` found, shown as a few plain lines in the notebook."""

    version: str
    torch_version: str
    device: str
    threads: int
    seed: int
    ipympl: bool

    def lines(self) -> list[str]:
        lines = [
            f"kpwidgets {self.version}, torch {self.torch_version}",
            f"device: {self.device} ({self.threads} CPU thread(s) for torch)",
            f"seed: {self.seed}",
            "live plots: ipympl found" if self.ipympl else f"warning: {IPYMPL_HINT}",
        ]
        return lines

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def setup(seed: int = 0, *, threads: int | None = 1, style: bool = True) -> SetupReport:
    """Seed everything, pick the device, apply the plot style, check the widgets.

    Args:
        seed: Seed for torch, numpy and random (every analysis also takes its
            own ``torch.Generator``).
        threads: Torch CPU threads; 1 keeps a laptop responsive while training
            runs beside the notebook, and is fastest for these small models.
            None leaves torch's setting alone.
        style: Apply the course's colour-blind-safe matplotlib style.

    Returns:
        A report naming the versions, the device and the widget front end.
    """
    from kpwidgets import __version__
    from kpwidgets.training import resolve_device
    from kpwidgets.widgets import ipympl_front_end_installed

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(
                f"threads must be a positive integer or None; got {threads!r}"
            )
        torch.set_num_threads(threads)
    if style:
        from kpwidgets.style import apply_style

        apply_style()
    report = SetupReport(
        version=__version__,
        torch_version=torch.__version__,
        device=resolve_device().type,
        threads=torch.get_num_threads(),
        seed=seed,
        ipympl=ipympl_front_end_installed(),
    )
    if not report.ipympl:
        logger.warning(IPYMPL_HINT)
    return report
