"""The usage snippet in model.h is a program that compiles (strict C99, every warning) and runs."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from toolkit.codegen import generate_c, write_c
from toolkit.tflite.reader import read_tflite

STRICT = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-Os"]


def snippet_program(header: str) -> str:
    """main() made of the header's `main.c:` lines, the "... fill ..." line filling the input."""
    block = header.split("main.c:", 1)[1].split("Arduino:", 1)[0]
    lines = [re.sub(r"^\s*\*\s*", "", ln) for ln in block.splitlines()]
    include, body = lines[0].strip(), [ln for ln in lines[1:] if ln]
    decls = [ln for ln in body if ln.startswith(("static", "float"))]
    fill = next(ln for ln in body if ln.startswith("... fill"))
    target = fill.split()[2]
    calls = [ln for ln in body if ln not in decls and ln != fill]
    out = "y" if "y[" in " ".join(decls) else "out"
    return "\n".join([include, "#include <stdio.h>", *decls, "int main(void)", "{",
                      f"    for (int i = 0; i < (int)(sizeof {target} / sizeof {target}[0]); i++) {target}[i] = 1;",
                      *(f"    {c}" for c in calls), f"    printf(\"%g\\n\", (double){out}[0]);", "    return 0;", "}", ""])


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_the_header_snippet_builds_strict_and_runs(kind, reference_models, tmp_path):
    out = tmp_path / "c"
    write_c(generate_c(read_tflite(reference_models[kind])), out)
    (out / "main.c").write_text(snippet_program((out / "model.h").read_text()))
    exe = tmp_path / "snippet"
    done = subprocess.run(["cc", *STRICT, "-I", str(out), str(out / "main.c"), str(out / "model.c"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    value = float(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout)
    assert -2.0 < value < 2.0  # sin-like output for x = 1 (or q = 1)
    for cc, flags in (("avr-gcc", ["-mmcu=atmega328p"]), ("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb"])):
        if shutil.which(cc) is None:
            pytest.skip(f"{cc} not installed (make setup installs it)")
        done = subprocess.run([cc, *flags, *STRICT, "-I", str(out), "-c", str(out / "main.c"), "-o", str(tmp_path / "m.o")],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{cc}: {done.stderr}"
