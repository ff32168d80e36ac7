"""The docs hold no number that the code which measures it did not write."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import accelerator_report  # noqa: E402  pylint: disable=g-import-not-at-top


def test_accelerator_numbers_are_the_checks_own():
  """docs/accelerators.md's GPU block is what results/accelerator_check/
  summary.json renders to (tools/accelerator_report.py)."""
  assert accelerator_report.main(["--check"]) == 0
