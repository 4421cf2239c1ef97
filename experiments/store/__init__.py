"""Result folders on disk: run sets, ``lcsim run`` folders, provenance (manifest.py), all-or-nothing writes (atomic.py)."""
