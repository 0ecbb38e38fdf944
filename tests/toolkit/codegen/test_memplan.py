"""The static memory plan: lifetimes, aliasing, in-place reuse, scratch, and its bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from toolkit.codegen.memplan import ALIGN, plan_memory
from toolkit.ir import Model, Tensor
from toolkit.ops.base import Op
from toolkit.ops.reshape import Reshape


@dataclass(eq=False)
class _Op(Op):
    """A stand-in op: the planner only looks at tensors, sizes and the two flags."""

    scratch: int = 0
    kind: ClassVar[str] = "TEST"

    @classmethod
    def from_tflite(cls, raw):  # pragma: no cover - never read from a file
        raise NotImplementedError

    def reference(self, *xs):  # pragma: no cover
        raise NotImplementedError

    def emit_c(self, ctx, srcs, dst):  # pragma: no cover
        raise NotImplementedError

    def scratch_bytes(self) -> int:
        return self.scratch


@dataclass(eq=False)
class _InPlace(_Op):
    inplace: ClassVar[bool] = True


def t(name: str, n: int) -> Tensor:
    return Tensor(name, (n,), "int8")


def _check_disjoint(plan) -> None:
    for a in plan.buffers:
        for b in plan.buffers:
            if a is b or not a.overlaps_in_time(b):
                continue
            assert a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset, (a, b)
        assert a.offset % ALIGN == 0 and a.offset + a.nbytes <= plan.arena_bytes


def test_chain_needs_the_largest_adjacent_pair():
    x, a, b, c, y = t("x", 10), t("a", 100), t("b", 200), t("c", 48), t("y", 10)
    ops = [_Op([x], [a]), _Op([a], [b]), _Op([b], [c]), _Op([c], [y])]
    plan = plan_memory(Model(ops, [x], [y]))
    _check_disjoint(plan)
    assert plan.arena_bytes == plan.lower_bound == 300
    assert plan.location(x).kind == "input" and plan.location(y).kind == "output"


def test_residual_keeps_the_shortcut_alive():
    x, a, b, c, y = t("x", 8), t("a", 64), t("b", 64), t("c", 64), t("y", 8)
    ops = [_Op([x], [a]), _Op([a], [b]), _Op([a, b], [c]), _Op([c], [y])]
    plan = plan_memory(Model(ops, [x], [y]))
    _check_disjoint(plan)
    assert plan.arena_bytes == plan.lower_bound == 192  # a, b and c alive at the ADD


def test_reshape_aliases_its_input_and_a_model_output_is_the_callers():
    x, a, r, y = t("x", 8), t("a", 12), t("r", 12), t("y", 12)
    ops = [_Op([x], [a]), Reshape([a], [r]), _Op([r], [y])]
    plan = plan_memory(Model(ops, [x], [y]))
    assert plan.location(r) == plan.location(a)
    assert plan.arena_bytes == 12
    out = t("out", 12)
    plan2 = plan_memory(Model([_Op([x], [a]), Reshape([a], [out])], [x], [out]))
    assert plan2.location(out).kind == "output"  # materialised by a copy


def test_in_place_only_when_the_input_dies_there():
    x, a, b, y = t("x", 8), t("a", 40), t("b", 40), t("y", 8)
    plan = plan_memory(Model([_Op([x], [a]), _InPlace([a], [b]), _Op([b], [y])], [x], [y]))
    assert plan.location(b) == plan.location(a) and plan.arena_bytes == 40
    # a is read again after the in-place op: b needs bytes of its own
    c = t("c", 40)
    plan = plan_memory(Model([_Op([x], [a]), _InPlace([a], [b]), _Op([a, b], [c]), _Op([c], [y])], [x], [y]))
    assert plan.location(b) != plan.location(a)
    _check_disjoint(plan)


def test_scratch_lives_during_its_op_only():
    x, a, b, y = t("x", 8), t("a", 100), t("b", 100), t("y", 8)
    ops = [_Op([x], [a]), _Op([a], [b], scratch=60), _Op([b], [y], scratch=300)]
    plan = plan_memory(Model(ops, [x], [y]))
    _check_disjoint(plan)
    assert set(plan.scratch) == {1, 2} and plan.scratch_bytes == 300
    assert plan.arena_bytes == plan.lower_bound == 400  # b + the second scratch


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_never_overlap_and_stay_near_the_bound(seed):
    rng = np.random.default_rng(seed)
    x = t("x", 16)
    tensors, ops = [x], []
    for i in range(12):
        ins = list(rng.choice(tensors, size=min(len(tensors), int(rng.integers(1, 3))), replace=False))
        out = t(f"t{i}", int(rng.integers(1, 300)))
        kind = _InPlace if rng.random() < 0.3 and ins[0].nbytes == out.nbytes else _Op
        ops.append(kind(ins, [out], scratch=int(rng.integers(0, 100)) if rng.random() < 0.3 else 0))
        tensors.append(out)
    plan = plan_memory(Model(ops, [x], [tensors[-1]]))
    _check_disjoint(plan)
    # the bound is not always reachable (interval colouring with sizes), but the plan stays close
    assert plan.lower_bound <= plan.arena_bytes <= 1.1 * plan.lower_bound
