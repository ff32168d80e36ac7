"""sab_pma: 2 x SAB (drawings attend to each other), PMA_1 pooling.

  python -m projects.set_counting.main \\
      --config=projects/set_counting/configs/sab_pma.py \\
      --workdir=runs/set_counting/sab_pma/seed0 --config.seed=0

8000 steps; each run records its own training time, in the README
table's last column, beside what it reaches (python -m
projects.set_counting.table). `:smoke` ran end to end in 19 s on the
2-core CPU shared with another training run.
"""
from projects.set_counting.configs import base


def get_config(arg=None):
  return base.get_config("sab_pma", "sab", "pma", arg)
