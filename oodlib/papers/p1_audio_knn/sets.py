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
# OOD sets that share the ID task on real data, per ID setting (the claim "task-sharing sets are hardest")
TASK_SHARING_REAL = {
    "MSWC (Micro-EN)": ("MSWC (Micro-ES)", "SpeechCommands"),
    "MSWC (Micro-ES)": ("MSWC (Micro-EN)", "SpeechCommands"),
    "speech commands (10 words)": ("unknown words", "MSWC (Micro-EN)", "MSWC (Micro-ES)"),
}

# The real data sets P1 reads in their native layouts: data-folder name -> the name P1's tables give it.
NATIVE_NAMES = {
    "vocalsound": "Vocalsound",
    "mswc_micro_en": "MSWC (Micro-EN)",
    "mswc_micro_es": "MSWC (Micro-ES)",
    "voxforge": "Voxforge",
    "crema_d": "CREMA-D",
    "esc50": "ESC-50",
    "fluent_speech_commands": "FluentSpeech",
    "speech_commands_v0.02": "SpeechCommands",
    "speech_commands_v0.02_test": "SpeechCommands",
}
# Extra real OOD sets that are not P1's (data-folder name -> set name)
EXTRA_OOD_NAMES = {"dcase2023t2_dev_mini": "machine sounds"}
SPEECH_COMMANDS = ("speech_commands_v0.02_test", "speech_commands_v0.02")
# The paper's OOD suite (Table 1): every other of its eight sets; Speech Commands is read from either release
PAPER_SUITE = ("vocalsound", "mswc_micro_en", "voxforge", "crema_d", "esc50", "mswc_micro_es",
               "speech_commands_v0.02", "fluent_speech_commands")
# Which paper table holds the rows of an ID setting (synthetic stand-ins and the real sets alike)
PAPER_TABLE = {"vocal sounds": "table1a", "Vocalsound": "table1a", "keywords": "table1b", "MSWC (Micro-EN)": "table1b"}
# The paper's k per ID data set (Sec. 3.2); every other real set uses k_keywords
PAPER_K_VOCAL = 100
SYNTHETIC_K_VOCAL = 10


def setting_names(data: str, id_settings: list[str]) -> list[str]:
    """The names of a run's ID settings, known from its parameters alone (claims are declared from them)."""
    if data == "synthetic":
        return list(id_settings)
    if data == "folders":
        return ["custom"]
    if data in SPEECH_COMMANDS:
        return ["speech commands (10 words)"]
    return [NATIVE_NAMES[data]]
