"""``masklet batch`` without Qt: manifests, job keys, destinations, the ledger, the Ray driver and its actors.

- ``jobs``: the typed records (JobSpec and its work, RunSettings, JobOutcome, the VideoTracker protocol).
- ``manifest``: JSON Lines manifests, one video a line, checked with one-line errors.
- ``keys``: content fingerprints and job keys (what makes a rerun skip a job).
- ``destination``: results in a folder or an object store, staged, marker last.
- ``ledger``: the per-job event log and ``--status`` summaries.
- ``actor``: one worker slot (model loaded once, whole videos); ``driver``: Ray and the slots;
  ``dispatch``: handing out videos, retries, lost workers.
- ``progress``: the driver's one progress line.

Ray is imported only by the driver and dispatch, on first use (the ``batch`` extra); the tracker that runs
the session code lives in the application layer (annotator.cli.batch_tracker).
"""
