"""MCR's YAML recipes (data only): ``<name>.yaml`` and ``accelerate/<launcher>.yaml``."""
