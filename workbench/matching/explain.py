"""A suggestion's reasons in the words a reviewer uses ("names agree, values overlap").

The matcher keeps, per suggestion, how much each signal pushed it up or down (feature name ->
contribution); this turns the strongest few into phrases, those that pushed it down after a
"but", so the widget and the CLI never show internal feature names.
"""

from __future__ import annotations

# signal -> (said when it pushed the suggestion up, said when it pushed it down)
PHRASES: dict[str, tuple[str, str]] = {
    "name_ratio": ("names agree", "names differ"),
    "name_raw": ("names agree", "names differ"),
    "name_token_set": ("name words agree", "name words differ"),
    "name_tokens": ("name words agree", "name words differ"),
    "name_jaro_winkler": ("names look alike", "names look different"),
    "name_contrast": (
        "names are opposites, numbered siblings or a reference and its referent "
        "(first/last, s3/s6, address_id/address)",
        "names are not opposites",
    ),
    "name_opaque": ("names say little", "names are telling"),
    "name_margin": ("the best name match in its row", "a closer name elsewhere"),
    "name_regime": (
        "the other columns' names say little either",
        "the other columns keep their names and this one's differ",
    ),
    "type_compat": ("types fit", "types do not fit"),
    "value_overlap": ("values overlap", "values do not overlap"),
    "value_containment": ("one side's values contain the other's", "values are not contained"),
    "value_qgrams": ("values are spelled alike", "values are spelled differently"),
    "value_patterns": ("values have the same shape", "values have other shapes"),
    "value_lengths": ("values are as long", "values differ in length"),
    "value_numbers": ("numbers are distributed alike", "numbers are distributed differently"),
    "value_distinct": ("as many distinct values", "distinct counts differ"),
    "value_nulls": ("as many NULLs", "NULL shares differ"),
    "semantic_equal": ("the same kind of value (email, date, ...)", "different kinds of value"),
    "semantic_conflict": ("kinds of value agree", "kinds of value conflict"),
    "kind_equal": ("same kind of data", "different kinds of data"),
    "value_shape": (
        "numbers are shaped alike, whatever the unit",
        "numbers are shaped differently",
    ),
    "value_frequencies": (
        "values repeat alike (codes and their labels)",
        "values repeat differently",
    ),
    "value_margin": ("the best value match in its row", "closer values elsewhere"),
    "value_support": ("enough values sampled", "few values to compare"),
    "value_richness": (
        "many distinct values agree (rarely by chance)",
        "few distinct values (alike by chance: 0/1, small codes)",
    ),
    "no_values": ("one side has no values yet (names decide)", "both sides have values"),
    "feedback": ("your earlier decisions agree", "your earlier decisions disagree"),
}
WEAK = 0.05  # contributions smaller than this say nothing


def reasons_in_words(reasons: dict[str, float], top: int = 3) -> str:
    """The strongest ``top`` reasons as phrases: for, then (after "but") against."""
    ranked = sorted(
        ((k, v) for k, v in reasons.items() if abs(v) >= WEAK), key=lambda kv: -abs(kv[1])
    )
    pro: list[str] = []
    con: list[str] = []
    for name, value in ranked:
        if len(pro) + len(con) >= top:
            break
        up, down = PHRASES.get(name, (name.replace("_", " "), f"not {name.replace('_', ' ')}"))
        phrase, side = (up, pro) if value > 0 else (down, con)
        if phrase not in pro and phrase not in con:
            side.append(phrase)
    text = ", ".join(pro)
    if con:
        text = (text + "; but " if text else "") + ", ".join(con)
    return text or "no strong signal"
