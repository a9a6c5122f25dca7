"""The statistics of a run, apart from its rendering: all-pairs comparisons and seed summaries
(``compare``), the declared decision and its outcomes (``verdict``), and several runs merged or
a run rescored with more metrics (``merge``). ``promptkit.report`` only renders what these
compute.
"""
