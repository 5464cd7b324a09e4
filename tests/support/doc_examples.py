"""The examples a Markdown document marks as runnable on the local cloud.

A fenced block preceded by `<!-- run-locally -->` is a shell block to run as written; one preceded by
`<!-- run-locally: file PATH -->` is a file (a profile, a run request) to write to PATH before the
blocks after it run. The markers are HTML comments, so rendered docs do not show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- run-locally"
_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- run-locally(?:: file (?P<file>\S+))? -->\n"
    r"(?P=indent)```(?P<lang>\w*)\n(?P<body>.*?)\n(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Example:
    text: str  # the block's content, without the list item's indentation
    file: str | None  # write to this path instead of running
    line: int  # 1-based line of the marker, for messages

    def where(self, doc: Path) -> str:
        return f"{doc.name}:{self.line}"


def marked_examples(markdown: str) -> list[Example]:
    """Every marked block, in document order; a marker not followed by a fence is an error."""
    found = [
        Example(
            text="\n".join(line.removeprefix(m["indent"]) for line in m["body"].splitlines()),
            file=m["file"],
            line=markdown.count("\n", 0, m.start()) + 1,
        )
        for m in _BLOCK.finditer(markdown)
    ]
    markers = markdown.count(MARKER)
    if markers != len(found):
        raise ValueError(
            f"{markers} `{MARKER}` markers but {len(found)} marked fenced blocks: a marker must be the "
            "line right before a ``` fence, at the fence's indentation"
        )
    return found
