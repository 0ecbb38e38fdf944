"""The wheel carries firmware/ and the Node engines' files as emulation/data/ (emulation/data.py).

Everything else about the package is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WOKWI_FILES = ("engines", "templates", "package.json", "package-lock.json")  # as emulation.data.WOKWI_FILES


class BuildPyWithData(build_py):
    """build_py, then the non-Python folders copied into the package (not for editable installs,
    which read the checkout's folders)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        data = Path(self.build_lib) / "emulation" / "data"
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(ROOT / "firmware", data / "firmware", ignore=shutil.ignore_patterns("__pycache__", "*.o"))
        for name in WOKWI_FILES:
            src = ROOT / "wokwi" / name
            if src.is_dir():
                shutil.copytree(src, data / "wokwi" / name)
            else:
                shutil.copyfile(src, data / "wokwi" / name)


setup(cmdclass={"build_py": BuildPyWithData})
