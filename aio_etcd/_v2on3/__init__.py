"""The documented calls of :class:`aio_etcd.Client` on etcd's v3 API (``Client(api="v3")``).

A v2 path is the v3 key of the same UTF-8 bytes; directories are implicit (a key below
``D/`` makes ``D`` a directory), and ``dir=True`` writes a marker key ``D/`` with an empty
value, so that a directory outlives its last child as in v2. Nothing here branches on the API
in the client: :class:`~aio_etcd._v2on3._backend.V3Backend` implements the same ``Backend``
as the v2 HTTP API does.
"""
