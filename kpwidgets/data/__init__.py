"""Small precomputed sweep results the course notebooks load (npz files)."""
