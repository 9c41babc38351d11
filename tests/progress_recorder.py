"""A progress hook that records what it is told, for tests of the API's ``progress=``."""

from __future__ import annotations


class Recorder:
    """Records ``("start", total, label)`` and ``("advance", identifier, status)``."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, total, label=None):
        self.calls.append(("start", total, label))

    def advance(self, result):
        self.calls.append(("advance", str(result.identifier), result.status))
