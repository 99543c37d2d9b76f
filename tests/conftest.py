"""Test-wide settings: one torch thread per xdist worker, caches and stores in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(os.environ.get("SUITE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Manifests and decoded-image caches of the tests never touch the user's cache folder."""
    os.environ.setdefault("SUITE_CACHE", str(tmp_path_factory.mktemp("suite-cache")))


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module's tests (``pytestmark = pytest.mark.usefixtures(...)``), also
    outside xdist: latency timings stay sane when other work shares the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA} (set SUITE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def one_thread_reference(tmp_path_factory: pytest.TempPathFactory):
    """The tiny digits grid of the executor tests, trained by the local executor at one thread per run."""
    from _executor_fixtures import train_reference

    return train_reference(tmp_path_factory.mktemp("reference") / "suite.db")
@pytest.fixture
def isolated_plugins(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The test's own module registry, plugin loader memory and ``SUITE_PLUGINS``: the plugins a test
    loads are gone afterwards. Returns the monkeypatch, for more of the same."""
    from suite import plugins
    from suite.modules import MODULES

    monkeypatch.delenv(plugins.ENV, raising=False)
    monkeypatch.setattr(MODULES, "_entries", dict(MODULES._entries))
    monkeypatch.setattr(plugins, "_loaded_files", {})
    monkeypatch.setattr(plugins, "_loaded_packages", set())
    return monkeypatch
