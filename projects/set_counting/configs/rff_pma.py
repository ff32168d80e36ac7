"""rff_pma: rff set encoder, pma pooling (Lee et al., 2019, section 5.2).

  python -m projects.set_counting.main \
      --config=projects/set_counting/configs/rff_pma.py \
      --workdir=runs/set_counting/rff_pma

`:smoke` runs it end to end in seconds. Cost and result: the README.
"""
from projects.set_counting.configs import base


def get_config(arg=None):
  return base.get_config("rff_pma", "rff", "pma", arg)
