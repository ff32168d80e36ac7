"""Evaluators: each a small module with one entry point, chosen by name in
`config.evals` (registry.py); common.py embeds a split once for all of them."""
