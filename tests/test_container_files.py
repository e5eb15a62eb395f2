"""The Dockerfile and compose.yaml agree with the code and with the tests' own install.

Both images are made by scripts/install-worker, the script tests/cluster runs for its worker
hosts, so what the tests prove of a worker install holds for the image. The compose file
names only settings the workbench reads, only stages the Dockerfile has, and keeps every
password in a secret file (the images themselves were built and run as Dask workers by hand:
see the README; building them needs a base image from a registry)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from workbench.config import SETTINGS, load_settings
from workbench.connectors import sealed
from workbench.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]


def _stages() -> dict[str, list[str]]:
    """Each build stage's instructions (continuation lines joined)."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if m := re.match(r"FROM \S+ AS (\w+)", line):
            current = stages.setdefault(m[1], [])
        elif current is not None:
            current.append(line)
    return stages


def test_both_images_are_made_by_the_install_script():
    stages = _stages()
    assert {"worker", "driver"} <= set(stages)
    for name in ("worker", "driver"):
        runs = [line for line in stages[name] if line.startswith("RUN ")]
        assert runs and all("scripts/install-worker /opt/workbench " in r for r in runs), runs
    everything = "\n".join(line for lines in stages.values() for line in lines)
    assert "pip install" not in everything  # one install, the script's
    assert "install-worker /opt/workbench /opt/workbench-src all" in everything  # the driver's
    copied = re.findall(r"COPY (\S+) /opt/workbench-src", everything)
    for path in copied:  # what the install needs is there to copy
        assert (REPO / path).exists(), path


def test_the_install_script_takes_extras(tmp_path):
    """The driver's image installs extras through the same script: its usage says so, and the
    pip requirement it forms is SOURCE[EXTRAS] (checked by running its argument handling)."""
    script = (REPO / "scripts" / "install-worker").read_text()
    assert '"$what${extras:+[$extras]}"' in script
    formed = subprocess.run(
        ["bash", "-c", 'what=/src; extras="${1:-}"; echo "$what${extras:+[$extras]}"', "-", "all"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert formed == "/src[all]"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_runs_a_store_a_scheduler_two_workers_and_jupyterlab(compose):
    services = compose["services"]
    assert set(services) == {"store", "scheduler", "worker1", "worker2", "jupyterlab"}
    stages = set(_stages())
    for name, service in services.items():
        if "build" in service:
            assert service["build"]["target"] in stages, name
    for name in ("worker1", "worker2"):
        command = services[name]["command"]
        assert command[:3] == ["dask", "worker", "tcp://scheduler:8786"], command
        assert services[name]["image"] == services["scheduler"]["image"] == "workbench-worker"
    lab = services["jupyterlab"]
    assert lab["image"] == "workbench-driver"
    assert "workbench init" in " ".join(lab["command"])


def test_compose_names_only_settings_the_workbench_reads(compose):
    known = {f"WORKBENCH_{s.name.upper()}" for s in SETTINGS} | {
        "WORKBENCH_CONFIG",
        f"{sealed.ENV_KEY}_FILE",
    }
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("WORKBENCH_"):
                assert variable in known, (name, variable)


def test_compose_keeps_every_password_in_a_secret_file(compose):
    declared = set(compose["secrets"])
    for name, service in compose["services"].items():
        assert set(service.get("secrets", [])) <= declared, name
        for variable, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|KEY|SECRET|DATABASE_URL", variable):
                assert variable.endswith("_FILE") or str(value).startswith("/run/secrets/"), (
                    name,
                    variable,
                )
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", str(value)), (name, variable)
        for word in service.get("command", []):
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", word), (name, word)


def test_the_documented_config_secret_is_one_the_workbench_reads(tmp_path, monkeypatch):
    """compose.yaml's recipe for secrets/workbench.toml, run as written: the settings it makes
    are the store URL and the secrets key, read through WORKBENCH_CONFIG."""
    header = (REPO / "compose.yaml").read_text().split("services:")[0]
    recipe = [line[1:].strip() for line in header.splitlines() if line.startswith("#   ")]
    printf = next(i for i, line in enumerate(recipe) if line.startswith("printf"))
    command = " ".join(part.rstrip("\\").strip() for part in recipe[printf : printf + 2])
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "store_password").write_text("S3cret-pw\n")
    (secrets / "store_key").write_text("k" * 43 + "=\n")
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(secrets / "workbench.toml"))
    for variable in ("WORKBENCH_DATABASE_URL", "WORKBENCH_SECRET_KEY"):
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings()
    assert settings.database_url.reveal() == "postgresql://workbench:S3cret-pw@store:5432/workbench"
    assert settings.secret_key.reveal() == "k" * 43 + "="


def test_the_worker_key_can_come_from_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv(sealed.ENV_KEY, raising=False)
    key_file = tmp_path / "worker_key"
    key_file.write_text("a-key-from-a-secret\n")
    monkeypatch.setenv(f"{sealed.ENV_KEY}_FILE", str(key_file))
    assert sealed.shared_key() == b"a-key-from-a-secret"
    monkeypatch.setenv(sealed.ENV_KEY, "the-variable-wins")
    assert sealed.shared_key() == b"the-variable-wins"
    monkeypatch.delenv(sealed.ENV_KEY)
    monkeypatch.setenv(f"{sealed.ENV_KEY}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=r"WORKBENCH_WORKER_KEY_FILE names .*missing"):
        sealed.shared_key()
