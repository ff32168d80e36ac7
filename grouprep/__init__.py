"""grouprep: learning embeddings of groups of data points (JAX/Flax)."""

__version__ = "0.1.0"
