"""The result of one firmware run and the console format of the harness."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

METRIC_NAMES = ("instructions", "instructions_min", "instructions_max",
                "flash_bytes", "ram_bytes", "stack_bytes")

_OUTPUT_LINE = re.compile(r"^O:([0-9a-f]*)$")


@dataclass
class RunResult:
    elf: str
    arch: str
    outputs: list[bytes]  # output bytes per inference, copied at tm_mark_end
    inputs: list[bytes]  # input bytes per inference, as seen at tm_mark_begin
    console: str  # everything the guest printed
    instructions_per_inference: list[int]  # exact, marker overhead subtracted
    marker_overhead: int  # instructions of the calibration pair
    total_instructions: int  # the whole run, start-up to exit
    flash_bytes: int  # text + rodata + data, without the test vectors
    ram_bytes: int  # data + bss
    stack_bytes: int | None  # measured peak (None: ELF has no __stack_top/__stack_limit)
    sections: dict[str, int] = field(default_factory=dict)  # text, rodata, data, bss, vectors

    @property
    def instructions(self) -> int | None:
        """Instructions per inference: the mean, rounded; exact when all are equal."""
        counts = self.instructions_per_inference
        return (2 * sum(counts) + len(counts)) // (2 * len(counts)) if counts else None

    @property
    def instructions_min(self) -> int | None:
        return min(self.instructions_per_inference, default=None)

    @property
    def instructions_max(self) -> int | None:
        return max(self.instructions_per_inference, default=None)

    def metrics(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def outputs_array(self, dtype: str | np.dtype) -> np.ndarray:
        """Outputs as an (n, MODEL_OUTPUT_SIZE) array of `dtype` (int8 or float32)."""
        dt = np.dtype(dtype).newbyteorder("<")
        return np.stack([np.frombuffer(o, dtype=dt) for o in self.outputs]) if self.outputs \
            else np.zeros((0, 0), dtype=dt)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["outputs"] = [o.hex() for o in self.outputs]
        data["inputs"] = [i.hex() for i in self.inputs]
        data["metrics"] = self.metrics()
        return data


def parse_console(text: str) -> list[bytes]:
    """Outputs printed by the harness: one "O:<hex>" line per inference."""
    out = []
    for line in text.splitlines():
        m = _OUTPUT_LINE.match(line.strip())
        if m:
            out.append(bytes.fromhex(m.group(1)))
    return out
