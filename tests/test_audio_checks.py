"""Audio is checked when it is read (issue 16, case 8): samples finite and in range, sample rate plausible.

Fixtures are small WAVs written by soundfile into ``tmp_path``; every error must name the file and
what was expected.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from oodlib.data.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, load_clips, read_audio


def _float_wav(path, x, rate=16000):
    sf.write(path, np.asarray(x, dtype=np.float32), rate, subtype="FLOAT")
    return path


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")])
def test_non_finite_samples_are_refused(tmp_path, bad, word):
    x = np.zeros(1000, np.float32)
    x[123] = bad
    path = _float_wav(tmp_path / "nonfinite.wav", x)
    with pytest.raises(ValueError, match=rf"nonfinite\.wav.*{word}.*sample 123.*finite") as err:
        read_audio(path)
    assert str(path) in str(err.value)
    with pytest.raises(ValueError, match=r"nonfinite\.wav"):
        load_clips([path], 16000, 1000)


def test_out_of_range_float_samples_are_refused(tmp_path):
    x = np.zeros(1000, np.float32)
    x[7] = 1.5
    path = _float_wav(tmp_path / "loud.wav", x)
    with pytest.raises(ValueError, match=re.escape("[-1, 1]") + r".*loud\.wav|loud\.wav.*" + re.escape("[-1, 1]")):
        read_audio(path)


def test_in_range_audio_still_loads(tmp_path):
    x = np.linspace(-1, 1, 1000, dtype=np.float32)  # the extremes are allowed
    assert np.allclose(read_audio(_float_wav(tmp_path / "full.wav", x)), x)
    tiny_overshoot = x * (1 + 1e-5)  # rounding of a float pipeline: tolerated, clipped to [-1, 1]
    y = read_audio(_float_wav(tmp_path / "overshoot.wav", tiny_overshoot))
    assert np.abs(y).max() <= 1.0
    pcm = tmp_path / "pcm.wav"
    sf.write(pcm, np.array([-32768, 0, 32767], np.int16), 16000, subtype="PCM_16")
    assert read_audio(pcm).tolist() == pytest.approx([-1.0, 0.0, 32767 / 32768])


@pytest.mark.parametrize("rate", [1, 500, 1_000_000])
def test_absurd_sample_rates_are_refused_before_resampling(tmp_path, rate):
    path = tmp_path / f"rate{rate}.wav"
    sf.write(path, np.zeros(1000, np.float32), rate, subtype="PCM_16")
    assert sf.info(str(path)).samplerate == rate
    with pytest.raises(ValueError, match=rf"rate{rate}\.wav.*{rate} Hz.*{MIN_SAMPLE_RATE:,}.*{MAX_SAMPLE_RATE:,}"):
        read_audio(path, 16000)


def test_plausible_rates_load(tmp_path):
    for rate in (MIN_SAMPLE_RATE, 8000, 44100, 96000):
        path = tmp_path / f"ok{rate}.wav"
        sf.write(path, np.zeros(rate // 10, np.float32), rate, subtype="PCM_16")
        assert read_audio(path, 16000).shape == (1600,)


def test_absurd_target_rate_is_refused(tmp_path):
    path = _float_wav(tmp_path / "a.wav", np.zeros(100))
    with pytest.raises(ValueError, match=r"sample_rate.*0 Hz"):
        read_audio(path, 0)
