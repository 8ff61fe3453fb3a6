"""MCR: Modality-aware Consistency Reasoning for vision-language models.

Subpackages: ``mcr.data`` (record schema, loaders, synthetic generators), ``mcr.rewards``
(CVO reward functions, from ``rewards/``), ``mcr.eval`` (benchmark scorers, from ``eval/``),
``mcr.recipes`` and ``mcr.templates`` (YAML recipes and Jinja templates, data only).
"""

__version__ = "0.1.0"
