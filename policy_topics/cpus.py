"""How many worker processes to start: ``n_process=-1`` is one per CPU this process may use.

Kept apart from :mod:`policy_topics.extract`, which imports spaCy: the command
line checks ``--n-process`` before it loads anything slow.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from policy_topics.plain import is_whole_number

__all__ = ["more_than_usable", "resolve_n_process", "usable_cpus"]


def resolve_n_process(n_process: Any) -> int:
    """``n_process`` as a number of processes: -1 is :func:`usable_cpus`.

    Raises:
        ValueError: Not a whole number >= 1 or -1.
    """
    if not is_whole_number(n_process) or (n_process < 1 and n_process != -1):
        raise ValueError(
            f"n_process must be a whole number >= 1, or -1 for one process per CPU, "
            f"not {n_process!r}"
        )
    return usable_cpus() if n_process == -1 else int(n_process)  # int: a numpy integer, say


def more_than_usable(n_process: int, given: str) -> str | None:
    """Why ``n_process`` workers are too many here, or None: more than :func:`usable_cpus`.

    Each worker holds a pipeline of its own, so workers beyond the CPUs add
    memory and no speed (a notebook on one CPU, a container with a CPU quota).
    ``given`` names the setting as the caller wrote it.

    Example:
        >>> more_than_usable(1, "n_process=1") is None
        True
    """
    if n_process <= 1:
        return None
    try:
        cpus = usable_cpus()
    except OSError:  # advice only: it never stops the work
        return None
    if n_process <= cpus:
        return None
    return (
        f"{given} asks for {n_process} worker processes, more than the {cpus} "
        f"CPU{'s' if cpus > 1 else ''} this process may use: each holds a pipeline of its "
        "own, so the extra ones add memory and no speed; -1 starts one per CPU"
    )


def usable_cpus() -> int:
    """How many CPUs this process may use: what ``n_process=-1`` starts.

    The CPUs it may run on (its affinity: ``taskset``, a batch scheduler's
    allocation), capped by the cgroup CPU quotas over it, read in
    ``/sys/fs/cgroup``: a container limited to 2 CPUs (``docker run --cpus 2``,
    a Kubernetes CPU limit) sees all of its host's CPUs in ``os.cpu_count()``,
    and a worker per CPU there would share those 2 and fill its memory. So
    does a systemd service or slice with ``CPUQuota=``.

    Example:
        >>> usable_cpus() >= 1
        True
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity outside Linux
        count = os.cpu_count() or 1
    try:
        membership = Path("/proc/self/cgroup").read_text()
    except OSError:  # not Linux
        membership = ""
    quota = _cgroup_cpus(Path("/sys/fs/cgroup"), membership)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _cgroup_cpus(root: Path, membership: str = "") -> float | None:
    """The CPUs the cgroup quotas under ``root`` allow, the smallest; None: no quota.

    ``membership`` is ``/proc/self/cgroup``: ``0::<path>`` names the process's
    cgroup (v2), ``<n>:cpu,cpuacct:<path>`` its cgroup of the CPU controller
    (v1). That cgroup and each one above it may set a quota (v2 ``cpu.max``,
    v1 ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``). A container sees its
    own cgroup at ``root`` (its path there does not exist): its quota is read
    there.
    """
    paths = {"v2": "/", "v1": "/"}
    for line in membership.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, path = fields
        if not controllers:
            paths["v2"] = path
        elif "cpu" in controllers.split(","):
            paths["v1"] = path
    folders = _above(root, paths["v2"])
    hierarchy = next(
        (root / name for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu") if _is_dir(root / name)),
        None,
    )
    if hierarchy is not None:
        folders += _above(hierarchy, paths["v1"])
    quotas = [quota for folder in folders if (quota := _quota(folder)) is not None]
    return min(quotas, default=None)


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder; False when it cannot be read (``Path.is_dir`` raises then)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _above(base: Path, path: str) -> list[Path]:
    """``base`` joined with a cgroup's path, and each folder above it up to ``base``.

    A path holding ``..`` lies outside what this process sees of the hierarchy
    (another cgroup namespace): only ``base`` is left.
    """
    parts = [part for part in path.split("/") if part]
    if ".." in parts:
        parts = []
    return [base.joinpath(*parts[:k]) for k in range(len(parts), -1, -1)]


def _quota(folder: Path) -> float | None:
    """The CPUs one cgroup's own quota allows (v2 or v1); None: none, or none readable."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        pass
    else:  # cgroup v2: "max 100000" without a quota
        digits = quota.isdigit() and period.isdigit() and int(period) > 0
        return int(quota) / int(period) if digits else None
    try:
        quota_us = int((folder / "cpu.cfs_quota_us").read_text())
        period_us = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None  # -1: none
