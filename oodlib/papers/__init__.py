"""Paper-specific methods, one module per paper (``p1_audio_knn``, ...)."""
