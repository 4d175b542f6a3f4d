"""Masklet widgets. Never imports torch; never runs model code on the GUI thread."""
