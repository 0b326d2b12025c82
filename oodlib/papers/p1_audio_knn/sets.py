"""P1's data-set names: the synthetic stand-ins and the paper's datasets they stand in for.

Plain constants (no torch), so :mod:`.config` can validate a run's parameters without importing
the models.
"""

# Non-verbal vocalisations spelt for eSpeak: the synthetic stand-in for VocalSound's six classes.
VOCALISATIONS = {
    "laughter": "ha ha ha ha", "sigh": "haaaah", "cough": "kuh kuh", "throat clearing": "ahem hm",
    "sneeze": "ah choo", "sniff": "snff snff",
}
# What each synthetic set stands in for (the paper's dataset names, as in its tables).
STANDS_IN_FOR = {
    "keywords": "MSWC (Micro-EN)",
    "vocal sounds": "Vocalsound",
    "keywords (Spanish)": "MSWC (Micro-ES)",
    "other words": "SpeechCommands",
    "environmental sounds": "ESC-50",
    "emotional speech": "CREMA-D",
    "command phrases": "FluentSpeech",
    "other languages": "Voxforge",
}
# OOD sets that share the ID task of the keyword setting (the paper's "hardest" sets).
TASK_SHARING = ("keywords (Spanish)", "other words")
