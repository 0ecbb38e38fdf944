"""Progress bars for steps that take more than a second.

On a terminal the bar redraws in place, with a note (e.g. the loss) and, with `eta=True`,
the time left from the mean time per item so far. In a log (not a TTY) each step prints one
line when it ends, with its duration and last note; with `log_updates` (default: `eta`) every
update prints a line too (for steps of minutes, such as sweep trials).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    def __init__(self, label: str, total: int = 1, stream: TextIO | None = None, width: int = 28,
                 eta: bool = False, log_updates: bool | None = None) -> None:
        self.label, self.total, self.width, self.eta = label, max(1, total), width, eta
        self.log_updates = eta if log_updates is None else log_updates
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.note = ""
        self.start = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self) -> "Progress":
        self._draw(force=True)
        return self

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        self.note = note or self.note
        if self.log_updates and not self.tty:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
        self._draw()

    def restart(self, note: str = "") -> None:
        """Back to 0 of total (a step that starts over, e.g. a training restart)."""
        self.done, self.note, self.start = 0, note, time.monotonic()
        self._draw(force=True)

    def _line(self) -> str:
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.start
        line = f"  {self.label:<44} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s"
        if self.eta and 0 < self.done < self.total:
            line += f", ETA {duration(elapsed / self.done * (self.total - self.done))}"
        return line + (f"  {self.note}" if self.note else "")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty and (force or now - self._last_draw > 0.1 or self.done == self.total):
            self.stream.write("\r" + self._line() + "\033[K")
            self.stream.flush()
            self._last_draw = now

    def __exit__(self, exc_type, *rest) -> None:
        logged_all = self.log_updates and self.done == self.total  # in a log, the last update said it all
        if exc_type is None:
            self.done = self.total
        if self.tty:
            self.stream.write("\r" + self._line() + "\033[K\n")
        elif not logged_all:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def keras_callback(self) -> Any:
        """A Keras callback that advances this bar once per epoch, with the loss as its note.
        A fit that starts when the bar is full (a restart, or the next of several fits with a
        bar of one fit's epochs) starts the bar over."""
        from toolkit.tf_env import import_keras

        keras = import_keras()
        bar = self

        class _EpochProgress(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                if bar.done >= bar.total:
                    bar.restart("again")

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                loss = "  ".join(f"{k} {logs[k]:.3g}" for k in ("loss", "val_loss") if k in logs)
                bar.update(note=loss)

        return _EpochProgress()


def duration(seconds: float) -> str:
    """3.2s, 4m05s, 2h07m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"
