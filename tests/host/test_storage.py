"""Atomic, no-overwrite, no-follow writes (dsexport/storage.py)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import dsexport
from dsexport import storage
from dsexport.errors import ForbiddenPath, IoError, NotFound
from testutil import skip_unless_ci

HOST_DIR = str(Path(dsexport.__file__).resolve().parent.parent)


@pytest.fixture(params=["dir_fd", "paths"])
def impl(request, monkeypatch):
    """Run a test against both implementations: the dir_fd walk (POSIX) and the path-based one
    Windows uses, which we can exercise here too."""
    if request.param == "paths":
        monkeypatch.setattr(storage, "_HAVE_DIR_FD", False)
    elif not storage._HAVE_DIR_FD:
        skip_unless_ci("this platform has no dir_fd support")
    return request.param


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


# --- basics -----------------------------------------------------------------------------------


def test_write_new_creates_folders_and_writes_all_parts(impl, tmp_path):
    data = bytes(range(256)) * 100
    view = memoryview(data)
    path = storage.write_new(tmp_path, "2026-11-25/sub/cat.png", [view[:10], view[10:], b"end"])
    assert path == tmp_path / "2026-11-25" / "sub" / "cat.png"
    assert path.read_bytes() == data + b"end"
    assert files_under(tmp_path) == ["2026-11-25/sub/cat.png"]  # no temporary file left


def test_new_files_get_0644_minus_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = storage.write_new(tmp_path, "a.png", [b"x"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_collisions_get_numbered_names_and_never_overwrite(impl, tmp_path):
    first = storage.write_new(tmp_path, "cat.png", [b"one"])
    second = storage.write_new(tmp_path, "cat.png", [b"two"])
    third = storage.write_new(tmp_path, "cat.png", [b"three"])
    assert [first.name, second.name, third.name] == ["cat.png", "cat (2).png", "cat (3).png"]
    assert [p.read_bytes() for p in (first, second, third)] == [b"one", b"two", b"three"]


def test_an_existing_user_file_is_never_overwritten(impl, tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"user's own photo")
    path = storage.write_new(tmp_path, "photo.jpg", [b"ours"])
    assert (tmp_path / "photo.jpg").read_bytes() == b"user's own photo"
    assert path.name == "photo (2).jpg"


def test_collision_name():
    assert storage.collision_name("a.png", 1) == "a.png"
    assert storage.collision_name("a.b.png", 2) == "a.b (2).png"
    assert storage.collision_name("noext", 3) == "noext (3)"


def test_the_final_name_appears_only_when_the_file_is_complete(impl, tmp_path):
    final = tmp_path / "big.png"
    seen_during_write = []

    def parts():
        for _ in range(5):
            yield b"x" * 100_000
            seen_during_write.append(final.exists())

    storage.write_new(tmp_path, "big.png", parts())
    assert seen_during_write == [False] * 5
    assert final.stat().st_size == 500_000


def test_a_failing_source_leaves_nothing_behind(impl, tmp_path):
    def parts():
        yield b"half"
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        storage.write_new(tmp_path, "d/x.png", parts())
    assert files_under(tmp_path) == []


# --- paths that try to leave the root ---------------------------------------------------------


@pytest.mark.parametrize(
    "relpath",
    [
        "../x.png",
        "a/../../x.png",
        "/etc/x.png",
        "./x.png",
        "a//x.png",
        "a\\..\\x.png",
        "C:x.png",
        "x.png:stream",
        "",
        "a/",
        "nul\x00.png",
        ".dsexport-abc.tmp",
    ],
)
def test_relpaths_that_could_escape_are_refused(impl, tmp_path, relpath):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ForbiddenPath):
        storage.write_new(root, relpath, [b"x"])
    assert files_under(tmp_path) == []


def test_symlinked_folder_pointing_outside_is_refused(impl, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "2026-11-25").symlink_to(outside)
    with pytest.raises(ForbiddenPath, match="link"):
        storage.write_new(root, "2026-11-25/cat.png", [b"x"])
    assert list(outside.iterdir()) == []


def test_symlink_in_a_deeper_subfolder_is_refused(impl, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (root / "a" / "b" / "c").symlink_to(outside)
    with pytest.raises(ForbiddenPath):
        storage.write_new(root, "a/b/c/d/cat.png", [b"x"])
    assert list(outside.iterdir()) == []


def test_symlink_to_a_folder_inside_the_root_is_refused_too(impl, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ForbiddenPath):
        storage.write_new(tmp_path, "link/cat.png", [b"x"])


def test_symlink_at_the_file_name_is_not_followed(impl, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"precious")
    (root / "cat.png").symlink_to(victim)
    (root / "dangling.png").symlink_to(outside / "new.txt")
    path = storage.write_new(root, "cat.png", [b"ours"])
    other = storage.write_new(root, "dangling.png", [b"ours"])
    assert victim.read_bytes() == b"precious"
    assert not (outside / "new.txt").exists()
    assert (path.name, other.name) == ("cat (2).png", "dangling (2).png")


def test_the_root_itself_may_be_a_symlink(impl, tmp_path):
    real = tmp_path / "disk"
    real.mkdir()
    (tmp_path / "Pictures").symlink_to(real)
    path = storage.write_new(tmp_path / "Pictures", "d/x.png", [b"x"])
    assert (real / "d" / "x.png").read_bytes() == b"x"
    assert path == tmp_path / "Pictures" / "d" / "x.png"


def test_a_file_where_a_folder_should_be_is_an_io_error(impl, tmp_path):
    (tmp_path / "2026-11-25").write_bytes(b"not a folder")
    with pytest.raises(IoError, match="not a folder"):
        storage.write_new(tmp_path, "2026-11-25/x.png", [b"x"])


# --- faults -----------------------------------------------------------------------------------


def test_missing_output_folder_is_a_clear_error(impl, tmp_path):
    with pytest.raises(IoError, match="output folder does not exist"):
        storage.write_new(tmp_path / "gone", "x.png", [b"x"])
    assert not (tmp_path / "gone").exists()


def _run_python(
    code: str, *, user: int | None = None, python: str = sys.executable
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this checkout's dsexport."""
    prelude = f"import sys; sys.path.insert(0, {HOST_DIR!r})\n"
    return subprocess.run(
        [python, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        user=user,
        group=user,
    )


def _unprivileged_python() -> tuple[int | None, str]:
    """(uid, interpreter) to run as: ourselves when not root; `nobody` when we are root, with
    the first interpreter that user can execute (ours may live under /root)."""
    if os.geteuid() != 0:
        return None, sys.executable
    for python in (sys.executable, "/usr/bin/python3"):
        try:
            probe = _run_python("import dsexport.storage; print('ok')", user=65534, python=python)
        except OSError:
            continue
        if probe.stdout.strip() == "ok":
            return 65534, python
    skip_unless_ci("running as root and no Python that user nobody can run")
    raise AssertionError


def test_read_only_folder_is_a_clear_error_and_leaves_nothing():
    # Root ignores permission bits, so the writer runs as `nobody` when the tests run as root.
    user, python = _unprivileged_python()
    base = Path(tempfile.mkdtemp(prefix="dsexport-ro-"))
    try:
        base.chmod(0o755)
        folder = base / "out"
        folder.mkdir()
        (folder / "existing").mkdir()
        folder.chmod(0o555)
        (folder / "existing").chmod(0o555)
        result = _run_python(
            f"""
            from pathlib import Path
            from dsexport import storage
            from dsexport.errors import IoError
            for rel in ("x.png", "existing/x.png", "new/x.png"):
                try:
                    storage.write_new(Path({str(folder)!r}), rel, [b"x" * 1000])
                except IoError as err:
                    print("IoError:", err)
            """,
            user=user,
            python=python,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 3, result.stdout
        assert all("not writable" in line for line in lines), result.stdout
        assert files_under(folder) == []
    finally:
        for p in (base, base / "out", base / "out" / "existing"):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(base)


def test_disk_full_is_a_clear_error_and_leaves_no_partial_file(tmp_path):
    # RLIMIT_FSIZE makes write() fail with EFBIG past the limit, like a full disk would with
    # ENOSPC (Python ignores SIGXFSZ, so the process is not killed).
    result = _run_python(
        f"""
        import resource
        from pathlib import Path
        from dsexport import storage
        from dsexport.errors import IoError
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
        try:
            storage.write_new(Path({str(tmp_path)!r}), "d/big.png", [b"x" * 200_000])
        except IoError as err:
            print("IoError:", err)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("IoError: disk full"), result.stdout
    assert files_under(tmp_path) == []


def test_disk_full_message_for_enospc():
    err = storage._io_error(OSError(28, "No space left on device"), "/x")
    assert str(err).startswith("disk full")


# --- concurrency ------------------------------------------------------------------------------


def _writer(args):
    root, worker, count = args
    paths = []
    for i in range(count):
        payload = f"worker {worker} item {i} ".encode() * 2000
        paths.append(str(storage.write_new(Path(root), "same/name.png", [payload])))
    return paths


def test_concurrent_writers_of_the_same_name_all_get_distinct_files(tmp_path):
    workers, count = 8, 15
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        results = pool.map(_writer, [(str(tmp_path), w, count) for w in range(workers)])
    paths = [p for r in results for p in r]
    assert len(paths) == len(set(paths)) == workers * count
    contents = {Path(p).read_bytes() for p in paths}
    expected = {
        f"worker {w} item {i} ".encode() * 2000 for w in range(workers) for i in range(count)
    }
    assert contents == expected  # every write landed whole, none overwritten
    assert len(files_under(tmp_path)) == workers * count


# --- replace_file -----------------------------------------------------------------------------


def test_replace_file_swaps_content_and_keeps_the_mode(impl, tmp_path):
    target = tmp_path / "dl" / "cat.png"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o600)
    storage.replace_file(target, [b"new ", memoryview(b"content")], allowed_roots=[tmp_path])
    assert target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert files_under(tmp_path) == ["dl/cat.png"]


def test_replace_file_refuses_paths_outside_the_allowed_roots(impl, tmp_path):
    allowed, other = tmp_path / "Downloads", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (other / "x.png").write_bytes(b"old")
    with pytest.raises(ForbiddenPath):
        storage.replace_file(other / "x.png", [b"new"], allowed_roots=[allowed])
    with pytest.raises(ForbiddenPath):
        storage.replace_file(allowed / ".." / "other" / "x.png", [b"new"], allowed_roots=[allowed])
    assert (other / "x.png").read_bytes() == b"old"


def test_replace_file_refuses_a_symlink(impl, tmp_path):
    allowed, outside = tmp_path / "Downloads", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"old")
    (allowed / "inside.png").write_bytes(b"old")
    (allowed / "link.png").symlink_to(outside / "secret")
    (allowed / "link2.png").symlink_to(allowed / "inside.png")
    with pytest.raises(ForbiddenPath):
        storage.replace_file(allowed / "link.png", [b"new"], allowed_roots=[allowed])
    with pytest.raises(ForbiddenPath, match="symbolic link"):
        storage.replace_file(allowed / "link2.png", [b"new"], allowed_roots=[allowed])
    assert (outside / "secret").read_bytes() == b"old"
    assert (allowed / "inside.png").read_bytes() == b"old"


def test_replace_file_refuses_a_symlinked_folder_leading_outside(impl, tmp_path):
    allowed, outside = tmp_path / "Downloads", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "x.png").write_bytes(b"old")
    (allowed / "sub").symlink_to(outside)
    with pytest.raises(ForbiddenPath):
        storage.replace_file(allowed / "sub" / "x.png", [b"new"], allowed_roots=[allowed])
    assert (outside / "x.png").read_bytes() == b"old"


def test_replace_file_of_a_missing_file_is_not_found(impl, tmp_path):
    with pytest.raises(NotFound):
        storage.replace_file(tmp_path / "nope.png", [b"x"], allowed_roots=[tmp_path])


def test_replace_file_refuses_a_folder(impl, tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(ForbiddenPath, match="not a regular file"):
        storage.replace_file(tmp_path / "d", [b"x"], allowed_roots=[tmp_path])


def test_replace_file_leaves_other_hard_links_untouched(impl, tmp_path):
    allowed, outside = tmp_path / "Downloads", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "original").write_bytes(b"old")
    os.link(outside / "original", allowed / "x.png")
    storage.replace_file(allowed / "x.png", [b"new"], allowed_roots=[allowed])
    assert (allowed / "x.png").read_bytes() == b"new"
    assert (outside / "original").read_bytes() == b"old"


def test_replace_file_failure_keeps_the_old_file(impl, tmp_path):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")

    def parts():
        yield b"partial"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        storage.replace_file(target, parts(), allowed_roots=[tmp_path])
    assert target.read_bytes() == b"old"
    assert files_under(tmp_path) == ["x.png"]


# --- write_atomic and is_within ---------------------------------------------------------------


def test_write_atomic_creates_and_replaces(impl, tmp_path):
    target = tmp_path / "cfg" / "config.json"
    storage.write_atomic(target, [b"{}"])
    storage.write_atomic(target, [b'{"a": 1}'])
    assert target.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert files_under(tmp_path) == ["cfg/config.json"]


def test_is_within(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert storage.is_within(tmp_path / "a" / "b" / "x", [tmp_path / "a"])
    assert storage.is_within(tmp_path / "a", [tmp_path / "a"])
    assert storage.is_within(tmp_path / "link" / "b", [tmp_path / "a"])
    assert not storage.is_within(tmp_path / "ab", [tmp_path / "a"])
    assert not storage.is_within(tmp_path / "a" / ".." / "x", [tmp_path / "a"])
    assert not storage.is_within("/etc/passwd", [tmp_path])
    assert storage.is_within("/etc/passwd", [tmp_path, "/etc"])


def test_sweep_removes_only_old_temporary_files(tmp_path):
    old_tmp = tmp_path / ".dsexport-0123456789abcdef.tmp"
    new_tmp = tmp_path / ".dsexport-fedcba9876543210.tmp"
    user_file = tmp_path / ".dsexport-notes.txt"
    for p in (old_tmp, new_tmp, user_file):
        p.write_bytes(b"x")
    os.utime(old_tmp, (1, 1))
    os.utime(user_file, (1, 1))
    assert storage.sweep_temp_files(tmp_path, max_age_s=3600) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([new_tmp.name, user_file.name])


def test_a_killed_writer_never_leaves_a_partial_file_under_the_final_name(tmp_path):
    # SIGKILL in the middle of writing: the final name must not exist; only a hidden temp file.
    script = f"""
        import os, signal
        from pathlib import Path
        from dsexport import storage
        def parts():
            yield b"x" * 100_000
            os.kill(os.getpid(), signal.SIGKILL)
            yield b"never"
        storage.write_new(Path({str(tmp_path)!r}), "d/cat.png", parts())
        """
    result = _run_python(script)
    assert result.returncode == -9
    names = files_under(tmp_path)
    assert not (tmp_path / "d" / "cat.png").exists()
    assert all(Path(n).name.startswith(storage.TEMP_PREFIX) for n in names), names


def test_file_systems_without_hard_links_still_never_overwrite(impl, tmp_path, monkeypatch):
    # FAT/exFAT refuse link() with EPERM; the fallback reserves the name with O_EXCL first.
    import errno

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    (tmp_path / "cat.png").write_bytes(b"user's")
    monkeypatch.setattr(os, "link", no_links)
    first = storage.write_new(tmp_path, "cat.png", [b"one"])
    second = storage.write_new(tmp_path, "cat.png", [b"two"])
    assert (first.name, second.name) == ("cat (2).png", "cat (3).png")
    assert (tmp_path / "cat.png").read_bytes() == b"user's"
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert files_under(tmp_path) == ["cat (2).png", "cat (3).png", "cat.png"]
