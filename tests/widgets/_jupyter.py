"""A private JupyterLab server and a headless Chromium for the browser tests.

The server listens on a free loopback port with a random token, and keeps its
root, config, data, runtime, settings and workspace directories in a temporary
folder (the virtual environment's ``share/jupyter`` stays on Jupyter's data
path, so the ipywidgets and ipympl front ends load). Only processes started
here are stopped here, by their PID.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

CHROMIUM_VARIABLE = "KPWIDGETS_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
HOW_TO_ENABLE = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or set "
    f"{CHROMIUM_VARIABLE}=/path/to/chromium; the tests also need the dev extras "
    "(make install)"
)


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None."""
    configured = os.environ.get(CHROMIUM_VARIABLE)
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI`` set to a true value)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JupyterLab:
    """A running server: its URL, token, notebook root and process."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str) -> object:
        """Call the server's REST API; return the decoded JSON (or None)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every kernel session (between tests)."""
        for session in self.request("GET", "/api/sessions"):
            self.request("DELETE", f"/api/sessions/{session['id']}")

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write a fresh notebook of code cells into the root; return its name."""
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nbformat.write(notebook, self.root / name)
        return name

    def stop(self) -> None:
        """Stop the server process started by :func:`start_jupyter_lab`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_jupyter_lab(base: Path, timeout: float = 90.0) -> JupyterLab:
    """Start JupyterLab with everything it writes under ``base``."""
    folders = {}
    for name in ("root", "config", "data", "runtime", "settings", "workspaces",
                 "ipython", "cache"):  # fmt: skip
        folders[name] = base / name
        folders[name].mkdir(parents=True)
    # No "official Jupyter news?" pop-up over the panel.
    news = folders["settings"] / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')

    port, token = _free_port(), secrets.token_hex(16)
    environment = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(folders["config"]),
        "JUPYTER_DATA_DIR": str(folders["data"]),
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "IPYTHONDIR": str(folders["ipython"]),
        "KPWIDGETS_CACHE_DIR": str(folders["cache"]),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={folders['root']}",
        f"--LabApp.user_settings_dir={folders['settings']}",
        f"--LabApp.workspaces_dir={folders['workspaces']}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyter-lab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, folders["root"], process, log)
    deadline = time.perf_counter() + timeout
    while True:
        try:
            lab.request("GET", "/api/status")
            return lab
        except OSError:
            if process.poll() is not None or time.perf_counter() > deadline:
                lab.stop()
                raise RuntimeError(
                    f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}"
                ) from None
            time.sleep(0.3)
