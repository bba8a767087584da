"""The README's Python examples run, so the docs cannot drift from the code."""

from __future__ import annotations

import re

from conftest import ROOT


def test_readme_python_blocks_run(capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no Python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"```\n(.*?)```", text, flags=re.S).group(1)
    assert [line.split()[0:2] for line in commands.strip().splitlines()] == [["make", "demo"], ["make", "test"]]
