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


class captured_stderr:
    """Send the process's stderr (fd 2, where TensorFlow's C++ logs go) to a buffer.

    The text is kept in `.text` so a failure can still show what was said.
    """

    def __enter__(self) -> "captured_stderr":
        import sys
        import tempfile
        import warnings

        sys.stderr.flush()
        self._file = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self.text = ""
        return self

    def __exit__(self, *exc) -> None:
        import sys

        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._warnings.__exit__(*exc)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()
