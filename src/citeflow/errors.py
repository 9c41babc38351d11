"""The one exception type a user ever sees as a message rather than a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class CiteflowError(Exception):
    """A problem with the user's input or environment.

    The CLI prints it as one line, ``citeflow: error: FILE:LINE: MESSAGE``, and exits 2.
    """

    message: str
    file: str | Path | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return where + self.message
