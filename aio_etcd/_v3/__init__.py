"""etcd's v3 API over its JSON gateway; the public surface is :mod:`aio_etcd.v3`."""
