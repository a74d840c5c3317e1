"""Replaces one section of BENCHMARKS.md, the text between
`<!-- NAME:begin -->` and `<!-- NAME:end -->` (appended when missing).
Used by every benchmark script, so each rewrites only its own figures.

    python3 scripts/bench_section.py NAME < section.md
"""

import pathlib
import re
import sys

DOC = pathlib.Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def write(name, body):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{body.strip()}\n{end}"
    text = DOC.read_text()
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    write(sys.argv[1], sys.stdin.read())
