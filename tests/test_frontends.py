"""The log-mel front end: shapes, P1's 98-frame detail, mel bin edges, and TF-style framing."""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from oodlib.frontends import LogMel


def test_shape_and_frame_count():
    fe = LogMel()
    out = fe(torch.zeros(3, 16000))
    assert out.shape == (3, 64, 98)  # P1: 0.98 s of frames for 1 s at 10 ms hop
    assert fe.num_frames(16000) == 98 and fe.num_frames(15680) == 96
    assert torch.allclose(out, torch.log(torch.tensor(1e-5)))  # silence -> log(offset)


def test_mel_bin_edges_follow_p1():
    fe = LogMel()
    fb = fe.mel.mel_scale.fb  # (n_freqs, n_mels)
    freqs = torch.linspace(0, 8000, fb.shape[0])
    used = freqs[(fb.sum(1) > 0)]
    assert fb.shape == (257, 64)
    assert used.min() >= 60 - 8000 / 256 and used.max() <= 7800 + 8000 / 256
    expected = torchaudio.functional.melscale_fbanks(257, 60.0, 7800.0, 64, 16000)
    assert torch.allclose(fb, expected)


def test_framing_matches_tf_style_400_window_in_512_fft():
    rng = np.random.default_rng(0)
    x = rng.normal(size=16000).astype(np.float32)
    out = LogMel()(torch.from_numpy(x))[0]
    # reference: frame i = x[160 i : 160 i + 400] * hann(400), zero-padded to 512, |FFT|^2, mel, log
    win = torch.hann_window(400).numpy()
    fb = torchaudio.functional.melscale_fbanks(257, 60.0, 7800.0, 64, 16000).numpy()
    for i in (0, 50, 97):
        frame = np.zeros(512, dtype=np.float64)
        frame[:400] = x[160 * i : 160 * i + 400] * win
        power = np.abs(np.fft.rfft(frame)) ** 2
        np.testing.assert_allclose(out[:, i].numpy(), np.log(power @ fb + 1e-5), rtol=1e-3, atol=1e-3)


def test_tone_lands_in_the_right_bin():
    t = torch.arange(16000) / 16000
    out = LogMel()(torch.sin(2 * torch.pi * 1000 * t))[0]
    fb = torchaudio.functional.melscale_fbanks(257, 60.0, 7800.0, 64, 16000)
    assert out.mean(1).argmax() == fb[32].argmax()  # bin 32 = 1000 Hz in a 512-point FFT
