"""Leaf-by-leaf comparison of two metrics.json files (eval_seconds skipped).

  python results/compare_metrics.py A/metrics.json B/metrics.json [N]

Prints how many leaves are identical and the N largest differences.
"""
import json, sys, math
def leaves(d, p=""):
  if isinstance(d, dict):
    for k, v in d.items(): yield from leaves(v, f"{p}.{k}" if p else k)
  elif isinstance(d, list):
    for i, v in enumerate(d): yield from leaves(v, f"{p}[{i}]")
  else: yield p, d
a = dict(leaves(json.load(open(sys.argv[1])))); b = dict(leaves(json.load(open(sys.argv[2]))))
skip = ("eval_seconds",)
only = sorted(set(a) ^ set(b))
if only: print("keys in one only:", only[:20])
n = same = 0; worst = []
for k in sorted(set(a) & set(b)):
  if any(s in k for s in skip): continue
  n += 1
  if a[k] == b[k]: same += 1; continue
  if isinstance(a[k], (int, float)) and isinstance(b[k], (int, float)):
    worst.append((abs(a[k] - b[k]), k, a[k], b[k]))
  else: worst.append((math.inf, k, a[k], b[k]))
worst.sort(reverse=True)
print(f"{same}/{n} leaves identical; {len(worst)} differ")
for w in worst[:int(sys.argv[3]) if len(sys.argv) > 3 else 15]: print("  ", w)
