"""rff_pooling: 2 x rFF (each drawing alone), mean pooling.

  python -m projects.set_counting.main \\
      --config=projects/set_counting/configs/rff_pooling.py \\
      --workdir=runs/set_counting/rff_pooling/seed0 --config.seed=0

8000 steps take about 30 minutes on our 2-core CPU shared with another
training run (217 ms a step measured for sab_pma, 212 for rff_pooling; the
README has the command). `:smoke` ran end to end in 12 s there. What it
reaches: the README's table (python -m projects.set_counting.table).
"""
from projects.set_counting.configs import base


def get_config(arg=None):
  return base.get_config("rff_pooling", "rff", "mean", arg)
