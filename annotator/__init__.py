"""Masklet application layer: annotation document, undoable commands, projects, the model worker."""
