"""The research note's study: its configurations over seeds, the
comparisons it asks for, the findings written from them, and the plots.

  python -m projects.group_note.study --seeds=0,1,2

See projects/group_note/README.md.
"""
