"""The CPUs a cgroup quota allows this process: a container's ``--cpus`` (Docker) or CPU
limit (Kubernetes), which the cores it may be scheduled on do not show.

A container limited to 2 CPUs on a 32-core host sees all 32 cores in its affinity mask and
in ``os.cpu_count()``; the kernel then throttles it to 2 CPUs' worth of time. The default
``--jobs`` (:func:`ioproto.worker.available_cores`) starts one process per core it counts,
so there it would start 16 times too many, each slowing the others. Read here:

* cgroup v2: ``cpu.max`` (``"max 100000"``: no quota; ``"200000 100000"``: 2 CPUs) in the
  process's cgroup and every one above it (the lowest quota counts), under
  ``/sys/fs/cgroup`` or, on hybrid systems, ``/sys/fs/cgroup/unified``;
* cgroup v1: ``cpu.cfs_quota_us`` (``-1``: no quota) over ``cpu.cfs_period_us`` in the
  ``cpu`` controller's hierarchy, the same way up.

A container usually sees its own cgroup as the root of the mount (a cgroup namespace, or
its cgroup bind-mounted there), while ``/proc/self/cgroup`` may name the host's path:
directories that do not exist are skipped, so the walk up finds the mount's own files.
Anything unreadable counts as no quota: the caller then goes by the cores alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable

#: Where the cgroup hierarchies are mounted, and the file naming this process's cgroups.
CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"

#: The directory names a v1 ``cpu`` controller is mounted under.
_V1_CPU_MOUNTS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def cpu_quota(root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> float | None:
    """The CPUs this process's cgroups allow (``1.5``: one and a half), the lowest quota
    from its cgroup up to the root; ``None`` where none is set or none can be read."""
    try:
        with open(proc_cgroup, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, ValueError):  # ValueError: not UTF-8
        return None
    quotas: list[float] = []
    for line in lines:
        _hierarchy, _colon, rest = line.partition(":")
        controllers, _colon, path = rest.partition(":")
        if not path.startswith("/"):
            continue
        if controllers == "":
            for mount in (root, os.path.join(root, "unified")):
                quotas += _walk(mount, path, _read_v2)
        elif "cpu" in controllers.split(","):
            for name in _V1_CPU_MOUNTS:
                quotas += _walk(os.path.join(root, name), path, _read_v1)
    return min(quotas) if quotas else None


def _walk(mount: str, path: str, read: Callable[[str], float | None]) -> list[float]:
    """The quotas ``read`` finds in ``path``'s directory under ``mount`` and every one above."""
    found = []
    parts = [part for part in path.split("/") if part]
    for depth in range(len(parts), -1, -1):
        directory = os.path.join(mount, *parts[:depth])
        quota = read(directory)
        if quota is not None:
            found.append(quota)
    return found


def _read_v2(directory: str) -> float | None:
    try:
        with open(os.path.join(directory, "cpu.max"), encoding="ascii") as handle:
            fields = handle.read().split()
        if len(fields) != 2 or fields[0] == "max":
            return None
        quota, period = int(fields[0]), int(fields[1])
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _read_v1(directory: str) -> float | None:
    try:
        with open(os.path.join(directory, "cpu.cfs_quota_us"), encoding="ascii") as handle:
            quota = int(handle.read())
        with open(os.path.join(directory, "cpu.cfs_period_us"), encoding="ascii") as handle:
            period = int(handle.read())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
