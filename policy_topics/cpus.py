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

__all__ = ["resolve_n_process", "usable_cpus"]


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


def usable_cpus() -> int:
    """How many CPUs this process may use: what ``n_process=-1`` starts.

    The CPUs it may run on (its affinity: ``taskset``, a batch scheduler's
    allocation), capped by a cgroup CPU quota read in ``/sys/fs/cgroup``:
    a container limited to 2 CPUs (``docker run --cpus 2``, a Kubernetes CPU
    limit) sees all of its host's CPUs in ``os.cpu_count()``, and a worker
    per CPU there would share those 2 and fill its memory.

    Example:
        >>> usable_cpus() >= 1
        True
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity outside Linux
        count = os.cpu_count() or 1
    quota = _cgroup_cpus(Path("/sys/fs/cgroup"))
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _cgroup_cpus(root: Path) -> float | None:
    """The CPUs a cgroup quota under ``root`` allows (v2 ``cpu.max``, v1 CFS); None: no quota."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        pass
    else:  # cgroup v2: "max 100000" without a quota
        digits = quota.isdigit() and period.isdigit() and int(period) > 0
        return int(quota) / int(period) if digits else None
    for folder in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        try:
            quota_us = int((root / folder / "cpu.cfs_quota_us").read_text())
            period_us = int((root / folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota_us / period_us if quota_us > 0 and period_us > 0 else None  # -1: none
    return None
