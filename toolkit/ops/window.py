"""Sliding windows (convolutions, pooling): TFLite's padding and output-size rules.

Shared by CONV_2D, DEPTHWISE_CONV_2D and the pooling ops; the arithmetic is TFLite's
`ComputeOutSize` and `ComputePaddingHeightWidth` (kernels/padding.h). Not an op module.
"""

from __future__ import annotations

from dataclasses import dataclass

PADDINGS = ("SAME", "VALID")  # the schema's Padding enum, by code


@dataclass(frozen=True)
class Window:
    """One spatial axis of a window: input size, filter size, stride, dilation, padding."""

    in_size: int
    filter_size: int
    stride: int
    dilation: int
    padding: str  # "SAME" or "VALID"

    @property
    def effective_filter(self) -> int:
        return (self.filter_size - 1) * self.dilation + 1

    @property
    def out_size(self) -> int:
        if self.padding == "SAME":
            return (self.in_size + self.stride - 1) // self.stride
        return (self.in_size + self.stride - self.effective_filter) // self.stride

    @property
    def pad_before(self) -> int:
        """Padding before the first element (TFLite puts the odd one after)."""
        total = (self.out_size - 1) * self.stride + self.effective_filter - self.in_size
        return max(total, 0) // 2

    def taps(self, out_index: int) -> list[tuple[int, int]]:
        """(filter index, input index) of the taps of output `out_index` that fall inside the input."""
        origin = out_index * self.stride - self.pad_before
        return [(k, origin + k * self.dilation) for k in range(self.filter_size)
                if 0 <= origin + k * self.dilation < self.in_size]


def padding_name(raw, code: int) -> str:
    """The padding of an options table, or a one-line error naming the value."""
    if not 0 <= code < len(PADDINGS):
        raise raw.fail(f"padding code {code}; supported: SAME (0), VALID (1)")
    return PADDINGS[code]


def check_positive(raw, **values: int) -> None:
    """Strides, dilations and filter sizes must be at least 1 (a hostile file may say 0)."""
    for name, value in values.items():
        if value < 1:
            raise raw.fail(f"{name} {value}; must be at least 1")
