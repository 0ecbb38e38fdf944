"""Estimated cycles: a timing model per core over the exact instruction stream.

Instruction counts on Unicorn are exact; cycles are not something Unicorn knows.
This package prices each distinct translated block once (capstone decodes it,
a classifier gives each instruction a timing class, the core's table in
cores.py gives the cycles), and the native block counter adds that price on
every entry plus the cost of the previous block's conditional exit when it was
taken (or mispredicted, on cores with branch prediction). The result is an
estimate under the assumptions listed in cores.py (zero wait states, no cache
misses, ...), named by CoreTiming.label.
"""
from .cores import CORES, CoreTiming, get_core
from .price import BlockPrice, classify, price_block, weigher

__all__ = ["CORES", "CoreTiming", "get_core", "BlockPrice", "classify", "price_block", "weigher"]
