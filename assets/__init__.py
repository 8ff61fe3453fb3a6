"""Models shipped with MCR (installed as ``mcr.assets``; see ``mcr.assets``)."""
