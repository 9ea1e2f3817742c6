"""The README and docs/ as a newcomer pastes them: every shell block parses, no `<token>`-style
placeholder is left to fill in, the stack's address comes from `API` / `EMU` (set once) rather
than written into commands, the README stays short and its links lead somewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z_ '-]*>")
# Where the stack's own ports may be written out: setting the variables, and make run itself.
ADDRESS = re.compile(r"127\.0\.0\.1:(8000|4566)")


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def commands(block: str) -> list[str]:
    """The block's lines without their comments (a `#` after a space, outside quotes enough
    for these pages)."""
    lines = []
    for line in block.splitlines():
        code = line if line.lstrip().startswith("#") is False else ""
        code = re.split(r"\s#\s", code, maxsplit=1)[0]
        if code.strip():
            lines.append(code)
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_shell_block_parses(page):
    for block in blocks(page):
        checked = subprocess.run(["bash", "-n"], input=block, text=True, capture_output=True)
        assert checked.returncode == 0, f"{page.name}:\n{block}\n{checked.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_placeholder_is_left_to_fill_in(page):
    for block in blocks(page):
        for line in commands(block):
            assert not PLACEHOLDER.search(line), f"{page.name}: {line}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_reach_the_stack_through_api_and_emu(page):
    for block in blocks(page):
        for line in commands(block):
            if ADDRESS.search(line):
                assert re.match(r"\s*(API|EMU)=", line) or "make run" in line, (
                    f"{page.name}: write $API or $EMU instead: {line}"
                )


def test_the_readme_is_short_and_its_links_lead_somewhere():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    for target in re.findall(r"\]\(((?:docs/)?[\w.-]+\.md)(?:#[\w-]+)?\)", text):
        assert (ROOT / target).exists(), target
    for page in sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (ROOT / "docs" / target).exists(), f"{page.name} -> {target}"
