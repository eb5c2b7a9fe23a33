"""The oldest versions pyproject.toml allows, for `make test-min`: its `>=` lower bounds as pins.

    python tests/lower_bounds.py            # a pip constraints file: one `name==version` per dependency
    python tests/lower_bounds.py --check    # exit 1 unless each is installed at exactly that version

The run-time dependencies and the `test` extra, so the suite runs on the oldest of each. Constraints
name packages only (pip refuses extras there): `pagefind[bin]>=1.1` pins `pagefind==1.1`. A dependency
without a lower bound is an error: there would be nothing to test it at.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*$")


def lower_bounds(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Each dependency's name and its lower bound, in the order pyproject.toml lists them."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins: dict[str, str] = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        found = _REQUIREMENT.match(requirement)
        if found is None:
            raise SystemExit(
                f"{pyproject.name}: {requirement!r}: expected 'name>=version' alone, a lower bound to test"
            )
        pins[found[1]] = found[2]
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _same(installed: str, pinned: str) -> bool:
    """`1.1.0` is what `==1.1` installs: versions equal once trailing zeros are dropped."""

    def parts(text: str) -> list[str]:
        items = text.split(".")
        while len(items) > 1 and items[-1] == "0":
            items.pop()
        return items

    return parts(installed) == parts(pinned)


def main(argv: list[str]) -> int:
    pins = lower_bounds()
    if argv != ["--check"]:
        sys.stdout.write("".join(f"{name}=={pin}\n" for name, pin in pins.items()))
        return 0
    wrong = []
    for name, pin in pins.items():
        try:
            installed = version(_canonical(name))
        except PackageNotFoundError:
            installed = "none"
        if not _same(installed, pin):
            wrong.append(f"{name}: {installed} installed, the lower bound is {pin}")
    for line in wrong:
        print(line, file=sys.stderr)
    print(f"{len(pins) - len(wrong)} of {len(pins)} dependencies at their lower bound")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
