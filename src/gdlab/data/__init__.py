"""Where the rows live: one :class:`Source` protocol, opened once by :func:`open_source`.

- ``_source``: the protocol (rows, names, dropped rows, where in words; a reduction of a function
  over blocks with a merge; minibatches for SGD; the table when the rows are in memory);
- ``_open``: :func:`open_source`, the only module that imports the Parquet and Dask sources;
- ``_memory``, ``_parquet``, ``_dask``: the rows in memory, streamed from Parquet, on a cluster.
"""

from gdlab.data._derived import DerivedSource, derived
from gdlab.data._open import Where, find_levels, on_cluster, open_source, where
from gdlab.data._source import Batches, Block, ClusterError, Source, check_kept_rows, check_some_kept

__all__ = [
    "Batches",
    "Block",
    "ClusterError",
    "DerivedSource",
    "Source",
    "Where",
    "check_kept_rows",
    "check_some_kept",
    "derived",
    "find_levels",
    "on_cluster",
    "open_source",
    "where",
]
