"""Assemble report.html (self-contained, images inlined) and report.md (images beside it)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.fileio import atomic_write
from toolkit.report import figures
from toolkit.report.data import RunData, load_run
from toolkit.report.labels import column, timing_label
from toolkit.table import fmt


@dataclass
class Section:
    title: str
    text: str = ""
    images: list[tuple[Path, str]] = field(default_factory=list)  # (png, caption)
    table: tuple[list[str], list[list]] | None = None


def _sections(d: RunData, img_dir: Path) -> list[Section]:
    out: list[Section] = []
    m = d.metrics
    from toolkit.functions import parse_function

    function = parse_function((d.config or {}).get("function", "sin")).text
    summary = [f"Model directory: `{d.model_dir}`."]
    if m:
        summary.append(f"{m.get('params', '?')} parameters ({m.get('float32_bytes', '?')} bytes as float32); "
                       f"test MSE against the clean function: {fmt(m.get('test_mse', float('nan')))}.")
    out.append(Section("Summary", " ".join(summary)))
    if d.widths:
        params = [0] + [a * b + b for a, b in zip(d.widths, d.widths[1:])]
        formula = " + ".join(map(str, params)) + f" = {sum(params)}"
        out.append(Section("The network", f"Each dense layer has inputs x outputs weights plus one bias per output: {formula} parameters.",
                           [(figures.network(d.widths, img_dir / "network.png"), "layer sizes and parameters")]))
    if d.history:
        out.append(Section("Training", f"Adam on MSE; {len(d.history.get('loss', []))} epochs.",
                           [(figures.loss_curves(d.history, img_dir / "loss.png"), "training and validation loss")]))
    if d.predictions is not None:
        p = d.predictions
        exact = int(np.count_nonzero(p.y_emulated != p.y_int8))
        mse = lambda y: float(np.mean((y - p.y_true) ** 2))  # noqa: E731
        out.append(Section(
            "Predictions on all 256 int8 inputs",
            f"The generated C, run on an emulated {p.arch}, differs from the TFLM interpreter in {exact} of 256 outputs.",
            [(figures.predictions(p, function, img_dir / "predictions.png"), "function, float, int8 and emulated C"),
             (figures.errors(p, img_dir / "errors.png"), "error against x")],
            (["model", "MSE vs f(x) on these inputs"],
             [["float32 .tflite", mse(p.y_float)], ["int8 .tflite (TFLM)", mse(p.y_int8)], [f"int8 C on {p.arch}", mse(p.y_emulated)]]),
        ))
    if d.variants:
        keys = ["variant", "quant", "params", "nonzero_params", "c_const_bytes", "flash_bytes", "test_mse", "instructions", "ram_bytes", "stack_bytes"]
        out.append(Section(
            "Compression", "Each variant converted, compiled and run on the emulated core; instructions are exact counts.",
            [(figures.variants(d.variants, img_dir / "variants.png"), "size, instructions and accuracy per variant")],
            _table(keys, d.variants),
        ))
    if d.deployment:
        keys = ["board", "arch", "model", "instructions", "cycles_est", "timing", "latency_us", "flash_bytes",
                "ram_bytes", "stack_bytes", "mismatches"]
        where = ("every board with a local emulator" if d.boards else
                 f"an emulated {d.deployment[0]['arch']} (no board was asked for; `toolkit demo` measures every board)")
        out.append(Section(
            "On the microcontroller",
            f"The generated C of the model, built and run on {where}. Instructions are exact counts per inference; "
            "cycles are counted exactly by the AVR and RP2040 engines and estimated elsewhere (the *cycles are* column "
            "names the timing model); latency is cycles at the board's clock. Flash is code + weights, RAM is data + bss "
            "(the activation arena included), stack is the measured peak.",
            table=_table(keys, [r | {"timing": timing_label(r)} for r in d.deployment])))
    if d.engines:
        keys = ["board", "engine", "instructions", "instructions_ratio", "cycles_est", "timing", "latency_us", "flash_bytes",
                "ram_bytes", "arena_bytes", "stack_bytes", "mismatches", "differs_from_generated"]
        out.append(Section(
            "TF Lite Micro vs generated C",
            "The same int8 model, core, harness, start-up code, linker script and emulator: TF Lite Micro's interpreter "
            "with its reference kernels (tflm) and with CMSIS-NN's (tflm-cmsis-nn) beside the generated C, and, where "
            "a MicroPython tree was found, the model as a MicroPython script in MicroPython's VM (micropython; RAM: static + "
            "heap high-water; docs/micropython.md). "
            "instructions_ratio is each engine's instructions over the generated C's; mismatches count outputs that differ "
            "from the TFLM interpreter on the host, differs_from_generated the inputs on which an engine's outputs differ "
            "from the generated C's (docs/tflm.md).",
            [(figures.engines(d.engines, img_dir / "engines.png"), "instructions, flash and RAM per engine and board")],
            _table(keys, [r | {"timing": timing_label(r)} for r in d.engines]),
        ))
    if d.budget:
        keys = ["board", "flash_bytes", "flash_limit", "ram_bytes", "stack_bytes", "ram_limit", "fits"]
        out.append(Section("Memory budget", "Flash (code + weights) and RAM (static + peak stack) against each limit.",
                           [(figures.memory(d.budget, img_dir / "memory.png"), "memory use against each board")],
                           _table(keys, d.budget)))
    return out


def _table(keys: list[str], rows: list[dict]) -> tuple[list[str], list[list]]:
    """Human column names (labels.COLUMNS) over the rows' values, "-" where a row has none."""
    return [column(k) for k in keys], [[r.get(k) if r.get(k) is not None else "-" for k in keys] for r in rows]


def _html_table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _markdown(text: str) -> str:
    """A section's text (Markdown: `code`, *emphasis*) as HTML, by a CommonMark renderer."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text)


STYLE = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;display:block;margin:1em 0}
figcaption{color:#666;font-size:13px}"""


def build_report(run_dir: str | Path) -> tuple[Path, Path]:
    """The report of a run directory, or of a sweep directory (one with results.jsonl)."""
    run_dir = Path(run_dir)
    img_dir = run_dir / "report_files"
    if (run_dir / "results.jsonl").is_file():
        from toolkit.report.sweep import sweep_sections

        return write_pages(run_dir, "TinyML sweep report", sweep_sections(run_dir, img_dir))
    d = load_run(run_dir)
    return write_pages(run_dir, "TinyML run report", _sections(d, img_dir))


def write_pages(run_dir: Path, title: str, sections: list[Section]) -> tuple[Path, Path]:
    parts_html, parts_md = [f"<h1>{title}</h1>"], [f"# {title}", ""]
    for s in sections:
        parts_html.append(f"<h2>{html.escape(s.title)}</h2>{_markdown(s.text)}")
        parts_md += [f"## {s.title}", "", s.text, ""]
        for png, caption in s.images:
            data = base64.b64encode(png.read_bytes()).decode()
            parts_html.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                              f"<figcaption>{html.escape(caption)}</figcaption></figure>")
            parts_md += [f"![{caption}](report_files/{png.name})", ""]
        if s.table:
            parts_html.append(_html_table(*s.table))
            parts_md += [_md_table(*s.table), ""]
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head><body>{''.join(parts_html)}</body></html>\n"
    return atomic_write(run_dir / "report.html", page), atomic_write(run_dir / "report.md", "\n".join(parts_md) + "\n")
