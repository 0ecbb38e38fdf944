"""Errors the user can act on. The CLI prints them as one line and exits non-zero."""


class ToolkitError(Exception):
    """A problem with the user's input or environment, with a one-line message."""

    exit_code = 2


class ModelFormatError(ToolkitError):
    """The file is not a readable .tflite model."""


class UnsupportedModelError(ToolkitError):
    """The model is valid but uses something the toolkit cannot generate code for."""


class ToolchainError(ToolkitError):
    """A compiler or other external tool is missing or failed."""


class ValidationFailed(ToolkitError):
    """Generated code disagrees with the reference."""

    exit_code = 1
