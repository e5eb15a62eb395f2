"""The workers a job gets by default: the CPUs its process may use, as Dask counts them,
without importing Dask (a job on threads never needs it)."""

from __future__ import annotations

import subprocess
import sys

from workbench.engine.cluster import _cgroup_cpus, default_workers


def test_the_count_is_dasks():
    from dask.system import cpu_count

    assert default_workers() == cpu_count()


def test_a_cgroup_v2_quota_limits_the_count(tmp_path):
    membership = tmp_path / "cgroup"
    membership.write_text("0::/pods/job-7\n")
    group = tmp_path / "fs" / "pods" / "job-7"
    group.mkdir(parents=True)
    (group / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: rounded up
    assert _cgroup_cpus(tmp_path / "fs", membership) == 2
    (group / "cpu.max").write_text("max 100000\n")
    assert _cgroup_cpus(tmp_path / "fs", membership) is None


def test_a_cgroup_v1_quota_limits_the_count(tmp_path):
    membership = tmp_path / "cgroup"
    membership.write_text("2:cpu,cpuacct:/\n1:name=systemd:/\n")  # no v2 line: no cpu.max
    folder = tmp_path / "fs" / "cpu,cpuacct"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("300000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert _cgroup_cpus(tmp_path / "fs", membership) == 3
    (folder / "cpu.cfs_quota_us").write_text("-1\n")  # no quota
    assert _cgroup_cpus(tmp_path / "fs", membership) is None
    assert _cgroup_cpus(tmp_path / "nothing", membership) is None


def test_counting_imports_no_dask():
    code = (
        "import sys\n"
        "from workbench.engine.cluster import default_workers\n"
        "default_workers()\n"
        "print('dask' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
