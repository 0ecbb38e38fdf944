"""C code generation from the model IR."""

from toolkit.codegen.generator import GeneratedC, generate_c, write_c

__all__ = ["GeneratedC", "generate_c", "write_c"]
