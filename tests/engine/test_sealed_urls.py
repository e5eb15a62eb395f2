"""A URL with a password never reaches a Dask scheduler in clear: tasks carry it sealed with a
key only the driver and the workers hold, and a cluster the job did not start is refused a
password unless WORKBENCH_WORKER_KEY is set on both sides."""

from __future__ import annotations

import pickle

import psycopg
import pytest
from cryptography.fernet import Fernet

import workbench.engine.run as run_module
from tests.conftest import SOURCE_PASSWORD as PASSWORD
from tests.engine.helpers import count
from workbench.connectors.sealed import ENV_KEY, SealedUrl, process_key, reveal, seal
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import ConfigurationError


def test_a_sealed_url_shows_and_pickles_no_password():
    url = f"mysql://app:{PASSWORD}@db.example.org:3306/shop"
    sealed = seal(url, process_key())
    assert isinstance(sealed, SealedUrl)
    assert PASSWORD not in repr(sealed) and PASSWORD not in str(sealed)
    assert PASSWORD.encode() not in pickle.dumps(sealed)
    assert reveal(sealed) == url
    plain = "postgresql://app@db.example.org/shop"
    assert seal(plain, process_key()) == plain  # nothing to hide: travels as it is
    foreign = seal(url, Fernet.generate_key())
    with pytest.raises(ConfigurationError, match=ENV_KEY):
        reveal(foreign)


@pytest.mark.slow  # starts a local cluster
@pytest.mark.local_cluster
def test_the_jobs_own_cluster_gets_the_tasks_sealed(
    secret_source, target_url, store, monkeypatch, submitted
):
    monkeypatch.setattr(run_module, "SMALL_JOB_ROWS", -1)  # every job a local cluster
    held = submitted  # what the scheduler is given
    result = copy_database(secret_source, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated
    assert count(target_url, "items", schema=secret_source.rsplit("/", 1)[1]) == 500
    assert held and all(PASSWORD.encode() not in h for h in held)
    assert any(b"SealedUrl" in h for h in held)


def test_a_cluster_others_run_needs_the_shared_key(secret_source, target_url, store, monkeypatch):
    monkeypatch.setattr(run_module, "SMALL_JOB_ROWS", 0)  # the shared cluster, by its address
    monkeypatch.delenv(ENV_KEY, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        copy_database(secret_source, target_url, CopyOptions(), store=store)
    message = str(caught.value)
    assert "source URL holds a password" in message and ENV_KEY in message
    assert PASSWORD not in message
    with psycopg.connect(target_url) as conn:  # refused while planning: no table was made
        made = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'items'")
        assert made.fetchone()[0] == 0
