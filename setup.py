"""Build hook: a wheel carries the editable top-level folders (datasets/, baselines/, variants/,
dashboard/) as ``suite/_bundled/<name>``, so a plain ``pip install`` finds them where
``suite/_resources.py`` looks. Editable installs read them from the checkout instead. All other
package metadata is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FOLDERS = ("datasets", "baselines", "variants", "dashboard")


class BuildPyWithFolders(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        here = Path(__file__).resolve().parent
        for name in FOLDERS:
            target = Path(self.build_lib) / "suite" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)  # no file deleted since an earlier build survives
            shutil.copytree(here / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithFolders})
