"""A cgroup's CPU quota (a container's CPU limit) caps the default ``--jobs``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioproto import worker
from ioproto.cpuquota import cpu_quota


def cgroups(tmp_path: Path, proc: str, files: dict[str, str]) -> float | None:
    """``cpu_quota`` with ``/proc/self/cgroup`` saying ``proc`` and the hierarchy's files
    (paths under the mount root) holding ``files``."""
    for name, text in files.items():
        path = tmp_path / "fs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "cgroup").write_text(proc)
    return cpu_quota(str(tmp_path / "fs"), str(tmp_path / "cgroup"))


def test_no_quota(tmp_path: Path) -> None:
    assert cgroups(tmp_path, "0::/\n", {"cpu.max": "max 100000\n"}) is None
    assert cgroups(tmp_path, "0::/\n", {}) is None
    v1 = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    assert cgroups(tmp_path, "1:cpu:/\n0::/\n", v1) is None
    assert cpu_quota(str(tmp_path / "none"), str(tmp_path / "no-such-file")) is None


def test_cgroup_v2_the_lowest_quota_on_the_way_up(tmp_path: Path) -> None:
    files = {
        "kubepods/cpu.max": "400000 100000\n",
        "kubepods/pod1/cpu.max": "max 100000\n",
        "kubepods/pod1/c1/cpu.max": "150000 100000\n",
    }
    assert cgroups(tmp_path, "0::/kubepods/pod1/c1\n", files) == 1.5
    files["kubepods/cpu.max"] = "50000 100000\n"
    assert cgroups(tmp_path, "0::/kubepods/pod1/c1\n", files) == 0.5


def test_a_container_sees_its_own_cgroup_at_the_mount_root(tmp_path: Path) -> None:
    """/proc/self/cgroup may name the host's path; the container's files are at the root."""
    files = {"cpu.max": "200000 100000\n"}
    assert cgroups(tmp_path, "0::/system.slice/docker-abc.scope\n", files) == 2.0


def test_hybrid_and_v1_hierarchies(tmp_path: Path) -> None:
    assert cgroups(tmp_path, "0::/\n", {"unified/cpu.max": "300000 100000\n"}) == 3.0
    v1 = {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "250000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    }
    assert cgroups(tmp_path, "4:cpu,cpuacct:/docker/abc\n0::/\n", v1) == 2.5
    # memory's hierarchy says nothing about CPUs
    assert cgroups(tmp_path, "4:memory:/docker/abc\n", v1) is None


def test_nonsense_is_no_quota(tmp_path: Path) -> None:
    for text in ("", "max", "abc 100000", "200000 0", "-5 100000", "1 2 3"):
        assert cgroups(tmp_path, "0::/\n", {"cpu.max": text}) is None, text
    assert cgroups(tmp_path, "garbage\n::\n0:\n", {"cpu.max": "200000 100000"}) is None
    (tmp_path / "latin1").write_bytes(b"0::/caf\xe9\n")
    assert cpu_quota(str(tmp_path / "fs"), str(tmp_path / "latin1")) is None
    (tmp_path / "fs" / "cpu.max").write_bytes(b"\xff\xfe 100000")
    assert cgroups(tmp_path, "0::/\n", {}) is None


@settings(max_examples=200, deadline=None)
@given(proc=st.text(max_size=200), cpu_max=st.text(max_size=50))
def test_any_text_never_raises(
    tmp_path_factory: pytest.TempPathFactory, proc: str, cpu_max: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("cg")
    quota = cgroups(tmp_path, proc, {"cpu.max": cpu_max})
    assert quota is None or quota > 0


@pytest.mark.parametrize(
    ("quota", "cores"), [(None, 16), (0.5, 1), (1.0, 1), (2.5, 2), (8.0, 8), (64.0, 16)]
)
def test_available_cores_is_capped_by_the_quota(
    monkeypatch: pytest.MonkeyPatch, quota: float | None, cores: int
) -> None:
    monkeypatch.setattr(worker.os, "sched_getaffinity", lambda pid: set(range(16)))
    monkeypatch.setattr(worker, "cpu_quota", lambda: quota)
    assert worker.available_cores() == cores


V1_CPU = Path("/sys/fs/cgroup/cpu")


def test_a_real_cgroup_quota_caps_a_process_in_it(tmp_path: Path) -> None:
    """A real cgroup v1 with a quota of 1.5 CPUs (root and a writable ``cpu`` hierarchy
    needed, as on this project's machines): a process put in it reads 1.5 and counts 1
    core; the quota is taken away again afterwards."""
    if os.geteuid() != 0 or not (V1_CPU / "cpu.cfs_quota_us").exists():
        pytest.skip("needs root and a cgroup v1 cpu hierarchy")
    group = V1_CPU / f"ioproto-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("150000")
    except OSError as exc:
        pytest.skip(f"cannot make a cgroup here: {exc}")
    try:
        script = (
            "import os, sys\n"
            f"open({str(group / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
            "from ioproto.cpuquota import cpu_quota\n"
            "from ioproto.worker import available_cores\n"
            "print(cpu_quota(), available_cores())\n"
        )
        inside = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert inside.stdout.split() == ["1.5", "1"]
    finally:
        (group / "cpu.cfs_quota_us").write_text("-1")
        group.rmdir()
