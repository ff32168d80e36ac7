"""Evaluators: each a small module with its entry points and its settings,
chosen by name in `config.evals` (registry.py), run where the data source
offers what it needs; common.py embeds a split once for all of them."""
