"""The tour: kNN distances vs MSP on Gaussian blobs, the worked example of a paper package.

Every paper package has this shape (see ``CONTRIBUTING.md``):

* :mod:`.config` - :class:`TourConfig`, the notebook's parameters, validated;
* :mod:`.data` - :func:`load` -> :class:`TourData` (``summary()``, ``note``);
* :mod:`.run` - :func:`run` -> :class:`TourResult` (scores, accuracy, ``evidence()``);
* :mod:`.tables` - the result tables;
* :mod:`.claims` - the claims, declared with margins.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "claims": ".claims", "TourConfig": ".config", "TourData": ".data", "load": ".data",
    "TourResult": ".run", "run": ".run", "ood_table": ".tables",
})
