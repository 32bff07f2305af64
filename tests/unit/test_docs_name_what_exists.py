"""The docs name only what exists: every `make` target, file path and Python module that README.md and docs/
mention in code (backticks or code blocks) or link to is in the tree.

Docs drift quietly: a module moves, a target is renamed, and a newcomer following the README finds nothing
there. This reads the Markdown as text, so it needs nothing running.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
TARGETS = set(re.findall(r"^([a-z][a-z0-9-]*):", MAKEFILE, flags=re.MULTILINE))

CODE = re.compile(r"```.*?```|`[^`\n]+`", flags=re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MAKE = re.compile(r"(?:^|[\s`;(&|])make\s+(?:-[A-Za-z]\s+\S+\s+|--?[a-z-]+(?:=\S+)?\s+)*([a-z][a-z0-9-]*)")
# A path into the tree: a top-level folder and at least one step below it, or a top-level file by its name (so
# `/tmp/x`, a URL's path or an event type like `agency.response` is not taken for one).
TOP_DIRS = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "demo-output")
TOP_FILES = sorted(p.name for p in ROOT.iterdir() if p.is_file() and not p.name.startswith("."))
PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(map(re.escape, TOP_DIRS)) + r")(?:/[\w.@-]+)+/?|"
                  + "|".join(map(re.escape, TOP_FILES)) + r")(?![\w/*-])")
# A module of the workspace, named with dots (`mash_runtime.region`, `python -m deploy.generate`).
MODULE = re.compile(r"(?<![\w./-])((?:mash_\w+|demo|bench|deploy)(?:\.\w+)+)")
PLACEHOLDER = re.compile(r"[<>{}*]|\.\.\.")


def mentions(text: str) -> tuple[list[str], list[str]]:
    """The code spans (and code blocks) of a Markdown text, and its relative link targets."""
    code = [match.group(0) for match in CODE.finditer(text)]
    links = [target for target in LINK.findall(text) if "://" not in target and not target.startswith("mailto:")]
    return code, links


def module_exists(dotted: str) -> bool:
    """True if `dotted` is a module, or a module's attribute (`mash_runtime.region.Region`)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except (ImportError, ValueError):
            continue
        if cut == len(parts):
            return True
        module = importlib.import_module(name)
        return hasattr(module, parts[cut])
    return False


def problems_in(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    code, links = mentions(text)
    found: list[str] = []
    for span in code:
        for target in MAKE.findall(span):
            if target not in TARGETS:
                found.append(f"`make {target}`: no such target in the Makefile")
        for path in PATH.findall(span):
            if not PLACEHOLDER.search(path) and not (ROOT / path).exists():
                found.append(f"{path}: no such file or folder")
        for dotted in MODULE.findall(span):
            if not PLACEHOLDER.search(dotted) and not module_exists(dotted):
                found.append(f"{dotted}: no such module")
    for target in links:
        if not (doc.parent / target).exists():
            found.append(f"link {target}: no such file or folder")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=[str(doc.relative_to(ROOT)) for doc in DOCS])
def test_the_doc_names_only_targets_paths_and_modules_that_exist(doc: Path) -> None:
    assert problems_in(doc) == []


def test_the_check_finds_what_is_missing() -> None:
    """The check itself can fail: a made-up target, path, module and link are each reported."""
    page = ROOT / "docs" / "made-up.md"
    text = ("Run `make frobnicate`, read `runtime/src/mash_runtime/nowhere.py`, import `mash_runtime.nowhere` "
            "and see [the guide](nowhere.md). `make test` and `runtime/src/mash_runtime/region.py` are fine.")
    code, links = mentions(text)
    assert code and links == ["nowhere.md"]
    assert MAKE.findall(code[0]) == ["frobnicate"]
    assert PATH.findall(code[1]) == ["runtime/src/mash_runtime/nowhere.py"]
    assert not module_exists("mash_runtime.nowhere") and module_exists("mash_runtime.region.Region")
    assert not (page.parent / links[0]).exists()
    assert "test" in TARGETS and (ROOT / PATH.findall(code[-1])[0]).exists()
