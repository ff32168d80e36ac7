"""Training methods: the interface (interface.py), one module per method, and
the name -> method table (registry.py, `config.loss.name`)."""
