"""The documentation as the tests read it: its pages, its generated blocks
and the command blocks marked runnable (`<!-- runnable: NAME -->` on the
line before a fenced block)."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNABLE = re.compile(r"<!-- runnable: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)
GENERATED = re.compile(r"<!-- ([\w-]+) -->\n.*?<!-- /\1 -->", re.S)


def pages():
  """{path relative to the root: text} of the README, docs/ and the
  project pages."""
  paths = (["README.md"] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
           + sorted(glob.glob(os.path.join(ROOT, "projects", "*", "*.md"))))
  out = {}
  for p in paths:
    full = p if os.path.isabs(p) else os.path.join(ROOT, p)
    with open(full) as f:
      out[os.path.relpath(full, ROOT)] = f.read()
  return out


def runnable_blocks():
  """{name: (page, language, code)} of every block marked runnable."""
  out = {}
  for page, text in pages().items():
    for name, lang, code in RUNNABLE.findall(text):
      assert name not in out, f"runnable block {name!r} twice ({page})"
      out[name] = (page, lang, code)
  return out


def prose(text):
  """The text a person wrote: generated blocks, fenced blocks and code spans
  left out."""
  text = GENERATED.sub("", text)
  text = re.sub(r"```.*?```", "", text, flags=re.S)
  return re.sub(r"`[^`]*`", "", text)
