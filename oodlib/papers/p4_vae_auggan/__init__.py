"""P4: VAE-AugGAN with a Sinkhorn confident loss for open-set speech commands (Teh & Tran, Interspeech 2021).

No public code exists; every open choice is made and documented in the module where it lives:

* :mod:`.features` — 32 x 32 segmented log-mel in [-1, 1];
* :mod:`.augment` — physical augmentation (shift, speed/pitch, noise, reverberation);
* :mod:`.models` — VAE encoder, generator, detector, scattering ResNet;
* :mod:`.losses` — the Sinkhorn confident loss and score (our interpretation, explained there);
* :mod:`.train` — the systems and the alternating joint training (eq. 9);
* :mod:`.evaluate` — AUROC, AUPR-In/Out, EER, closed- and open-set accuracy;
* :mod:`.data` — synthetic and real open-set data with full and 10% regimes.
"""

from .augment import add_noise, augment_clip, augment_set, reverb, speed_perturb, time_shift
from .data import SOURCES, OpenSetData, load_open_set, small_subset
from .evaluate import best_threshold, detection_metrics, open_set_accuracy, open_set_predictions
from .features import segmented_mel
from .losses import confident_loss, kl_uniform_to, sinkhorn_score, sinkhorn_to_uniform
from .models import (LATENT, Detector, Generator, ScatResNet, ScatteringFront, VAEEncoder, kl_divergence,
                     reparameterize)
from .train import SystemConfig, TrainedSystem, logits_of, scores, train_system

__all__ = [
    "LATENT", "SOURCES", "Detector", "Generator", "OpenSetData", "ScatResNet", "ScatteringFront", "SystemConfig",
    "TrainedSystem", "VAEEncoder", "add_noise", "augment_clip", "augment_set", "best_threshold", "confident_loss",
    "detection_metrics", "kl_divergence", "kl_uniform_to", "load_open_set", "logits_of", "open_set_accuracy",
    "open_set_predictions", "reparameterize", "reverb", "scores", "segmented_mel", "sinkhorn_score",
    "sinkhorn_to_uniform", "small_subset", "speed_perturb", "time_shift", "train_system",
]
