"""Build hook: the wheel carries the browser extension as ``dsexport/extension``, copied from the
repository's ``extension/`` folder (the one source of truth), so a pip- or pipx-installed
``dsexport install`` has the extension's IDs and ``dsexport extension`` has files to offer.
Everything else is declared in pyproject.toml."""

from __future__ import annotations

import importlib.util
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
EXTENSION = os.path.join(HERE, "extension")


def _extension_files() -> list[str]:
    # Loaded by path: dsexport is not installed while it is being built.
    path = os.path.join(HERE, "host", "dsexport", "installer", "extension_package.py")
    spec = importlib.util.spec_from_file_location("_dsexport_extension_package", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extension_files(EXTENSION)


class BuildPyWithExtension(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install finds extension/ by walking up from the source tree
        target = os.path.join(self.build_lib, "dsexport", "extension")
        if os.path.isdir(target):
            shutil.rmtree(target)
        for name in _extension_files():
            dest = os.path.join(target, *name.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(os.path.join(EXTENSION, *name.split("/")), dest)


setup(cmdclass={"build_py": BuildPyWithExtension})
