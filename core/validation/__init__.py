"""Checks of what Masklet reads before any work is done on it: one module per kind of file.

Every refusal is one line naming the file, the field and the problem (``Invalid``), raised
before anything is allocated from a size the file claims. ``bounds`` holds the limits;
``inputs`` the files this process reads, which no export or save may overwrite.
"""
