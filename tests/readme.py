"""Runs every ```sql block of README.md, in order, in one psql session per
block against the database in PG* (the bundled sample loaded), and checks
that psql's echo of the input and its output (psql -a -q, as pg_regress
prints them) are exactly the block. `--write` puts the actual output into
README.md instead (review the diff before committing).

In a block, the input is every line that is not output: a result table
(header, rule, rows, "(N rows)" and the blank line after it) or a
NOTICE/WARNING/ERROR/HINT/DETAIL line."""
import re
import subprocess
import sys

MESSAGE = re.compile(r"^(NOTICE|WARNING|ERROR|HINT|DETAIL):  ")
RULE = re.compile(r"^-+(\+-+)*$")
COUNT = re.compile(r"^\(\d+ rows?\)$")


def input_lines(block):
    lines, out, i = block.split("\n"), [], 0
    while i < len(lines):
        if i + 1 < len(lines) and RULE.match(lines[i + 1].strip()):
            while i < len(lines) and not COUNT.match(lines[i].strip()):
                i += 1
            i += 2  # the count and the blank line after it
            continue
        if not MESSAGE.match(lines[i]):
            out.append(lines[i])
        i += 1
    return "\n".join(out).strip("\n") + "\n"


def run(sql):
    r = subprocess.run(["psql", "-X", "-a", "-q", "-v", "ON_ERROR_STOP=1"],
                       input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: README.md's SQL example failed:\n{sql}\n{r.stdout}{r.stderr}")
    return (r.stdout + r.stderr.replace("psql:<stdin>", "")).strip("\n")


def norm(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def main():
    readme = open("README.md").read()
    parts = re.split(r"(```sql\n.*?```)", readme, flags=re.S)
    failed, blocks = False, 0
    for k, part in enumerate(parts):
        if not part.startswith("```sql\n"):
            continue
        blocks += 1
        block = part[len("```sql\n"):-len("```")]
        actual = run(input_lines(block))
        if "--write" in sys.argv:
            parts[k] = "```sql\n" + norm(actual) + "\n```"
        elif norm(actual) != norm(block):
            failed = True
            print(f"FAIL: README.md's SQL example {blocks} shows other output than it gives:\n--- README\n{block}\n--- actual\n{actual}")
    if "--write" in sys.argv:
        open("README.md", "w").write("".join(parts))
    if failed:
        sys.exit(1)
    print(f"ok: README.md's {blocks} SQL examples run and show their real output")


main()
