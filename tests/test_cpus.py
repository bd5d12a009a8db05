"""``n_process=-1``: one worker process per CPU this process may use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policy_topics import Extractor, cpus
from policy_topics.cpus import _cgroup_cpus, more_than_usable, resolve_n_process, usable_cpus


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


@pytest.mark.parametrize(
    ("files", "allowed"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),  # cgroup v2: docker run --cpus 2
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),  # no quota
        ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4.0),
        (
            {"cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
            0.5,
        ),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),  # v1: none
        ({"cpu.max": "garbled\n"}, None),
        ({}, None),  # no cgroup file system: not Linux, or not mounted
    ],
)
def test_a_cgroup_quota_is_read_as_cpus(
    tmp_path: Path, files: dict[str, str], allowed: float | None
) -> None:
    assert _cgroup_cpus(_write(tmp_path, files)) == allowed


@pytest.mark.parametrize(
    ("membership", "files", "allowed"),
    [
        # A systemd service under a slice (cgroup v2): the slice's CPUQuota= holds.
        (
            "0::/system.slice/job.service\n",
            {"system.slice/job.service/cpu.max": "max 100000\n",
             "system.slice/cpu.max": "300000 100000\n"},
            3.0,
        ),
        # The smallest quota on the way up holds, wherever it is.
        (
            "0::/a/b\n",
            {"a/b/cpu.max": "50000 100000\n", "a/cpu.max": "400000 100000\n"},
            0.5,
        ),
        # cgroup v1: the path of the line naming the cpu controller, under its hierarchy.
        (
            "5:cpuacct,cpu:/batch/job\n4:memory:/other\n0::/\n",
            {"cpu,cpuacct/batch/job/cpu.cfs_quota_us": "150000\n",
             "cpu,cpuacct/batch/job/cpu.cfs_period_us": "100000\n"},
            1.5,
        ),
        # A container sees its own cgroup at the root, not at the path the line names.
        (
            "4:cpu,cpuacct:/docker/abc\n",
            {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
             "cpu,cpuacct/cpu.cfs_period_us": "100000\n"},
            2.0,
        ),
        # A path outside this cgroup namespace: only the root is read.
        (
            "0::/../outside\n",
            {"cpu.max": "100000 100000\n", "outside/cpu.max": "50000 100000\n"},
            1.0,
        ),
        # Lines that are not "id:controllers:path" are left out.
        ("garbled\n0::/job\nalso garbled\n", {"job/cpu.max": "200000 100000\n"}, 2.0),
        ("0::/job\n", {}, None),  # no quota anywhere
    ],
)  # fmt: skip
def test_the_quotas_of_the_cgroups_over_this_process_are_read(
    tmp_path: Path, membership: str, files: dict[str, str], allowed: float | None
) -> None:
    assert _cgroup_cpus(_write(tmp_path, files), membership) == allowed


@pytest.mark.parametrize(
    ("quota", "expected"), [(None, 6), (2.0, 2), (1.5, 2), (0.5, 1), (64.0, 6)]
)
def test_usable_cpus_are_the_affinity_capped_by_the_quota(
    monkeypatch: pytest.MonkeyPatch, quota: float | None, expected: int
) -> None:
    # A container on a host of many CPUs: its quota, not the host's count, is what it has.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(6)), raising=False)
    monkeypatch.setattr(cpus, "_cgroup_cpus", lambda root, membership: quota)
    assert usable_cpus() == expected


def test_usable_cpus_on_this_machine_are_at_most_its_cpus() -> None:
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)


def test_minus_one_resolves_to_the_usable_cpus_and_other_numbers_to_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 3)
    assert resolve_n_process(-1) == 3
    assert resolve_n_process(2) == 2
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="or -1 for one process per CPU"):
            resolve_n_process(bad)


def test_extract_many_with_minus_one_gives_the_records_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 2)  # workers, on any machine
    texts = ["We will cut tariffs.", "Solar power grows.", "Nothing here.", "5G networks."] * 5
    extractor = Extractor()
    assert list(extractor.extract_many(texts, n_process=-1, batch_size=2)) == list(
        extractor.extract_many(texts)
    )


def test_more_workers_than_usable_cpus_are_said_to_add_memory_and_no_speed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 2)
    assert more_than_usable(1, "n_process=1") is None
    assert more_than_usable(2, "n_process=2") is None
    assert more_than_usable(3, "n_process=3") == (
        "n_process=3 asks for 3 worker processes, more than the 2 CPUs this process may "
        "use: each holds a pipeline of its own, so the extra ones add memory and no "
        "speed; -1 starts one per CPU"
    )
    assert more_than_usable(resolve_n_process(-1), "n_process=-1") is None  # -1: one per CPU

    def unreadable() -> int:
        raise PermissionError(13, "Permission denied", "/sys/fs/cgroup/cpu")

    monkeypatch.setattr(cpus, "usable_cpus", unreadable)
    assert more_than_usable(8, "n_process=8") is None  # advice only: never an error
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 1)
    note = more_than_usable(2, "--n-process 2")
    assert note is not None and note.startswith("--n-process 2 asks for 2 worker processes, ")
    assert "than the 1 CPU this process" in note


def test_extract_many_warns_at_once_of_more_workers_than_cpus_and_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cpus, "usable_cpus", lambda: 1)  # a notebook on one CPU
    extractor = Extractor()
    texts = ["We will cut tariffs.", "Solar power grows."]
    # Said when called, before any document is read, and at the caller's line. A
    # stream: over the list, whose two short texts make one batch, one worker starts.
    with pytest.warns(UserWarning, match=r"^n_process=2 asks for 2 worker processes, more") as told:
        results = extractor.extract_many(iter(texts), n_process=2)
    assert [w.filename for w in told] == [__file__]
    records = list(results)
    assert records == list(extractor.extract_many(texts)) and len(records) == 2
    # n_process=1, and -1 (one per CPU), say nothing (warnings are errors in this suite).
    assert list(extractor.extract_many(texts, n_process=-1)) == records


def test_an_unreadable_cgroup_folder_is_no_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path.is_dir raises PermissionError rather than answering False.
    def refused(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    root = _write(tmp_path, {"cpu.max": "200000 100000\n"})
    monkeypatch.setattr(Path, "is_dir", refused)
    assert _cgroup_cpus(root, "0::/\n") == 2.0
