"""P4: VAE-AugGAN with a Sinkhorn confident loss for open-set speech commands (Teh & Tran, Interspeech 2021).

No public code exists; every open choice is made and documented in the module where it lives:

* :mod:`.features` — 32 x 32 segmented log-mel in [-1, 1];
* :mod:`.augment` — physical augmentation (shift, speed/pitch, noise, reverberation);
* :mod:`.models` — VAE encoder, generator, detector, scattering ResNet;
* :mod:`.losses` — the Sinkhorn confident loss and score (our interpretation, explained there);
* :mod:`.train` — the systems and the alternating joint training (eq. 9);
* :mod:`.evaluate` — AUROC, AUPR-In/Out, EER, closed- and open-set accuracy;
* :mod:`.data` — synthetic and real open-set data with full and 10% regimes.

The paper-package shape (``CONTRIBUTING.md``): :mod:`.config` (:class:`P4Config`), :mod:`.data`
(:func:`load` -> :class:`P4Data`), :mod:`.run` (:func:`run` -> :class:`P4Result`), :mod:`.tables`,
:mod:`.claims` (:func:`claims`), plus :mod:`.figures`.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "add_noise": ".augment", "augment_clip": ".augment", "augment_set": ".augment", "reverb": ".augment",
    "speed_perturb": ".augment", "time_shift": ".augment",
    "SOURCES": ".config", "P4Config": ".config",
    "OpenSetData": ".data", "P4Data": ".data", "load": ".data", "load_open_set": ".data", "small_subset": ".data",
    "best_threshold": ".evaluate", "detection_metrics": ".evaluate", "open_set_accuracy": ".evaluate",
    "open_set_predictions": ".evaluate",
    "segmented_mel": ".features",
    "confident_loss": ".losses", "kl_uniform_to": ".losses", "sinkhorn_score": ".losses",
    "sinkhorn_to_uniform": ".losses",
    "LATENT": ".models", "Detector": ".models", "Generator": ".models", "ScatResNet": ".models",
    "ScatteringFront": ".models", "VAEEncoder": ".models", "kl_divergence": ".models",
    "reparameterize": ".models",
    "SystemConfig": ".train", "TrainedSystem": ".train", "logits_of": ".train", "scores": ".train",
    "train_system": ".train",
    "ABLATIONS": ".run", "OPV": ".run", "OPV_VARIANT": ".run", "SYSTEMS": ".run", "P4Result": ".run",
    "Scored": ".run", "run": ".run", "score_system": ".run", "system_configs": ".run",
    "ablation_table": ".tables", "paper_tables": ".tables", "system_metrics": ".tables", "table1": ".tables",
    "claims": ".claims", "score_histograms": ".figures",
})
