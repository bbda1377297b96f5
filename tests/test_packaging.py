"""The packaging files agree: pyproject.toml, constraints.txt, environment.yml."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import kpwidgets

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI name of the same package.
CONDA_TO_PYPI = {"pytorch": "torch"}

# Entries of environment.yml that are tools of the environment, not dependencies.
CONDA_ONLY = {"python", "pip"}

TORCH_PIN = "2.13.0"


@pytest.fixture(scope="module")
def pyproject() -> dict:
    # tomllib is in the standard library from Python 3.11 on; on 3.10 these checks
    # would need the tomli package, which kpwidgets does not depend on.
    tomllib = pytest.importorskip(
        "tomllib", reason="reading pyproject.toml needs Python 3.11+ (tomllib)"
    )
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


@pytest.fixture(scope="module")
def constraints() -> dict[str, str]:
    """Pinned versions from constraints.txt, keyed by canonical name."""
    pins = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines()):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator, f"constraints.txt line {number + 1} is not name==version"
        pins[canonicalize_name(name)] = version.strip()
    return pins


def requirement_names(requirements: list[str]) -> set[str]:
    """Canonical names of PEP 508 requirements, leaving out kpwidgets itself."""
    names = {canonicalize_name(Requirement(text).name) for text in requirements}
    return names - {"kpwidgets"}


def conda_names(path: Path) -> set[str]:
    """Canonical PyPI names of the packages an environment.yml installs."""
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev install")
    environment = yaml.safe_load(path.read_text())
    names = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            # A `pip:` section already uses PyPI names and specifiers.
            names |= requirement_names(entry.get("pip", []))
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", entry).group(0)
        if name not in CONDA_ONLY:
            names.add(canonicalize_name(CONDA_TO_PYPI.get(name, name)))
    return names


def test_environment_yml_names_the_runtime_dependencies(pyproject):
    runtime = requirement_names(pyproject["project"]["dependencies"])

    conda = conda_names(ROOT / "environment.yml")

    assert conda == runtime, (
        f"only in environment.yml: {sorted(conda - runtime)}; "
        f"only in pyproject.toml: {sorted(runtime - conda)}"
    )


def test_environment_yml_uses_conda_forge():
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev install")
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())

    assert environment["channels"] == ["conda-forge"]


def test_test_extra_is_an_alias_of_dev(pyproject):
    extras = pyproject["project"]["optional-dependencies"]

    assert extras["test"] == ["kpwidgets[dev]"]


def test_constraints_pin_the_cpu_torch(constraints):
    # An unpinned torch would pull a CUDA build of several GB.
    assert constraints.get("torch") == TORCH_PIN


def test_constraints_pin_every_dependency(pyproject, constraints):
    project = pyproject["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]

    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in constraints, f"constraints.txt does not pin {name}"
        assert requirement.specifier.contains(constraints[name], prereleases=True), (
            f"constraints.txt pins {name}=={constraints[name]}, "
            f"outside pyproject.toml's {text!r}"
        )


def test_constraints_leave_out_kpwidgets(constraints):
    assert "kpwidgets" not in constraints


def test_version_matches_the_installed_distribution():
    try:
        installed = importlib.metadata.version("kpwidgets")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("kpwidgets is not installed: run `make install`")

    assert kpwidgets.__version__ == installed
