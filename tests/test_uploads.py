"""The app's temporary upload folders: private, removed when the run ends, leftovers cleaned."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta

import pytest

from dmi.service.uploads import STALE_AFTER, remove_stale_uploads, upload_folder, uploads_root


def _age(path, seconds):
    """Make a folder and everything in it look last changed ``seconds`` ago."""
    when = time.time() - seconds
    for entry in [path, *path.rglob("*")]:
        os.utime(entry, (when, when))


def test_a_runs_folder_is_private_and_removed_when_the_run_ends(tmp_path):
    root = tmp_path / "uploads"
    with upload_folder(root) as folder:
        assert folder.parent == root and folder.is_dir()
        assert folder.stat().st_mode & 0o777 == 0o700
        assert root.stat().st_mode & 0o777 == 0o700
        (folder / "upload.csv").write_text("a,b\n")
    assert not folder.exists()
    assert list(root.iterdir()) == []


def test_a_runs_folder_is_removed_when_the_run_fails(tmp_path):
    root = tmp_path / "uploads"
    with pytest.raises(RuntimeError, match="the run failed"), upload_folder(root) as folder:
        (folder / "scores.csv").write_text("x\n")
        raise RuntimeError("the run failed")
    assert not folder.exists()


def test_leftovers_are_removed_at_the_start_and_live_runs_are_kept(tmp_path):
    root = uploads_root(tmp_path / "uploads")
    stale = root / "run-killed"
    (stale / "inner").mkdir(parents=True)
    (stale / "inner" / "upload.csv").write_text("a\n")
    _age(stale, STALE_AFTER.total_seconds() + 60)
    # a run of another session: its folder is old, but it wrote a file a moment ago
    live = root / "run-busy"
    live.mkdir()
    (live / "scores.csv").write_text("x\n")
    _age(live, 3 * STALE_AFTER.total_seconds())
    os.utime(live / "scores.csv")
    other = root / "not-a-run"  # not the module's: left alone
    other.mkdir()
    _age(other, 10 * STALE_AFTER.total_seconds())

    with upload_folder(root) as folder:
        assert not stale.exists()
        assert live.exists() and other.exists() and folder.exists()
    assert sorted(p.name for p in root.iterdir()) == ["not-a-run", "run-busy"]


def test_stale_is_measured_against_the_given_time(tmp_path):
    root = uploads_root(tmp_path / "uploads")
    folder = root / "run-1"
    folder.mkdir()
    changed = folder.stat().st_mtime
    hour = timedelta(hours=1)
    assert remove_stale_uploads(root, hour, now=changed + 3599) == []
    assert remove_stale_uploads(root, hour, now=changed + 3601) == [folder]
    assert not folder.exists()


def test_an_upload_root_others_may_enter_is_refused(tmp_path):
    root = tmp_path / "shared"
    root.mkdir(mode=0o777)
    root.chmod(0o777)
    with pytest.raises(PermissionError, match="only it may enter"):
        uploads_root(root)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    with pytest.raises(PermissionError, match="must be a directory"):
        uploads_root(link)


def test_the_root_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DMI_UPLOAD_DIR", str(tmp_path / "mine"))
    assert uploads_root() == tmp_path / "mine"
    monkeypatch.delenv("DMI_UPLOAD_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "system-temp"))
    assert uploads_root() == tmp_path / "system-temp" / f"dmi-uploads-{os.getuid()}"
