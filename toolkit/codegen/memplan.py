"""The static memory plan: every intermediate tensor gets a constant offset in one arena.

Tensors that share bytes form one buffer: an aliasing op's output (RESHAPE, SQUEEZE,
EXPAND_DIMS) takes its input's buffer; an in-place op's output (`Op.inplace`) takes
its first input's buffer when that input dies there. A buffer lives from the op that
first writes it to the last op that reads it; an op's kernel scratch (`scratch_bytes`,
e.g. im2col) is a buffer that lives during that op only. Buffers whose lifetimes
overlap get disjoint bytes. Offsets are chosen greedily (TFLM's greedy planner:
largest first, each at the lowest offset that fits), trying a few orders and seeded
shuffles of them, and keeping the smallest arena (the plan is deterministic).

The model's inputs and outputs are the caller's buffers and take no arena space.
The lower bound is the largest total of buffers alive at once (each rounded up to the
alignment): no plan can be smaller; the planned arena is reported next to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from toolkit.codegen.fast import scratch_bytes as fast_scratch_bytes
from toolkit.ir import Model, Tensor

ALIGN = 4  # word alignment: kernels load several int8 values with one LDR/LDRD
RESTARTS = 200  # shuffled orders tried after the greedy ones


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(eq=False)
class Buffer:
    nbytes: int
    first: int  # index of the op that first writes it
    last: int  # index of the last op that reads it
    tensors: list[Tensor] = field(default_factory=list)
    scratch_of: int | None = None  # op index, for kernel scratch
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Location:
    """Where a tensor's bytes are: the caller's input/output (index) or the arena (offset)."""

    kind: str  # "input", "output" or "arena"
    index: int = 0  # which model input/output
    offset: int = 0  # bytes into the arena


@dataclass
class MemoryPlan:
    arena_bytes: int
    lower_bound: int
    scratch_bytes: int  # the largest kernel scratch of any op
    locations: dict[int, Location]  # id(tensor) -> where it lives
    scratch: dict[int, int]  # op index -> arena offset of its scratch
    buffers: list[Buffer]
    notes: list[str] = field(default_factory=list)  # aliases and in-place reuse, for model.h

    def location(self, tensor: Tensor) -> Location:
        return self.locations[id(tensor)]


def plan_memory(model: Model) -> MemoryPlan:
    locations: dict[int, Location] = {}
    for k, t in enumerate(model.inputs):
        locations[id(t)] = Location("input", k)
    for k, t in enumerate(model.outputs):
        locations.setdefault(id(t), Location("output", k))

    readers: dict[int, list[int]] = {}
    for i, op in enumerate(model.ops):
        for t in op.inputs:
            readers.setdefault(id(t), []).append(i)
    outputs = {id(t) for t in model.outputs}
    buffer_of: dict[int, Buffer] = {}
    buffers: list[Buffer] = []
    notes: list[str] = []

    def dies_at(buf: Buffer, i: int) -> bool:
        return all(max(readers.get(id(t), [-1])) <= i and id(t) not in outputs for t in buf.tensors)

    for i, op in enumerate(model.ops):
        out = op.output
        if id(out) in locations:  # a model output: the caller's buffer
            continue
        src = op.inputs[0] if op.inputs else None
        if op.aliases_input and src is not None and not src.is_constant:
            if id(src) in locations:
                locations[id(out)] = locations[id(src)]
            else:
                buffer_of[id(src)].tensors.append(out)
                buffer_of[id(out)] = buffer_of[id(src)]
            notes.append(f"op {i} ({op.kind}): output shares its input's bytes")
            continue
        if (op.inplace and src is not None and id(src) in buffer_of and src.nbytes == out.nbytes
                and src.shape == out.shape and dies_at(buffer_of[id(src)], i)
                and not any(t is not src and id(t) in buffer_of and buffer_of[id(t)] is buffer_of[id(src)] for t in op.inputs)):
            buffer_of[id(src)].tensors.append(out)
            buffer_of[id(out)] = buffer_of[id(src)]
            notes.append(f"op {i} ({op.kind}): computed in place over its input")
            continue
        buf = Buffer(out.nbytes, i, i, [out])
        buffers.append(buf)
        buffer_of[id(out)] = buf

    for buf in buffers:
        buf.last = max([buf.first] + [r for t in buf.tensors for r in readers.get(id(t), [])])
    scratch: dict[int, int] = {}
    scratch_bufs = []
    for i, op in enumerate(model.ops):
        n = max(op.scratch_bytes(), fast_scratch_bytes(op))  # the portable C's and its fast paths'
        if n:
            scratch_bufs.append(Buffer(n, i, i, scratch_of=i))
    everything = buffers + scratch_bufs
    arena = _place(everything)
    for buf in buffers:
        for t in buf.tensors:
            locations[id(t)] = Location("arena", offset=buf.offset)
    for buf in scratch_bufs:
        scratch[buf.scratch_of] = buf.offset
    bound = max((sum(_align(b.nbytes) for b in everything if b.first <= i <= b.last) for i in range(len(model.ops))), default=0)
    return MemoryPlan(arena, bound, max((b.nbytes for b in scratch_bufs), default=0), locations, scratch, everything, notes)


def _place(buffers: list[Buffer]) -> int:
    """Set every buffer's offset; return the arena size."""
    if not buffers:
        return 0
    orders = [
        sorted(buffers, key=lambda b: (-b.nbytes, b.first)),  # TFLM's greedy order
        sorted(buffers, key=lambda b: (b.first, -b.nbytes)),  # as the ops run
        sorted(buffers, key=lambda b: (-(b.last - b.first), -b.nbytes)),  # longest-lived first
    ]
    # then seeded shuffles of the greedy order, while they are cheap (first-fit is quadratic)
    rng = random.Random(0)
    for _ in range(min(RESTARTS, 4_000_000 // len(buffers) ** 2)):
        order = list(orders[0])
        for _ in range(max(1, len(order) // 4)):
            i, j = rng.randrange(len(order)), rng.randrange(len(order))
            order[i], order[j] = order[j], order[i]
        orders.append(order)
    best: tuple[int, list[int]] | None = None
    for order in orders:
        offsets = _first_fit(order)
        size = max(offsets[id(b)] + _align(b.nbytes) for b in buffers)
        if best is None or size < best[0]:
            best = (size, [offsets[id(b)] for b in buffers])
    for buf, off in zip(buffers, best[1]):
        buf.offset = off
    return best[0]


def _first_fit(order: list[Buffer]) -> dict[int, int]:
    placed: list[tuple[int, int, Buffer]] = []  # (offset, end, buffer)
    offsets: dict[int, int] = {}
    for buf in order:
        size = _align(buf.nbytes)
        busy = sorted((o, e) for o, e, other in placed if other.overlaps_in_time(buf))
        offset = 0
        for o, e in busy:
            if offset + size <= o:
                break
            offset = max(offset, e)
        offsets[id(buf)] = offset
        placed.append((offset, offset + size, buf))
    return offsets
