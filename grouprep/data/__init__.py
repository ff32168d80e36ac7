"""Data: each dataset a registered source (sources/: Omniglot through TFDS,
the Vinyals split, folder and CSV datasets), group construction and splits
as pure functions (groups.py), the image rule (images.py) and the seeded
C x V x M sampler (sampler.py)."""
