"""The clip-length policy: where each mode cuts, padding, the loudest window, windows and their reduction."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from oodlib.data.clips import ClipPolicy, load_windows, reduce_to_clips

SR = 100  # a tiny rate keeps the arithmetic readable: 1 s = 100 samples


def test_each_mode_cuts_where_it_says():
    x = np.arange(350, dtype=np.float32)  # 3.5 s
    assert ClipPolicy("start").cut(x, SR)[0, 0] == 0
    assert ClipPolicy("centre").cut(x, SR)[0, 0] == 125  # (350 - 100) // 2
    w = ClipPolicy("windows", hop_s=1.0).cut(x, SR)
    assert w.shape == (4, 100) and list(w[:, 0]) == [0, 100, 200, 250]  # the last window flush with the end
    loud = np.zeros(350, np.float32)
    loud[210:260] = 1.0
    assert ClipPolicy("loudest", hop_s=0.1).cut(loud, SR)[0].sum() == 50  # the whole burst in one window


def test_short_and_exact_clips_are_the_same_under_every_mode():
    short = np.ones(40, np.float32)
    exact = np.arange(100, dtype=np.float32)
    for mode in ("start", "centre", "loudest", "windows"):
        p = ClipPolicy(mode)
        s = p.cut(short, SR)
        assert s.shape == (1, 100) and s[0, :40].sum() == 40 and not s[0, 40:].any()  # zero-padded at the end
        np.testing.assert_array_equal(p.cut(exact, SR), exact[None])


def test_reduce_to_clips_mean_max_and_identity():
    v = np.array([1.0, 3.0, 5.0, 2.0, 7.0])
    clip = np.array([0, 0, 1, 0, 2])
    np.testing.assert_allclose(reduce_to_clips(v, clip, "mean"), [2.0, 5.0, 7.0])
    np.testing.assert_allclose(reduce_to_clips(v, clip, "max"), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(reduce_to_clips(v[[0, 2, 4]], np.array([0, 1, 2])), v[[0, 2, 4]])
    logits = np.arange(10.0).reshape(5, 2)
    assert reduce_to_clips(logits, clip).shape == (3, 2)
    with pytest.raises(ValueError, match="how must be one of"):
        reduce_to_clips(v, clip, "median")
    with pytest.raises(ValueError, match="window values"):
        reduce_to_clips(v, clip[:3])


def test_load_windows_reads_any_rate_length_and_channels(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros((44100 * 3, 2)), 44100)  # 3 s stereo
    sf.write(tmp_path / "b.flac", np.zeros(4000), 8000)  # 0.5 s
    audio, clip = load_windows([tmp_path / "a.wav", tmp_path / "b.flac"], ClipPolicy("windows", hop_s=1.0), 16000)
    assert audio.shape == (4, 16000) and clip.tolist() == [0, 0, 0, 1]
    audio, clip = load_windows([tmp_path / "a.wav", tmp_path / "b.flac"], ClipPolicy("loudest"), 16000)
    assert audio.shape == (2, 16000) and clip.tolist() == [0, 1]


def test_bad_policies_are_refused():
    for kw, match in (({"mode": "middle"}, "mode"), ({"reduce": "median"}, "reduce"), ({"hop_s": 0.0}, "hop_s")):
        with pytest.raises(ValueError, match=match):
            ClipPolicy(**kw)
    assert "'windows'" in ClipPolicy("windows", reduce="max").describe() and "max" in ClipPolicy("windows", reduce="max").describe()


def test_p1_config_lists_the_same_policies():
    """P1's config (kept free of the audio stack) repeats the policy names: they must stay equal."""
    from oodlib.data.clips import MODES, REDUCTIONS
    from oodlib.papers.p1_audio_knn.config import CLIP_POLICIES, P1Config

    assert CLIP_POLICIES == MODES and set(REDUCTIONS) == {"mean", "max"}
    P1Config(clip_policy="windows", window_reduce="max").check()
