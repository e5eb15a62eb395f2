"""What holds keys and state is created owner-only, whatever the umask and whoever came first."""

from __future__ import annotations

import os
import stat

import pytest

from workbench.config import load_settings, private_dir
from workbench.samples import chinook_url
from workbench.store.embedded import file_lock
from workbench.store.secrets import create_key_file


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the worst case: everything would be world-writable
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_dir_lock_and_key_are_owner_only_under_umask_000(tmp_path, open_umask):
    data = tmp_path / "deep" / "data"
    assert mode(private_dir(data)) == 0o700
    with file_lock(data / "store.lock"):
        assert mode(data / "store.lock") == 0o600
    create_key_file(tmp_path / "keys" / "secret.key")
    assert mode(tmp_path / "keys") == 0o700 and mode(tmp_path / "keys" / "secret.key") == 0o600


def test_a_data_dir_first_made_by_the_samples_is_private_too(tmp_path, open_umask):
    settings = load_settings(data_dir=tmp_path / "wb")
    chinook_url(settings)  # the quickstart's sample copy is often the first thing written
    assert mode(tmp_path / "wb") == 0o700


def test_an_existing_open_data_dir_is_closed(tmp_path, open_umask):
    data = tmp_path / "old"
    data.mkdir(mode=0o777)
    os.chmod(data, 0o755)
    assert mode(private_dir(data)) == 0o700
