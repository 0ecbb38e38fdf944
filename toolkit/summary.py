"""Parameter and byte counts of a dense network, for the size summary after training."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSize:
    name: str
    inputs: int
    outputs: int

    @property
    def weights(self) -> int:
        return self.inputs * self.outputs

    @property
    def params(self) -> int:
        return self.weights + self.outputs


def dense_sizes(widths: list[int], names: list[str] | None = None) -> list[LayerSize]:
    """[1, 16, 16, 1] -> the three dense layers between those widths."""
    names = names or [f"dense_{i}" for i in range(len(widths) - 1)]
    return [LayerSize(n, a, b) for n, a, b in zip(names, widths, widths[1:])]


def size_table(layers: list[LayerSize]) -> str:
    total = sum(layer.params for layer in layers)
    weights = sum(layer.weights for layer in layers)
    biases = total - weights
    rows = [f"{'layer':<12}{'shape':>12}{'params':>10}"]
    rows += [f"{layer.name:<12}{f'{layer.inputs} -> {layer.outputs}':>12}{layer.params:>10,}" for layer in layers]
    rows.append(f"{'total':<12}{'':>12}{total:>10,}")
    rows.append(f"float32: {4 * total:,} bytes")
    rows.append(
        f"int8:    {total:,} bytes at one byte per parameter; "
        f"{weights + 4 * biases:,} bytes as TFLite stores it (int8 weights, int32 biases)"
    )
    return "\n".join(rows)
