"""The host's log file: rotated at its size cap, a fixed number of old files, never stderr."""

from __future__ import annotations

import logging

from dsexport.native.logsetup import SmallRotatingFileHandler, setup_logging


def test_the_log_rotates_and_keeps_three_old_files(tmp_path):
    handler = SmallRotatingFileHandler(tmp_path / "host.log", max_bytes=300, backups=3)
    logger = logging.Logger("rotation-test")
    logger.addHandler(handler)
    for i in range(200):
        logger.warning("record %03d %s", i, "x" * 40)
    handler.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["host.log", "host.log.1", "host.log.2", "host.log.3"]
    assert all(p.stat().st_size <= 300 + 60 for p in tmp_path.iterdir())
    assert "record 199" in (tmp_path / "host.log").read_text("utf-8")


def test_an_unwritable_log_folder_means_no_log_and_no_noise(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    logger = setup_logging(blocker / "log")
    logger.warning("nowhere to go")
    assert capsys.readouterr() == ("", "")
    logger.handlers.clear()


def test_nothing_is_written_until_something_is_logged(tmp_path):
    logger = setup_logging(tmp_path / "log")
    assert not (tmp_path / "log" / "host.log").exists()
    logger.info("first")
    assert "first" in (tmp_path / "log" / "host.log").read_text("utf-8")
    for handler in logger.handlers:
        handler.close()
    logger.handlers.clear()
