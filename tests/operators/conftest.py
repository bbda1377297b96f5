from __future__ import annotations

import pytest
import torch

from tests.toy_cells import CELL_NAMES
from tests.toy_problems import Problem, make_problem


@pytest.fixture(params=CELL_NAMES)
def problem(request) -> Problem:
    return make_problem(request.param)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)
