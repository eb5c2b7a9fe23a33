"""One way to report what is wrong with an input, shared by `check`, `build` and `serve`."""

from __future__ import annotations

from dataclasses import dataclass

from .model import compact_pickle


@compact_pickle
@dataclass(frozen=True, slots=True, order=True)
class Problem:
    path: str
    line: int | None = None  # 1-based, where the parser knows it
    col: int | None = None  # 1-based
    message: str = ""
    rejected: bool = False  # True: the whole file was left out; False: only an item or a field was

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.message}"
