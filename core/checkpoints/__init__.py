"""The official SAM 2 checkpoints: catalogue, cache folder, verified resumable download, device settings.

Nothing here imports torch or Qt at import time except ``verify`` and ``accelerate``, which
need torch to do their job; the window reaches those only on worker threads.
"""
