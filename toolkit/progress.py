"""Progress bars for steps that take more than a second.

On a terminal the bar redraws in place; in a log (not a TTY) each step prints one
line when it ends, with its duration.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int = 1, stream: TextIO | None = None, width: int = 28) -> None:
        self.label, self.total, self.width = label, max(1, total), width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.start = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self) -> "Progress":
        self._draw(force=True)
        return self

    def update(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        self._draw()

    def _line(self) -> str:
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        return f"  {self.label:<44} [{bar}] {self.done}/{self.total} {time.monotonic() - self.start:5.1f}s"

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty and (force or now - self._last_draw > 0.1 or self.done == self.total):
            self.stream.write("\r" + self._line())
            self.stream.flush()
            self._last_draw = now

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.done = self.total
        if self.tty:
            self.stream.write("\r" + self._line() + "\n")
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def keras_callback(self):
        """A Keras callback that advances this bar once per epoch."""
        from toolkit.tf_env import import_keras

        keras = import_keras()
        bar = self

        class _EpochProgress(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                bar.update()

        return _EpochProgress()
