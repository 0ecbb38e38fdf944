"""The engines side by side: the generated C and TF Lite Micro on the same core, harness and
inputs, one table, ratios to the generated C, and each TFLM engine's outputs checked against
the host TFLM interpreter and against the generated C's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.provenance import stamp
from toolkit.table import fmt, key_values, render
from toolkit.tflm.engine import ENGINES, check_arch, emulate_tflm, first_difference
from toolkit.tflm.tree import TflmTree, find_tree
from toolkit.validation import DEFAULT_FLOAT_RANGE, default_n_inputs, make_inputs

if TYPE_CHECKING:
    from toolkit.emulate import EmulationReport

ALL_ENGINES = (*ENGINES, "micropython")  # --engine all: MicroPython's row too (toolkit.micropython)
ROW_KEYS = ("instructions", "cycles_est", "timing_model", "latency_us", "flash_bytes", "ram_bytes",
            "arena_bytes", "stack_bytes", "mismatches")
RATIO_KEYS = (("instructions", "instructions"), ("flash_bytes", "flash"), ("ram_bytes", "RAM"),
              ("stack_bytes", "stack"), ("cycles_est", "cycles"))


@dataclass
class SideBySide:
    model: str
    arch: str
    reports: dict[str, EmulationReport]  # engine -> report, in ENGINES order
    tree: TflmTree | None

    @property
    def passed(self) -> bool:
        return all(r.comparison.passed and not r.details.get("vs_generated", {}).get("differing_inputs")
                   for r in self.reports.values())

    def ratios(self) -> dict[str, dict[str, float | None]]:
        """engine -> metric -> engine's value / generated's (only with the generated engine)."""
        base = self.reports.get("generated")
        if base is None:
            return {}
        b = base.run.metrics()
        out = {}
        for engine, r in self.reports.items():
            m = r.run.metrics()
            out[engine] = {k: (round(m[k] / b[k], 3) if m.get(k) and b.get(k) else None) for k, _ in RATIO_KEYS}
        return out

    def rows(self, clock_mhz: float | None = None) -> list[dict]:
        """One flat row per engine (the demo's tflm.json, the report's table)."""
        out, ratios = [], self.ratios()
        for engine, r in self.reports.items():
            d = r.to_json(clock_mhz)
            vs = r.details.get("vs_generated", {})
            out.append({"arch": self.arch, "engine": engine, **{k: d[k] for k in ROW_KEYS},
                        "instructions_ratio": ratios.get(engine, {}).get("instructions"),
                        "differs_from_generated": vs.get("differing_inputs"), "passed": d["passed"]
                        and not vs.get("differing_inputs")})
        return out

    def to_json(self, clock_mhz: float | None = None) -> dict:
        return stamp({"model": self.model, "arch": self.arch, "tflm_tree": str(self.tree.root) if self.tree else None,
                      "engines": {e: r.to_json(clock_mhz) for e, r in self.reports.items()},
                      "ratios_to_generated": self.ratios(), "passed": self.passed}, self.arch)


def run_engines(model_path: str | Path, arch: str, build_dir: str | Path, engines: tuple[str, ...] = ENGINES,
                n_inputs: int | None = None, seed: int = 0,
                float_range: tuple[float, float] = DEFAULT_FLOAT_RANGE, instruction_limit: int | None = None,
                tflm_tree: str | Path | TflmTree | None = None, micropython_tree: str | Path | None = None) -> SideBySide:
    """Run each engine on the same inputs; TFLM engines (and micropython) build in build_dir/<engine>."""
    from toolkit.emulate import emulate
    from toolkit.tflite.reader import read_tflite

    tree = None
    if "micropython" in engines:
        from toolkit.micropython import check_arch as check_micropython
        from toolkit.micropython import emulate_micropython
        from toolkit.micropython import find_tree as find_micropython

        check_micropython(arch)  # refuse before anything is built
        micropython_tree = find_micropython(micropython_tree)
    if any(e.startswith("tflm") for e in engines):
        check_arch(arch)  # refuse before anything is built
        tree = tflm_tree if isinstance(tflm_tree, TflmTree) else find_tree(tflm_tree)
    build_dir = Path(build_dir)
    model = read_tflite(model_path)
    inputs = make_inputs(model, default_n_inputs(model, n_inputs), seed, float_range)
    reports: dict[str, EmulationReport] = {}
    for engine in engines:
        if engine == "generated":
            reports[engine] = emulate(model_path, arch, build_dir, n_inputs, seed, float_range, instruction_limit)
        elif engine == "micropython":
            reports[engine] = emulate_micropython(model_path, model, arch, build_dir / engine, inputs, micropython_tree,
                                                  instruction_limit)
        else:
            reports[engine] = emulate_tflm(model_path, model, arch, engine, build_dir / engine, inputs, tree,
                                           instruction_limit)
    gen = reports.get("generated")
    if gen is not None:
        ours = gen.run.outputs_array(model.output.dtype)
        for engine, r in reports.items():
            if engine != "generated":
                n, first = first_difference(r.run.outputs_array(model.output.dtype), ours, model.output.dtype == "int8")
                r.details["vs_generated"] = {"differing_inputs": n, "first_differing_input": first}
    return SideBySide(str(model_path), arch, reports, tree)


def _x(v: float | None) -> str:
    return f"{v:.2f}x" if v is not None else "-"


def render_side_by_side(s: SideBySide) -> str:
    """The table, the ratios to the generated C, and what each TFLM engine ran with."""
    rows = []
    for engine, r in s.reports.items():
        m, c = r.run.metrics(), r.comparison
        vs = r.details.get("vs_generated")
        agree = "-" if vs is None else ("all equal" if not vs["differing_inputs"] else
                                        f"{vs['differing_inputs']} differ, first #{vs['first_differing_input']}")
        rows.append([engine, m["instructions"], m["flash_bytes"], m["ram_bytes"], r.arena_bytes, m["stack_bytes"],
                     m.get("cycles") or m.get("cycles_est"), f"{c.mismatches} / {c.n_inputs}", agree])
    out = [render(["engine", "instr/inf", "flash B", "RAM B", "arena B", "stack B", "cycles/inf", "mismatches",
                   "vs generated"], rows)]
    ratios = s.ratios()
    if len(ratios) > 1:
        out += ["", render(["ratio to generated", *(label for _, label in RATIO_KEYS)],
                           [[e, *(_x(r[k]) for k, _ in RATIO_KEYS)] for e, r in ratios.items() if e != "generated"])]
    info: list[tuple[str, object]] = []
    for engine, r in s.reports.items():
        ref = {"tflm": "TFLM interpreter on the host", "litert": "LiteRT on the host"}[r.comparison.reference]
        exact = "bit-exact" if r.comparison.exact else "tolerance 1e-5"
        first = r.details.get("first_mismatch")
        info.append((f"{engine}: reference", f"{ref}, {exact}" + (f"; first differing input #{first}" if first is not None else "")))
        if r.engine == "micropython":
            from toolkit.micropython.engine import info_lines

            info += info_lines(engine, r)
        elif r.details:
            d = r.details
            built = (f"{d['compiled']} files compiled in {d['library_seconds']:.1f} s" if d["compiled"]
                     else "library from the cache")
            built += f", adapter compiled ({d['adapter_compiled']} objects)" if d["adapter_compiled"] else ", nothing compiled"
            info += [(f"{engine}: kernels", d["kernels"]),
                     (f"{engine}: arena", f"{fmt(r.arena_bytes)} B (arena_used_bytes() {fmt(d['arena_used_bytes'])} B)"),
                     (f"{engine}: TFLM build", f"{d['sources']} sources for {', '.join(d['ops'])}; {built}")]
    if s.tree is not None:
        info.append(("TFLM tree", str(s.tree.root)))
    info.append(("result", "PASS" if s.passed else "FAIL"))
    out += ["", key_values(info)]
    return "\n".join(out)
