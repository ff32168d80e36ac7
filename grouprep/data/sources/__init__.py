"""Data sources: each dataset grouprep trains and evaluates on, behind one
small interface (interface.Source) and one registry (registry.py).

A source gives its training groups, its evaluation splits, a summary stored
with checkpoints and what it can offer beyond images in groups (alphabet
and character labels, Lake's runs, a stroke convention): the evaluators
declare what they need of those and are skipped, with the reason in
metrics.json, where a source lacks it. Built in: omniglot (the note's
experiment), vinyals (Omniglot through the Vinyals split), folder and csv
(your own data). Nothing under data/ imports the methods or the evaluators.
"""
