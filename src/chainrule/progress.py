"""Progress bars: tqdm when installed (the ``plot`` extra), else a few printed lines."""

from __future__ import annotations

import sys


class _Lines:
    """A minimal stand-in for tqdm: prints a line at every tenth of the way."""

    def __init__(self, total, desc, file):
        self.total, self.desc, self.file = total, desc, file
        self.n = 0
        self._shown = -1
        self.postfix = ""

    def update(self, n=1):
        self.n += n
        tenth = int(10 * self.n / self.total) if self.total else 10
        if tenth != self._shown:
            self._shown = tenth
            extra = f" {self.postfix}" if self.postfix else ""
            print(f"{self.desc}: {10 * tenth:3d}% ({self.n}/{self.total}){extra}",
                  file=self.file, flush=True)

    def set_description(self, desc):
        self.desc = desc

    def set_postfix_str(self, text):
        self.postfix = text

    def close(self):
        pass


class Progress:
    """A progress bar over ``total`` units of work, written to stderr.

    Parameters
    ----------
    total : int
        Units of work (steps, epochs).
    desc : str
        Label shown before the bar.
    disable : bool
        Show nothing.

    Use as a context manager and call ``update(n)`` as work gets done; update in chunks
    (e.g. every hundred steps) rather than every step of a fast loop.
    """

    def __init__(self, total, desc="", disable=False, file=None):
        file = sys.stderr if file is None else file
        self._bar = None
        if disable:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self._bar = _Lines(total, desc, file)
        else:
            self._bar = tqdm(total=total, desc=desc, file=file, leave=True, dynamic_ncols=True)

    def update(self, n=1):
        if self._bar is not None:
            self._bar.update(n)

    def set_description(self, desc):
        if self._bar is not None:
            self._bar.set_description(desc)

    def set_postfix_str(self, text):
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
