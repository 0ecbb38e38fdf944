"""The timing models: one cost table per core, each figure with its source.

A table maps an instruction class (timing/thumb.py, timing/rv32.py) to
(fixed, per_register) cycles: an instruction costs fixed + per_register * N,
N the 32-bit words a multiple load/store moves (LDM, PUSH, POP, VLDM, ...;
LR and PC included, as the Arm TRMs count N). A class a table does not list
costs what "alu" costs.

Control transfers (classes branch, call, branch_reg, pc_alu, load_pc, pop_pc,
table_branch; RISC-V branch and jump):
- branches="taken" (no branch prediction: Cortex-M0+/M3/M4/M33): the table gives
  the cycles of a taken transfer. An unconditional one is always taken. A
  conditional one (B<cc>, CBZ/CBNZ, a branch inside an IT block) costs
  `not_taken` cycles, plus the difference when execution continues anywhere but
  right after it (the native counter sees that: the next block does not start
  where this one ended).
- branches="predicted" (Cortex-M7, SiFive E31): the table gives the cycles of a
  correctly predicted transfer; a conditional branch costs `mispredict` more when
  a 2-bit saturating counter of its own (an ideal branch history table, no
  aliasing, initially weakly not-taken) predicted it wrongly.

Common assumptions: zero-wait-state memory for code and data (no flash wait
states, no cache misses, no bus contention), no interrupts, an instruction whose
condition fails in an IT block costs as if it executed, a multiply or divide
whose time depends on its operands costs the rounded-up midpoint of its
published range, and Thumb-2 fetch effects (unaligned 32-bit instructions) are
ignored.

Sources:
[M0+]  Arm Cortex-M0+ Technical Reference Manual r0p1 (DDI 0484C), 3.3, Table 3-1
       "Cortex-M0+ instruction summary" (zero wait states).
[M3]   Arm Cortex-M3 Technical Reference Manual r2p0 (DDI 0337I), 3.3, Table 3-1
       "Cortex-M3 instruction set summary", and 3.3.1 "Load/store timings".
[M4]   Arm Cortex-M4 Technical Reference Manual r0p1 (DDI 0439B), 3.3.1, Table 3-1
       "Processor instruction set summary", and 7.2.3, Table 7-1 "FPU instruction set"
       (FPv4-SP). P, the pipeline refill of a taken branch, "ranges from 1 to 3
       depending on the alignment and width of the target instruction, and whether
       the processor manages to speculate the address early".
[E31]  SiFive E31 Core Complex Manual, 3.2 "Instruction Fetch Unit" (branch
       prediction; mispredicted control-flow instructions incur a three-cycle
       penalty) and 3.3 "Execution Pipeline" (single-issue, in order, five stages;
       result latencies; interlocks on RAW and WAW hazards).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..errors import EmulationError

Cost = tuple[int, int]  # (fixed, per register)


@dataclass(frozen=True)
class CoreTiming:
    name: str  # key of CORES
    label: str  # what RunResult.timing_model says
    isa: str  # "thumb" or "rv32": which classifier decodes its blocks
    costs: Mapping[str, Cost]
    branches: str = "taken"  # "taken" or "predicted" (see the module docstring)
    not_taken: int = 1  # cycles of a conditional transfer that falls through (branches="taken")
    mispredict: int = 0  # extra cycles of a mispredicted conditional branch (branches="predicted")
    # Cortex-M3/M4: a single load/store right after a single load/store costs one cycle less [M3 3.3.1, M4
    # Table 3-1 note b], unless its address uses the previous load's result or follows a register-offset store.
    pipelined_loads: bool = False
    # N of PUSH/POP/LDM/STM counts LR and PC, as the Arm TRMs count it ("the number of registers in the
    # register list to be loaded or stored, including PC or LR"). rp2040js counts only r0-r7 (False).
    count_lr_pc: bool = True
    # In-order scoreboard (rv32): cycles until a class's result can be used, and the classes that keep
    # their unit busy until then (the next one of them waits). Unlisted classes: their issue cycles.
    latencies: Mapping[str, int] = field(default_factory=dict)
    blocking: frozenset[str] = frozenset()
    assumptions: tuple[str, ...] = ()  # what this core's model leaves out or guesses, for the docs

    def cost(self, kind: str) -> Cost:
        return self.costs.get(kind) or self.costs["alu"]


def _table(**costs: int | Cost) -> Mapping[str, Cost]:
    return MappingProxyType({k: v if isinstance(v, tuple) else (v, 0) for k, v in costs.items()})


# --- Cortex-M0+ ------------------------------------------------------------------------------------
# Two-stage pipeline, no branch prediction: a taken branch refills one stage.
CORTEX_M0PLUS = CoreTiming(
    "cortex-m0plus", "cortex-m0plus: Cortex-M0+ TRM table, zero wait states, single-cycle multiplier", "thumb",
    _table(
        alu=1,               # [M0+] MOVS, ADDS, CMP, logical, shifts, extend, reverse: 1
        mul=1,               # [M0+] MULS: 1 or 32; the single-cycle multiplier option (the RP2040 has it)
        load=2, store=2,     # [M0+] LDR*/STR*, immediate and register offset: 2 (1 only on the single-cycle I/O port)
        load_multiple=(1, 1), store_multiple=(1, 1),  # [M0+] LDM, STM, PUSH, POP: 1 + N
        pop_pc=(3, 1),       # [M0+] POP {..., PC}: 3 + N
        branch=2,            # [M0+] B<cc>: 1 not taken, 2 taken; B: 2
        call=3,              # [M0+] BL: 3
        branch_reg=2,        # [M0+] BX, BLX: 2
        pc_alu=2,            # [M0+] MOV PC, Rm and ADD PC, PC, Rm: 2
        barrier=3, isb=3,    # [M0+] DMB, DSB, ISB: 3
        system=3,            # [M0+] MRS, MSR: 3 (CPS: 1, charged 3 here)
    ),
    assumptions=("MULS is single-cycle (the fast multiplier option; the small one takes 32 cycles)",
                 "loads and stores take 2 cycles (the single-cycle I/O port is not modelled)"),
)

# --- Cortex-M4 --------------------------------------------------------------------------------------
# Three-stage pipeline, no branch prediction. P (taken-branch refill, 1 to 3) is fixed per kind of transfer:
# 1 for direct branches (their target is speculated early), 2 for branches to a register, 3 for loads to
# the PC ([M3] 3.3.1: "three cycles for the pipeline reload" after LDR PC and TBB/TBH).
_P_DIRECT, _P_REGISTER, _P_LOAD = 1, 2, 3
_M4_INTEGER = dict(
    alu=1,                   # [M4] MOV, ADD, SUB, logical, shifts, bit-field, extend, saturate, DSP (SMLAD, QADD, ...): 1
    it=1,                    # [M4] IT: 1 (it can fold into a preceding 16-bit instruction: 0; not modelled)
    mul=1, mla=1,            # [M4] MUL, MLA, MLS: 1
    mull=1, mlal=1,          # [M4] SMULL, UMULL, SMLAL, UMLAL: 1
    div=7,                   # [M4] SDIV, UDIV: 2 to 12 (early termination on the operands): midpoint
    load=2, store=2,         # [M4] LDR*, STR*: 2; 1 when pipelined with the previous load/store (pipelined_loads)
    load_double=3, store_double=3,  # [M4] LDRD, STRD: 1 + N, N = 2
    load_multiple=(1, 1), store_multiple=(1, 1),  # [M4] LDM, STM, PUSH, POP: 1 + N
    pop_pc=(1 + _P_LOAD, 1),  # [M4] LDM/POP including PC: 1 + N + P
    load_pc=2 + _P_LOAD,     # [M4] LDR PC: 2 + P ([M3] 3.3.1: "at least five cycles")
    branch=1 + _P_DIRECT,    # [M4] B, B<cc> taken, CBZ/CBNZ taken: 1 + P; not taken: 1
    call=1 + _P_DIRECT,      # [M4] BL: 1 + P
    branch_reg=1 + _P_REGISTER,  # [M4] BX, BLX: 1 + P
    pc_alu=1 + _P_REGISTER,  # [M4] MOV PC, ADD PC: 1 + P
    table_branch=2 + _P_LOAD,  # [M4] TBB, TBH: 2 + P
    barrier=1,               # [M4] DMB, DSB: 1 + B, B at least 0
    isb=1 + _P_LOAD,         # [M4] ISB: 1 + B, B at least a pipeline refill
    system=2,                # [M4] MRS, MSR, CPS: 1 or 2
    trap=1,                  # SVC, BKPT, UDF: the exception entry is not modelled
)
_FPV4_SP = dict(
    fp=1,                    # [M4 Table 7-1] VADD, VSUB, VMUL, VNMUL, VABS, VNEG, VCMP, VCVT, VMOV, VMRS, VMSR: 1
    fp_move2=2,              # [M4 Table 7-1] VMOV between two core registers and a D or two S registers: 2
    fp_mac=3,                # [M4 Table 7-1] VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS: 3
    fp_div=14, fp_sqrt=14,   # [M4 Table 7-1] VDIV.F32, VSQRT.F32: 14
    fp_load=2, fp_store=2,   # [M4 Table 7-1] VLDR.32, VSTR.32: 2
    fp_load64=3, fp_store64=3,  # [M4 Table 7-1] VLDR.64, VSTR.64: 3
    fp_multiple=(1, 1),      # [M4 Table 7-1] VLDM, VSTM, VPUSH, VPOP: 1 + N (N words)
)
CORTEX_M4 = CoreTiming(
    "cortex-m4", "cortex-m4: Cortex-M4 TRM table, zero wait states", "thumb",
    _table(**_M4_INTEGER, **_FPV4_SP), pipelined_loads=True,
    assumptions=("taken-branch refill P: 1 for direct branches, 2 for branches to a register, 3 for loads to "
                 "the PC (the TRM gives 1 to 3)",
                 "SDIV/UDIV: 7 cycles (the TRM gives 2 to 12, depending on the operands)",
                 "the address-generation interlock ([M3] 3.3.1: a load/store whose address depends on the "
                 "preceding instruction's result) and IT folding are not modelled"),
)

# --- Cortex-M3 --------------------------------------------------------------------------------------
# The Cortex-M4 pipeline without DSP and FPU; slower multiply-accumulate and long multiplies.
CORTEX_M3 = CoreTiming(
    "cortex-m3", "cortex-m3: Cortex-M3 TRM table, zero wait states", "thumb",
    _table(**{**_M4_INTEGER,
              "mla": 2,      # [M3] MLA, MLS: 2
              "mull": 4,     # [M3] SMULL, UMULL: 3 to 5 (early termination): midpoint
              "mlal": 6,     # [M3] SMLAL, UMLAL: 4 to 7 (early termination): midpoint, rounded up
              }),
    pipelined_loads=True,
    assumptions=CORTEX_M4.assumptions + ("SMULL/UMULL 4 and SMLAL/UMLAL 6 cycles (the TRM gives 3-5 and 4-7)",),
)

# --- Cortex-M33 -------------------------------------------------------------------------------------
# Arm publishes no instruction timing table for the Cortex-M33; its three-stage pipeline is priced with the
# Cortex-M4 table (FPv5-SP at the FPv4-SP figures).
CORTEX_M33 = CoreTiming(
    "cortex-m33", "cortex-m33: Cortex-M4 TRM table (none published for the M33), zero wait states", "thumb",
    _table(**_M4_INTEGER, **_FPV4_SP), pipelined_loads=True,
    assumptions=("the Cortex-M4 table stands in for the M33's (none is published)",) + CORTEX_M4.assumptions,
)

# --- Cortex-M7 --------------------------------------------------------------------------------------
# Six-stage, dual-issue superscalar pipeline with branch prediction; Arm publishes no cycle table. Modelled
# as single-issue (every instruction at least one cycle: dual issue would retire up to two per cycle, so the
# estimate leans high for straight-line code), zero-wait TCM, a 2-bit predictor per conditional branch.
# Figures marked (assumed) are not from a published table.
CORTEX_M7 = CoreTiming(
    "cortex-m7", "cortex-m7: single-issue approximation (no published table), zero-wait TCM, predicted branches",
    "thumb",
    _table(**{**_M4_INTEGER, **_FPV4_SP,
              "load": 1, "store": 1,          # (assumed) pipelined loads/stores from TCM: 1
              "load_double": 2, "store_double": 2,  # (assumed)
              "branch": 1, "call": 1,         # (assumed) direct branches hit the branch target cache: no refill
              "branch_reg": 5, "pc_alu": 5,   # (assumed) indirect transfers are not predicted: 1 + 4
              "pop_pc": (5, 1), "load_pc": 6, "table_branch": 6,  # (assumed) as above, + the load
              "isb": 5,                       # (assumed) a pipeline refill
              "fp_load": 1, "fp_store": 1, "fp_load64": 1, "fp_store64": 1,  # (assumed) as integer loads
              "fp_div64": 29, "fp_sqrt64": 29,  # (assumed) double-precision divide and square root
              }),
    branches="predicted", mispredict=4,      # (assumed) refill of the stages before branch resolution
    assumptions=("single issue: the M7 can issue two instructions per cycle, not modelled",
                 "no published cycle table: loads 1, direct branches predicted, indirect transfers and "
                 "mispredicted branches 4 cycles of refill, F64 divide/square root 29 (all assumed)",
                 "SDIV/UDIV and the single-precision FPU at the Cortex-M4 figures"),
)

# --- RV32IMC: SiFive E31 ----------------------------------------------------------------------------
# The core Unicorn runs for rv32imc (the ESP32-C3's own core is undocumented at this level).
SIFIVE_E31 = CoreTiming(
    "rv32imc", "rv32imc: SiFive E31 pipeline (in-order scoreboard, predicted branches), zero wait states", "rv32",
    _table(alu=1, load_word=1, load_sub=1, store=1, mul=1, div=1, csr=1, system=1,
           branch=1,                        # [E31 3.2] correctly predicted control flow: no penalty
           jump=1),                         # [E31 3.2] jumps, calls and returns: predicted (BTB, RAS), no penalty
    branches="predicted", mispredict=3,     # [E31 3.2] mispredicted control-flow instructions: 3 cycles
    latencies=MappingProxyType({
        "load_word": 2,                     # [E31 3.3] LW: two-cycle result latency (cache hit)
        "load_sub": 3,                      # [E31 3.3] LH, LHU, LB, LBU: three
        "csr": 3,                           # [E31 3.3] CSR reads: three
        "mul": 5,                           # [E31 3.3] MUL, MULH, MULHU, MULHSU: 5
        "div": 18,                          # [E31 3.3] DIV, DIVU, REM, REMU: 2 to 33: midpoint, rounded up
    }),
    blocking=frozenset({"mul", "div"}),     # [E31 3.3] the multiplier/divider runs one operation at a time
    assumptions=("result latencies are tracked within a block; a result still pending at the end of a block "
                 "is taken as ready in the next one",
                 "jumps, calls and returns are always predicted (the BTB and return-address stack never miss)",
                 "DIV/REM: 18 cycles of latency (the manual gives 2 to 33)"),
)

CORES: dict[str, CoreTiming] = {c.name: c for c in (CORTEX_M0PLUS, CORTEX_M3, CORTEX_M4, CORTEX_M7, CORTEX_M33,
                                                    SIFIVE_E31)}


def get_core(name: str) -> CoreTiming:
    try:
        return CORES[name]
    except KeyError:
        raise EmulationError(f"no timing model {name!r}; known: {', '.join(CORES)}") from None
