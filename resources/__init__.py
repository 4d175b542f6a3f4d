"""Packaged resources: icons and the style sheet."""
