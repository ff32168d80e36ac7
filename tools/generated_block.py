"""A page's generated block: the text between `<!-- NAME -->` and
`<!-- /NAME -->`, written by the tool that measured its numbers.

  generated_block.write("docs/performance.md", "cpu-performance", block,
                        check=False, source="results/performance/cpu.jsonl",
                        tool="tools/performance_report.py")
"""
import re


def write(doc: str, name: str, block: str, check: bool, source: str,
          tool: str) -> int:
  """Rewrites doc's NAME block with block, or with check compares them:
  0 when the page holds block, 1 (and says which tool to run) when not."""
  begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
  with open(doc) as f:
    text = f.read()
  pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
  if not pattern.search(text):
    raise SystemExit(f"{doc} has no {begin} ... {end} block.")
  new = pattern.sub(lambda _: f"{begin}\n{block}{end}", text)
  if check:
    if new != text:
      print(f"{doc}: the {name} block differs from {source}; run python "
            f"{tool}.")
      return 1
    return 0
  with open(doc, "w") as f:
    f.write(new)
  return 0
