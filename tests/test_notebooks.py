"""The course notebooks: committed clean, and each with the course's skeleton.

Running them is nbval's job (``pytest`` collects ``notebooks/*.ipynb`` with
``--nbval-lax``); these tests read the files only, so they are fast and say
exactly what is missing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COURSE = (
    "00_start_here",
    "01_recurrent_networks_and_tasks",
    "02_gradient_flow_in_hidden_space",
    "03_the_propagator_P",
    "04_the_parameter_operator_K",
    "05_dynamic_collapse",
    "06_multitask_alignment",
    "07_playground",
)
# The playground is an app (Voila): one panel, and no exercises, whose solution
# cells would run (and retrain the panel) when the app opens.
LESSONS = COURSE[:-1]

# What a notebook may import: the course library, and plotting and widgets.
ALLOWED_IMPORTS = {"kpwidgets", "torch", "numpy", "matplotlib", "ipywidgets", "IPython"}
MAX_CODE_LINES = 15


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def cells(notebook, kind: str) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == kind]


def text(notebook, kind: str = "markdown") -> str:
    return "\n\n".join(cell.source for cell in cells(notebook, kind))


def test_the_course_is_exactly_the_eight_notebooks():
    found = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(COURSE)


@pytest.mark.parametrize("name", COURSE)
def test_committed_without_outputs_or_widget_state(name):
    notebook = read(name)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty, f"{name}: cells {dirty} have outputs; clear them before commit"
    assert "widgets" not in notebook.metadata, f"{name}: saved widget state"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("name", COURSE)
def test_title_and_setup_cell(name):
    notebook = read(name)
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# {name[:2]} · \S", first.source), "title '# NN · ...'"
    setups = [cell for cell in cells(notebook, "code") if "kpw.setup()" in cell.source]
    assert len(setups) == 1, "exactly one setup cell calls kpw.setup()"
    assert "import kpwidgets as kpw" in setups[0].source
    assert setups[0] is cells(notebook, "code")[0], "the setup cell comes first"


@pytest.mark.parametrize("name", COURSE)
def test_skeleton(name):
    notebook = read(name)
    prose = text(notebook)
    assert re.search(r"\*\*Learning objectives\*\* \(.*about \d+ minutes\)", prose)
    assert re.search(r"^## 1\. ", prose, re.MULTILINE), "numbered sections"
    assert "**Think!**" in prose
    assert re.search(r"^## Summary", prose, re.MULTILINE)
    assert "$" in prose, "mathematics in LaTeX"


def test_the_playground_trains_only_when_asked():
    sources = "\n".join(cell.source for cell in cells(read("07_playground"), "code"))
    assert ".train()" not in sources and ".wait(" not in sources


@pytest.mark.parametrize("name", LESSONS)
def test_exercises_have_hidden_solutions(name):
    notebook = read(name)
    exercises = re.findall(r"^### Exercise \d+", text(notebook), re.MULTILINE)
    solutions = [
        cell for cell in notebook.cells if "solution" in cell.metadata.get("tags", [])
    ]
    assert len(exercises) >= 2, "at least two exercises"
    assert len(solutions) == len(exercises), "one solution per exercise"
    for cell in solutions:
        assert cell.cell_type == "code"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True


@pytest.mark.parametrize("name", COURSE)
def test_code_is_short_and_imports_only_the_course_stack(name):
    for index, cell in enumerate(cells(read(name), "code")):
        lines = cell.source.splitlines()
        assert len(lines) <= MAX_CODE_LINES, f"code cell {index} has {len(lines)} lines"
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in ALLOWED_IMPORTS, (
                    f"code cell {index} imports {module}"
                )
        helpers = [
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)
            and not node.decorator_list
        ]
        assert not helpers, (
            f"code cell {index} defines {helpers}: put helpers in kpwidgets"
        )


def test_the_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for name in COURSE:
        assert f"{name}.ipynb" in readme
