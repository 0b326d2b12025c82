"""oodlib: the reusable parts of the OOD-detection replication book.

Modules (each small and named for what it holds):

* :mod:`oodlib.metrics` - AUROC, FPR@TPR, AUPR, pAUC, EER, DCASE, GZSL and pixel metrics
* :mod:`oodlib.knn` - :class:`~oodlib.knn.KNNScorer`, exact kNN distances (faiss / torch)
* :mod:`oodlib.scores` - post-hoc scorers and classical detectors (higher = more OOD)
* :mod:`oodlib.records` - results records written by every notebook run
* :mod:`oodlib.params` - typed notebook parameters, checked before and during a run
* :mod:`oodlib.tables`, :mod:`oodlib.plots` - paper-vs-ours tables, the book's plot style
* :mod:`oodlib.synthetic` - generated data for the embedded defaults
* :mod:`oodlib.device`, :mod:`oodlib.seeding` - device choice and one seed for everything

Convention used everywhere: **a higher score means more OOD**.
"""

__version__ = "0.1.0"
