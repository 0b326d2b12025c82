"""P4's input: 32 x 32 segmented log-mel spectrograms scaled to [-1, 1].

One second at 16 kHz gives 32 frames with a hop of 500 samples (window 1024,
Hann) and 32 mel bands (20 Hz - 8 kHz). The log-mel image of each clip is
min-max scaled to [-1, 1] (the paper says only "scaling to the range [-1, 1]";
per-clip scaling is our choice: it removes level differences between clips).
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

SIZE = 32


def segmented_mel(audio: np.ndarray, sample_rate: int = 16000, size: int = SIZE) -> np.ndarray:
    """Waveforms (n, samples) -> float32 images (n, 1, size, size) in [-1, 1].

    Clips longer or shorter than one second use a hop of ``samples // size`` so
    that every clip gives ``size`` frames.
    """
    x = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    if x.ndim != 2:
        raise ValueError(f"audio must be (n, samples), got shape {tuple(x.shape)}")
    hop = x.shape[1] // size
    if hop < 1:
        raise ValueError(f"clips of {x.shape[1]} samples are too short for {size} frames")
    n_fft = max(1024, 2 * hop)
    need = hop * (size - 1) + n_fft  # samples for exactly `size` frames without centring
    x = x[:, :need] if x.shape[1] >= need else torch.nn.functional.pad(x, (0, need - x.shape[1]))
    mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=n_fft, hop_length=hop, n_mels=size, f_min=20.0,
                                               f_max=sample_rate / 2, center=False)
    spec = torch.log(mel(x) + 1e-6)
    spec = spec[..., :size]
    lo = spec.amin(dim=(1, 2), keepdim=True)
    hi = spec.amax(dim=(1, 2), keepdim=True)
    img = 2 * (spec - lo) / (hi - lo).clamp_min(1e-6) - 1
    return img.unsqueeze(1).numpy().astype(np.float32)
