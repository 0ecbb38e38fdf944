"""Reads what the emulators need from a firmware ELF: load image, symbols,
section sizes, and what the ELF says about the core it needs (ARM build
attributes, the RISC-V ISA string)."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .arch import ISA_NAMES, ISA_V7, Arch
from .errors import EmulationError
from .layers import LAYERS_SECTION, parse_section

VECTORS_SECTION = ".tm_vectors"
_STACK_SECTIONS = (".stack", ".heap")  # reserved RAM, not counted in ram_bytes
# AVR: EEPROM contents, fuses and lock bits are programmed apart from flash and RAM.
_NOT_MEMORY = (".eeprom", ".fuse", ".lock", ".signature", ".user_signatures")
MACHINE_NAMES = {"EM_ARM": "ARM", "EM_RISCV": "RISC-V", "EM_AVR": "AVR"}
_RISCV_ARCH = re.compile(rb"rv(32|64)([a-z0-9_]+)")


@dataclass(frozen=True)
class BuildAttributes:
    """The subset of the ELF's .ARM.attributes that tells which core can run it."""

    cpu_arch: int | None = None  # Tag_CPU_arch
    profile: str | None = None  # 'M', 'A', 'R' (Tag_CPU_arch_profile)
    fp_arch: int = 0  # Tag_FP_arch, 0 = no FPU instructions
    double_fp: bool = False  # uses double-precision FPU instructions

    def describe(self) -> str:
        isa = ISA_NAMES.get(self.cpu_arch or -1, f"Tag_CPU_arch {self.cpu_arch}")
        if self.cpu_arch == ISA_V7 and self.profile != "M":
            isa = f"ARMv7-{self.profile or '?'}"
        if not self.fp_arch:
            return f"{isa} without FPU instructions"
        return f"{isa} with a {'double' if self.double_fp else 'single'}-precision FPU"

    def incompatibility(self, arch: Arch) -> str | None:
        """Why `arch` cannot run this ELF, or None if it can (or we cannot tell)."""
        if self.cpu_arch is None:
            return None
        if self.cpu_arch not in arch.runs_isas or (self.cpu_arch == ISA_V7 and self.profile != "M"):
            return f"the ELF is built for {self.describe()}, which {arch.description} cannot execute"
        if self.fp_arch and arch.fpu is None:
            return f"the ELF uses FPU instructions ({self.describe()}) but {arch.description} has no FPU"
        if self.double_fp and arch.fpu is not None and not arch.fpu.double:
            return f"the ELF uses double-precision FPU instructions but {arch.description} has single precision only"
        return None


def riscv_extensions(isa: str) -> frozenset[str]:
    """Single-letter extensions of a RISC-V ISA string: "rv32i2p1_m2p0_c2p0_zmmul1p0" -> {i, m, c}."""
    m = _RISCV_ARCH.match(isa.encode())
    if not m:
        return frozenset()
    parts = m.group(2).decode().split("_")
    letters = set(re.sub(r"\d+(p\d+)?", " ", parts[0]).replace(" ", ""))  # "imac" or "i2p1m2p0"
    letters |= {p[0] for p in parts[1:] if p and p[0] not in "zsx" and (len(p) == 1 or p[1].isdigit())}
    if "g" in letters:
        letters |= set("imafd")
    return frozenset(letters)


@dataclass
class ElfImage:
    path: Path
    entry: int
    segments: list[tuple[int, bytes]]  # (load address, bytes), from PT_LOAD p_paddr
    symbols: dict[str, int]  # every named symbol -> value (Thumb bit kept)
    sections: list[tuple[str, int, int, int, str]]  # name, address, size, flags, type
    attributes: BuildAttributes  # ARM build attributes (empty for other machines)
    machine: str = "EM_ARM"  # e_machine
    riscv_isa: str | None = None  # Tag_RISCV_arch, e.g. "rv32i2p1_m2p0_c2p0"
    avr_device: str | None = None  # from avr-gcc's .note.gnu.avr.deviceinfo, e.g. "atmega328p"
    layer_marks: list[tuple[int, int]] = field(default_factory=list)  # (address, index), from .tm_layers
    _func_starts: list[int] = field(default_factory=list, repr=False)
    _funcs: list[tuple[int, int, str]] = field(default_factory=list, repr=False)

    def symbol(self, name: str) -> int | None:
        return self.symbols.get(name)

    @property
    def machine_name(self) -> str:
        return MACHINE_NAMES.get(self.machine, self.machine)

    def incompatibility(self, arch: Arch) -> str | None:
        """Why `arch` cannot run this ELF, or None if it can (or we cannot tell)."""
        if self.machine != arch.elf_machine:
            return (f"it is {'an' if self.machine_name[0] in 'AEIOU' else 'a'} {self.machine_name} ELF and "
                    f"{arch.name} runs {MACHINE_NAMES.get(arch.elf_machine, arch.elf_machine)} code")
        if self.machine == "EM_ARM":
            return self.attributes.incompatibility(arch)
        if self.machine == "EM_AVR" and self.avr_device and self.avr_device != arch.name:
            return f"the ELF is built for the {self.avr_device} (-mmcu), not the {arch.name}"
        if self.machine == "EM_RISCV" and self.riscv_isa and arch.riscv_extensions:
            if not self.riscv_isa.startswith("rv32"):
                return f"the ELF is built for {self.riscv_isa[:4]}, {arch.name} is a 32-bit core"
            extra = riscv_extensions(self.riscv_isa) - arch.riscv_extensions
            if extra:
                return (f"the ELF is built for {self.riscv_isa}, with the {', '.join(sorted(extra)).upper()} "
                        f"extension{'s' if len(extra) > 1 else ''} that {arch.name} lacks")
        return None

    def function_at(self, address: int) -> str | None:
        """Name of the function whose body contains `address`."""
        i = bisect.bisect_right(self._func_starts, address & ~1) - 1
        while i >= 0:
            start, size, name = self._funcs[i]
            if start <= address < start + max(size, 2):
                return name
            if start + size < address - 0x10000:
                break
            i -= 1
        return None

    def sizes(self) -> dict[str, int]:
        """Section sizes in bytes: text, rodata, data, bss, vectors, flash_bytes, ram_bytes.

        flash_bytes = text + rodata + data (its load image); ram_bytes = data + bss.
        The test vectors (.tm_vectors) are reported apart and count in neither.
        """
        out = {"text": 0, "rodata": 0, "data": 0, "bss": 0, "vectors": 0}
        for name, _addr, size, flags, stype in self.sections:
            if not flags & SH_FLAGS.SHF_ALLOC or size == 0 or name.startswith(_NOT_MEMORY):
                continue
            if name == VECTORS_SECTION:
                out["vectors"] += size
            elif name.startswith(_STACK_SECTIONS):
                continue
            elif stype == "SHT_NOBITS":
                out["bss"] += size
            elif flags & SH_FLAGS.SHF_EXECINSTR:
                out["text"] += size
            elif flags & SH_FLAGS.SHF_WRITE:
                out["data"] += size
            else:
                out["rodata"] += size
        out["flash_bytes"] = out["text"] + out["rodata"] + out["data"]
        out["ram_bytes"] = out["data"] + out["bss"]
        return out


def _attributes(elf: ELFFile) -> BuildAttributes:
    section = elf.get_section_by_name(".ARM.attributes")
    if section is None or not hasattr(section, "iter_subsections"):
        return BuildAttributes()
    tags: dict[str, object] = {}
    for sub in section.iter_subsections():
        for subsub in sub.iter_subsubsections():
            for attr in subsub.iter_attributes():
                tags.setdefault(attr.tag, attr.value)
    profile = tags.get("TAG_CPU_ARCH_PROFILE")
    fp_arch = int(tags.get("TAG_FP_ARCH", 0) or 0)
    hardfp_use = int(tags.get("TAG_ABI_HARDFP_USE", 0) or 0)
    return BuildAttributes(
        cpu_arch=tags.get("TAG_CPU_ARCH"),  # type: ignore[arg-type]
        profile=chr(profile) if isinstance(profile, int) and profile else None,
        fp_arch=fp_arch,
        # Tag_ABI_HardFP_use: 1 = single precision only; 0 (as Tag_FP_arch implies) or 3 = both.
        double_fp=bool(fp_arch) and hardfp_use != 1,
    )


def _riscv_isa(elf: ELFFile) -> str | None:
    """Tag_RISCV_arch of the .riscv.attributes section (read as text: it is a NUL-terminated string)."""
    section = elf.get_section_by_name(".riscv.attributes")
    if section is None:
        return None
    m = _RISCV_ARCH.search(section.data())
    return m.group(0).decode() if m else None


def _avr_device(elf: ELFFile) -> str | None:
    """The device name in avr-gcc's device-info note: after the note header (16 bytes) and the
    fixed part of its descriptor (memory origins and sizes, 28 bytes) comes a string table."""
    section = elf.get_section_by_name(".note.gnu.avr.deviceinfo")
    if section is None:
        return None
    m = re.search(rb"[a-z][a-z0-9]+", section.data()[44:])
    return m.group(0).decode() if m else None


def load_elf(path: str | Path) -> ElfImage:
    path = Path(path)
    if not path.is_file():
        raise EmulationError(f"firmware {path} not found")
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            machine = elf["e_machine"]
            if machine not in MACHINE_NAMES or elf.elfclass != 32:
                raise EmulationError(f"{path} is not a 32-bit ARM, RISC-V or AVR ELF "
                                     f"({elf.elfclass}-bit {elf.get_machine_arch()})")
            segments = [(seg["p_paddr"], seg.data()) for seg in elf.iter_segments()
                        if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0]
            sections = [(s.name, s["sh_addr"], s["sh_size"], s["sh_flags"], s["sh_type"])
                        for s in elf.iter_sections()]
            symbols: dict[str, int] = {}
            funcs: dict[int, tuple[int, int, str]] = {}
            symtab = elf.get_section_by_name(".symtab")
            for sym in symtab.iter_symbols() if symtab is not None else ():
                if not sym.name or sym.name.startswith("$"):
                    continue
                symbols.setdefault(sym.name, sym["st_value"])
                if sym["st_info"]["type"] == "STT_FUNC":
                    start = sym["st_value"] & ~1
                    # Prefer global names over local/weak aliases at the same address.
                    if start not in funcs or sym["st_info"]["bind"] == "STB_GLOBAL":
                        funcs[start] = (start, sym["st_size"], sym.name)
            attributes = _attributes(elf) if machine == "EM_ARM" else BuildAttributes()
            riscv_isa = _riscv_isa(elf) if machine == "EM_RISCV" else None
            avr_device = _avr_device(elf) if machine == "EM_AVR" else None
            entry = elf.header["e_entry"]
            layers = elf.get_section_by_name(LAYERS_SECTION)
            layer_marks = parse_section(layers.data(), elf.little_endian) if layers is not None else []
    except ELFError as exc:
        raise EmulationError(f"{path} is not a valid ELF: {exc}") from None
    ordered = sorted(funcs.values())
    return ElfImage(path=path, entry=entry, segments=segments, symbols=symbols, sections=sections,
                    attributes=attributes, machine=machine, riscv_isa=riscv_isa, avr_device=avr_device,
                    layer_marks=layer_marks, _func_starts=[f[0] for f in ordered], _funcs=ordered)
