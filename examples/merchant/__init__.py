"""A reference merchant system: the remote contract (docs/remote-adapters.md) served over its
own SQLite database, for tests and the remote demo. It keeps its goods with jimu's own SQL
adapters, so what it answers is what jimu would answer from the same catalog file; a control
route makes it slow, failing or wrong on purpose."""
