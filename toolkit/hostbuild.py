"""Compile generated C with the host compiler and run it on raw input bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.codegen import GeneratedC, write_c
from toolkit.errors import ToolchainError
from toolkit.paths import FIRMWARE

HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffp-contract=off"]
_C_DTYPE = {"int8_t": np.int8, "float": np.float32}


def host_compiler() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    raise ToolchainError("no host C compiler found: install one with 'apt-get install gcc'")


@dataclass
class HostProgram:
    """A generated model compiled with firmware/host/host_main.c."""

    exe: Path
    gen: GeneratedC

    def run(self, mode: str, data: np.ndarray, out_dtype: type, out_size: int) -> np.ndarray:
        proc = subprocess.run([str(self.exe), mode], input=np.ascontiguousarray(data).tobytes(), capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise ToolchainError(f"host program failed (exit {proc.returncode}): {proc.stderr.decode().strip()}")
        return np.frombuffer(proc.stdout, out_dtype).reshape(-1, out_size)

    def invoke(self, inputs: np.ndarray) -> np.ndarray:
        m = self.gen.model
        x = np.asarray(inputs, np.dtype(m.input.dtype)).reshape(-1, self.input_size)
        return self.run("invoke", x, np.dtype(m.output.dtype).type, self.output_size)

    @property
    def input_size(self) -> int:
        return sum(t.size for t in self.gen.model.inputs)

    @property
    def output_size(self) -> int:
        return sum(t.size for t in self.gen.model.outputs)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        return self.run("quantize", np.asarray(x, np.float32), np.int8, self.input_size)

    def dequantize_output(self, q: np.ndarray) -> np.ndarray:
        return self.run("dequantize", np.asarray(q, np.int8), np.float32, self.output_size)


def build_host(gen: GeneratedC, work_dir: str | Path) -> HostProgram:
    """Write the model's C into `work_dir` and compile it with the host harness."""
    if gen.name != "model":
        raise ToolchainError("the host harness expects code generated with --name model")
    work_dir = Path(work_dir)
    write_c(gen, work_dir)
    exe = work_dir / "model_host"
    cmd = [host_compiler(), *HOST_FLAGS, f"-I{work_dir}", str(FIRMWARE / "host" / "host_main.c"), str(work_dir / "model.c"), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise ToolchainError(f"host compile of generated C failed: {first}")
    return HostProgram(exe, gen)
