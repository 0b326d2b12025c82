"""Word and phrase lists for the synthetic speech sets.

They stand in for the papers' real corpora (the notebooks say which for which):

* ``EN_KEYWORDS`` - 31 English keywords, standing in for MSWC Micro-EN (P1's ID keyword set);
* ``ES_KEYWORDS`` - 20 Spanish keywords, for MSWC Micro-ES (keywords in another language);
* ``SPEECH_COMMANDS_WORDS`` - the 35 Speech Commands v0.02 words (other English words);
* ``COMMAND_PHRASES`` - multi-word device commands, for Fluent Speech Commands;
* ``LANGUAGE_ID_SENTENCES`` - one short sentence in each of six languages, for Voxforge;
* ``EMOTION_SENTENCES`` - CREMA-D-style sentences, spoken with exaggerated prosody.
"""

from __future__ import annotations

EN_KEYWORDS = (
    "about", "after", "again", "always", "animal", "answer", "because", "before", "believe", "better",
    "between", "children", "country", "different", "during", "family", "father", "follow", "friend", "government",
    "important", "language", "morning", "mother", "nothing", "number", "people", "question", "really", "something",
    "together",
)
ES_KEYWORDS = (
    "ahora", "bueno", "casa", "cosas", "después", "entonces", "gracias", "gente", "hombre", "mujer",
    "mundo", "nada", "noche", "nunca", "palabra", "pueblo", "siempre", "tiempo", "trabajo", "vida",
)
SPEECH_COMMANDS_WORDS = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go", "happy",
    "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop",
    "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
)
SPEECH_COMMANDS_TEN = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
COMMAND_PHRASES = (
    "turn on the lights", "turn off the lights", "increase the volume", "decrease the volume",
    "bring me the newspaper", "switch the language", "increase the heat", "turn on the music",
)
LANGUAGE_ID_SENTENCES = {
    "en": "the weather is nice today",
    "de": "das wetter ist heute schön",
    "fr": "il fait beau aujourd'hui",
    "it": "oggi il tempo è bello",
    "pt": "o tempo está bom hoje",
    "ru": "сегодня хорошая погода",
}
EMOTION_SENTENCES = (
    "it's eleven o'clock", "that is exactly what happened", "i'm on my way to the meeting",
    "i wonder what this is about", "the airplane is almost full", "maybe tomorrow it will be cold",
)
