"""Audio front ends: log-mel filterbanks (torchaudio transforms).

:class:`LogMel` defaults follow P1's paper and reference code: 16 kHz, 25 ms windows
(400 samples; the reference code's window is 401 samples long, one more than 25 ms: we keep the
paper's 25 ms) zero-padded to a 512-point FFT, 10 ms hop (160), 64 mel bins from
60 to 7800 Hz, ``log(mel power + 1e-5)``, frames taken without centring so that
one second gives **98 frames** as the paper says. (P1's code pads the end and
gets 100; the TensorFlow framing it uses places each 400-sample window at the
start of its 512-point frame, which :class:`LogMel` reproduces by padding the
signal by 56 samples on each side.)
"""

from __future__ import annotations

import torch
import torchaudio
from torch import nn


class LogMel(nn.Module):
    """Waveforms (batch, samples) -> log-mel features (batch, n_mels, frames).

    Frames: ``1 + (samples - win_length) // hop_length`` (98 for 1 s at 16 kHz).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 512,
        win_length: int = 400,
        hop_length: int = 160,
        n_mels: int = 64,
        f_min: float = 60.0,
        f_max: float = 7800.0,
        log_offset: float = 1e-5,
    ) -> None:
        super().__init__()
        if win_length > n_fft:
            raise ValueError(f"win_length ({win_length}) must not exceed n_fft ({n_fft})")
        self.win_length, self.hop_length, self.n_fft = win_length, hop_length, n_fft
        self.log_offset = log_offset
        self.pad = (n_fft - win_length) // 2
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            f_min=f_min, f_max=f_max, n_mels=n_mels, center=False, power=2.0, window_fn=torch.hann_window,
        )

    def num_frames(self, num_samples: int) -> int:
        """Frames produced for a signal of ``num_samples`` samples."""
        return 1 + (num_samples - self.win_length) // self.hop_length

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav``: (batch, samples) or (samples,) float; returns (batch, n_mels, frames)."""
        if wav.ndim == 1:
            wav = wav[None]
        padded = nn.functional.pad(wav, (self.pad, self.n_fft - self.win_length - self.pad))
        return torch.log(self.mel(padded) + self.log_offset)
