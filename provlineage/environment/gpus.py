"""NVIDIA GPUs: ``nvidia-smi`` when on ``PATH``, else ``/proc/driver/nvidia``, else an already-initialised ``torch.cuda``.

torch is never imported and no CUDA context is ever created here: both are slow and break forked children.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from provlineage.environment._process import finish, start

_MIB = 1024 * 1024


def start_nvidia_smi() -> subprocess.Popen[str] | None:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None
    query = "--query-gpu=name,memory.total,driver_version"
    return start([binary, query, "--format=csv,noheader,nounits"])


def gpus(nvidia_smi: subprocess.Popen[str] | None, deadline: float) -> list[dict[str, Any]] | None:
    found = parse_nvidia_smi(finish(nvidia_smi, deadline) or "")
    if not found:
        found = _quietly(nvidia_proc_gpus)
    if not found:
        found = _quietly(torch_gpus)
    return found or None


def _quietly(read: Any) -> list[dict[str, Any]]:
    try:
        return list(read())
    except Exception:
        return []


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 3 or not fields[0]:
            continue
        name, memory_mib, driver = fields
        gpu: dict[str, Any] = {"vendor": "nvidia", "name": name, "driverVersion": driver}
        if memory_mib.isdigit():
            gpu["memoryBytes"] = int(memory_mib) * _MIB
        found.append(gpu)
    return found


def nvidia_proc_gpus() -> list[dict[str, Any]]:
    root = Path("/proc/driver/nvidia")
    if not root.is_dir():
        return []
    driver = None
    version_file = root / "version"
    if version_file.exists():
        match = re.search(r"Kernel Module\s+(\S+)", version_file.read_text(errors="replace"))
        driver = match.group(1) if match else None
    found = []
    for information in sorted(root.glob("gpus/*/information")):
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in information.read_text(errors="replace").splitlines())
        )
        gpu: dict[str, Any] = {"vendor": "nvidia", "name": fields.get("Model", "unknown")}
        if driver:
            gpu["driverVersion"] = driver
        found.append(gpu)
    return found


def torch_gpus() -> list[dict[str, Any]]:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    # Only when CUDA is already initialised: initialising it is slow and breaks forked children.
    if cuda is None or not cuda.is_initialized():
        return []
    vendor = "amd" if getattr(getattr(torch, "version", None), "hip", None) else "nvidia"
    found = []
    for index in range(cuda.device_count()):
        props = cuda.get_device_properties(index)
        found.append({"vendor": vendor, "name": str(props.name), "memoryBytes": int(props.total_memory)})
    return found
