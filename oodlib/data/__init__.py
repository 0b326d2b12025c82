"""Real data: manifests, data-directory resolution, downloads and loaders.

* :mod:`~oodlib.data.paths` - where the data directory and each dataset are
* :mod:`~oodlib.data.manifests` - ``data_manifests/*.yaml``, validated
* :mod:`~oodlib.data.fetch` - resumable, verified downloads; ``verify``
* :mod:`~oodlib.data.audio` - the one audio reading path (soundfile)
* :mod:`~oodlib.data.clips` - the clip-length policy: a clip of any length as fixed-length model inputs
* :mod:`~oodlib.data.speech_commands` - Speech Commands v0.02 (full and test layouts; as an OOD set too)
* :mod:`~oodlib.data.folders` - any folder-per-class audio set
* P1's sets in their native layouts and official splits (:mod:`~oodlib.data.native_index` holds
  what they share): :mod:`~oodlib.data.vocalsound`, :mod:`~oodlib.data.mswc` (Micro-EN/ES, opus),
  :mod:`~oodlib.data.voxforge`, :mod:`~oodlib.data.crema_d`, :mod:`~oodlib.data.esc50`,
  :mod:`~oodlib.data.fluent_speech`
* :mod:`~oodlib.data.dcase`, :mod:`~oodlib.data.gzsl`, :mod:`~oodlib.data.avca`,
  :mod:`~oodlib.data.segmentation` - P2's, P3's and P5's sets
"""

from .paths import ENV_VAR, dataset_dir, resolve_data_dir

__all__ = ["ENV_VAR", "dataset_dir", "resolve_data_dir"]
