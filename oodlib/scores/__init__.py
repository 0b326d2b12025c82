"""OOD scorers with one orientation: **higher = more OOD**.

* :mod:`~oodlib.scores.posthoc` - from a classifier's logits, inputs or last layer
  (MSP, max-logit, energy, entropy, ODIN, GradNorm); ``softmax_entropy`` and ``free_energy``
  are their differentiable tensor forms (losses, dense maps).
* :mod:`~oodlib.scores.classical` - feature-space detectors (Isolation Forest,
  OCSVM, LODA, LOF, PCA) through PyOD / scikit-learn.
* kNN distances live in :mod:`oodlib.knn`.
"""

from .classical import PRESETS, ClassicalDetector
from .posthoc import (LOGIT_SCORERS, ODIN_EPSILON, energy, entropy, free_energy, gradnorm, input_std, max_logit, msp, odin,
                      softmax_entropy, tune_odin)

__all__ = ["LOGIT_SCORERS", "PRESETS", "ClassicalDetector", "energy", "entropy", "free_energy", "gradnorm", "max_logit",
           "msp", "odin", "softmax_entropy", "ODIN_EPSILON", "input_std", "tune_odin"]
