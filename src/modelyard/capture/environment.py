"""Environment: what the pushing interpreter runs on, and every installed distribution.

Python version and implementation, OS and CPU architecture (``platform``), every distribution
importlib.metadata sees (name and version), accelerator details when there are any (NVIDIA GPUs
through ``nvidia-smi``, the CUDA version torch was built with when torch is already imported;
nothing is imported for the purpose), and a container image reference when one is given or
``MODELYARD_CONTAINER_IMAGE`` names one.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from typing import Any


def packages() -> list[dict[str, str]]:
    """Every installed distribution of this interpreter, sorted by name."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            found.setdefault(name, dist.version or "")
    return [{"name": n, "version": v} for n, v in sorted(found.items(), key=lambda x: x[0].lower())]


def accelerator() -> dict[str, Any]:
    found: dict[str, Any] = {}
    gpus = _nvidia_gpus()
    if gpus:
        found.update(kind="cuda", devices=gpus)
    torch = sys.modules.get("torch")
    cuda = getattr(getattr(torch, "version", None), "cuda", None)
    if cuda:
        found.update(kind="cuda", cuda_version=str(cuda))
    if os.environ.get("CUDA_VERSION"):
        found.setdefault("cuda_version", os.environ["CUDA_VERSION"])
    return found


def _nvidia_gpus() -> list[str]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run(  # noqa: S603 - fixed program and arguments
            [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, timeout=10, check=True, text=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def environment(container_image: str | None = None) -> dict[str, Any]:
    """The ingredients' ``environment`` part for this interpreter."""
    image = container_image or os.environ.get("MODELYARD_CONTAINER_IMAGE") or ""
    return {
        "python_version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
        "arch": platform.machine(),
        "packages": packages(),
        "accelerator": accelerator(),
        "container_image": image,
    }
