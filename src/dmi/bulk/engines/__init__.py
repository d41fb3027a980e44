"""Where the chunks of a run are scored: locally in threads, or on a Dask cluster
(:mod:`~dmi.bulk.engines.dask`, ``pip install "dmi[distributed]"``). Both apply the same chunk
kernel and give the same bytes."""
