"""The tour: kNN distances vs MSP on Gaussian blobs, the worked example of a paper package.

Every paper package has this shape (see ``CONTRIBUTING.md``):

* :mod:`.config` - :class:`TourConfig`, the notebook's parameters, validated;
* :mod:`.data` - :func:`load` -> :class:`TourData` (``summary()``, ``note``);
* :mod:`.run` - :func:`run` -> :class:`TourResult` (scores, accuracy, ``evidence()``);
* :mod:`.tables` - the result tables;
* :mod:`.claims` - the claims, declared with margins.
"""

from .claims import claims
from .config import TourConfig
from .data import TourData, load
from .run import TourResult, run
from .tables import ood_table

__all__ = ["TourConfig", "TourData", "TourResult", "claims", "load", "ood_table", "run"]
