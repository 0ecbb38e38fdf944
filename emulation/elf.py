"""Reads what the emulator needs from a firmware ELF: load image, symbols,
section sizes and ARM build attributes."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .arch import ISA_NAMES, ISA_V7, Arch
from .errors import EmulationError

VECTORS_SECTION = ".tm_vectors"
_STACK_SECTIONS = (".stack", ".heap")  # reserved RAM, not counted in ram_bytes


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


@dataclass
class ElfImage:
    path: Path
    entry: int
    segments: list[tuple[int, bytes]]  # (load address, bytes), from PT_LOAD p_paddr
    symbols: dict[str, int]  # every named symbol -> value (Thumb bit kept)
    sections: list[tuple[str, int, int, int, str]]  # name, address, size, flags, type
    attributes: BuildAttributes
    _func_starts: list[int] = field(default_factory=list, repr=False)
    _funcs: list[tuple[int, int, str]] = field(default_factory=list, repr=False)

    def symbol(self, name: str) -> int | None:
        return self.symbols.get(name)

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
            if not flags & SH_FLAGS.SHF_ALLOC or size == 0:
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


def load_elf(path: str | Path) -> ElfImage:
    path = Path(path)
    if not path.is_file():
        raise EmulationError(f"firmware {path} not found")
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            if elf.get_machine_arch() != "ARM" or elf.elfclass != 32:
                raise EmulationError(f"{path} is not a 32-bit ARM ELF ({elf.get_machine_arch()})")
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
            attributes = _attributes(elf)
            entry = elf.header["e_entry"]
    except ELFError as exc:
        raise EmulationError(f"{path} is not a valid ELF: {exc}") from None
    ordered = sorted(funcs.values())
    return ElfImage(path=path, entry=entry, segments=segments, symbols=symbols, sections=sections,
                    attributes=attributes, _func_starts=[f[0] for f in ordered], _funcs=ordered)
