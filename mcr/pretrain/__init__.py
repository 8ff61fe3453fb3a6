"""The tiny base: pretraining on unimodal skills (``corpus``), skill probes (``probes``), and the
staged, resumable run with its model card (``run``)."""
