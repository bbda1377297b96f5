"""Pytest settings for the course notebooks, which nbval runs cell by cell.

Each notebook takes tens of seconds, so its cells are marked ``slow``:
``pytest -m "not slow"`` leaves the notebooks out.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
