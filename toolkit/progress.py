"""Progress bars for steps that take more than a second.

On a terminal the bar redraws in place; in a log (not a TTY) each step prints one
line when it ends, with its duration. With `eta=True` the bar also shows the time left
(from the mean time per item so far), and in a log every update prints a line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int = 1, stream: TextIO | None = None, width: int = 28,
                 eta: bool = False) -> None:
        self.label, self.total, self.width, self.eta = label, max(1, total), width, eta
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.start = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self) -> "Progress":
        self._draw(force=True)
        return self

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        if self.eta and not self.tty:
            self.stream.write(self._line() + (f"  {note}" if note else "") + "\n")
            self.stream.flush()
        self._draw()

    def _line(self) -> str:
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.start
        line = f"  {self.label:<44} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s"
        if self.eta and 0 < self.done < self.total:
            line += f", ETA {duration(elapsed / self.done * (self.total - self.done))}"
        return line

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty and (force or now - self._last_draw > 0.1 or self.done == self.total):
            self.stream.write("\r" + self._line() + "\033[K")
            self.stream.flush()
            self._last_draw = now

    def __exit__(self, exc_type, *rest) -> None:
        logged_all = self.eta and self.done == self.total  # in a log, the last update said it all
        if exc_type is None:
            self.done = self.total
        if self.tty:
            self.stream.write("\r" + self._line() + "\033[K\n")
        elif not logged_all:
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


def duration(seconds: float) -> str:
    """3.2s, 4m05s, 2h07m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"
