"""One way to report what is wrong with an input, shared by `check`, `build` and `serve`."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

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


def yaml_problem(err: yaml.MarkedYAMLError, first_line: int = 1) -> tuple[str, int | None, int | None]:
    """What a YAML parser's error says, and where: 1-based line and column in a file whose line
    `first_line` the document starts on (a seed's front matter starts on line 2); None where it has no mark."""
    mark = err.problem_mark or err.context_mark
    what = " ".join(str(p) for p in (err.context, err.problem) if p) or "invalid YAML"
    if mark is None:
        return what, None, None
    return what, mark.line + first_line, mark.column + 1
