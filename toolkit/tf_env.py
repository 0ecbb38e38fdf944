"""The one place that imports TensorFlow/Keras, quietly. Only training and conversion call it."""

from __future__ import annotations

import os
from types import ModuleType


def quiet_tf_env() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def import_tf() -> ModuleType:
    quiet_tf_env()
    try:
        import tensorflow as tf
    except ImportError:
        from toolkit.errors import ToolchainError

        raise ToolchainError("training and conversion need TensorFlow: pip install tensorflow-cpu") from None
    tf.get_logger().setLevel("ERROR")
    return tf


def import_keras() -> ModuleType:
    import_tf()
    import keras

    return keras


class captured_output:
    """Send the process's stdout and stderr (fds 1 and 2, where TensorFlow's C++ code
    and the converter print) to a buffer. The text is kept in `.text` for error messages.
    """

    def __enter__(self) -> "captured_output":
        import sys
        import tempfile
        import warnings

        sys.stdout.flush()
        sys.stderr.flush()
        self._file = tempfile.TemporaryFile(mode="w+b")
        self._saved = {fd: os.dup(fd) for fd in (1, 2)}
        for fd in self._saved:
            os.dup2(self._file.fileno(), fd)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self.text = ""
        return self

    def __exit__(self, *exc) -> None:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
            os.close(saved)
        self._warnings.__exit__(*exc)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()
