"""Omniglot through TFDS: loading and caching, groups and splits, the sampler."""
