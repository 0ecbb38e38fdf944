"""TF Lite Micro beside the generated C: the same model, core, harness and emulator.

    tree.py          find a TFLM source tree (create_tflm_tree.py layout) and read what it offers
    sources.py       the files a model needs (core + its kernels) and TFLM's own flags
    build.py         compile them, in parallel, into a cache of objects and libraries
    project.py       the model's files: model.h, the op resolver, the model array, the arena
    engine.py        link with firmware/tflm/tflm_model.cc and the harness, size the arena, run
    side_by_side.py  every engine on the same inputs: one table, ratios, cross-checks

Engines: "generated" (toolkit.emulate), "tflm" (reference kernels), "tflm-cmsis-nn".
No TensorFlow import on these paths; the host TFLM interpreter (tflite-micro) is the
reference, as for the generated C.
"""

from toolkit.tflm.engine import ENGINE_CHOICES, ENGINES, EngineUnavailable, check_arch, emulate_tflm
from toolkit.tflm.side_by_side import SideBySide, render_side_by_side, run_engines
from toolkit.tflm.tree import TflmTree, TflmTreeError, find_tree

__all__ = ["ENGINES", "ENGINE_CHOICES", "EngineUnavailable", "SideBySide", "TflmTree", "TflmTreeError", "check_arch",
           "emulate_tflm", "find_tree", "render_side_by_side", "run_engines"]
