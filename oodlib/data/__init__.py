"""Real data: manifests, data-directory resolution, downloads and loaders.

* :mod:`~oodlib.data.paths` - where the data directory and each dataset are
* :mod:`~oodlib.data.manifests` - ``data_manifests/*.yaml``, validated
* :mod:`~oodlib.data.fetch` - resumable, verified downloads; ``verify``
* :mod:`~oodlib.data.audio` - the one audio reading path (soundfile)
* :mod:`~oodlib.data.speech_commands` - Speech Commands v0.02 (full and test layouts)
* :mod:`~oodlib.data.folders` - any folder-per-class audio set
"""

from .paths import ENV_VAR, dataset_dir, resolve_data_dir

__all__ = ["ENV_VAR", "dataset_dir", "resolve_data_dir"]
