"""MicroPython beside the generated C: the same model as a script, on the same emulated core.

    tree.py     find a MicroPython source tree (upstream layout: py/, shared/, lib/libm)
    ops.py      one MicroPython function per operator (float32, and int8 as TFLM computes it)
    script.py   the model as a script: weights as data, the layers, invoke(x, y), the measuring loop
    build.py    the interpreter (firmware/micropython + the tree) built once per core, in a cache;
                linked per script with the test vectors and firmware/cortex-m's start-up code
    engine.py   run it on Unicorn: instructions per inference between the harness markers, the
                start-up, on-device compile and set-up apart; flash, RAM (heap high-water), outputs

Engine "micropython" of `toolkit emulate --engine` (docs/micropython.md).
"""

from toolkit.micropython.engine import MicroPythonUnavailable, check_arch, emulate_micropython
from toolkit.micropython.script import Script, check_supported, generate, run_on_host
from toolkit.micropython.tree import MicroPythonTree, MicroPythonTreeError, find_tree

__all__ = ["MicroPythonTree", "MicroPythonTreeError", "MicroPythonUnavailable", "Script", "check_arch",
           "check_supported", "emulate_micropython", "find_tree", "generate", "run_on_host"]
