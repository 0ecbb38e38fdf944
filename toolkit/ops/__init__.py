"""Layer kinds, one module each. Adding an op = one class here + its C kernel."""

from toolkit.ops.base import Layer
from toolkit.ops.fully_connected import FullyConnected
from toolkit.ops.quantize import Dequantize, Quantize
from toolkit.ops.reshape import Reshape

LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (FullyConnected, Quantize, Dequantize, Reshape)}

__all__ = ["LAYERS", "Layer", "FullyConnected", "Quantize", "Dequantize", "Reshape"]
