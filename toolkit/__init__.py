"""tinyml-toolkit: tiny neural networks from Keras to bit-exact C on emulated microcontrollers."""

__version__ = "0.1.0"
