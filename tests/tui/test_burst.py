"""The burst detector alone, fed keys with the times they were read: no app, no database."""

from __future__ import annotations

from textual import events

from azctl.tui.burst import MAX_GAP_SECONDS, MIN_BURST_CHARACTERS, BurstDetector

SCANNER_GAP = 0.004  # a USB scanner's few milliseconds between keys
TYPIST_GAP = 0.12  # a quick person's
TOKEN = "7KQ4M2ABCDEFGHJKMNPQRSTVWXYZ0123"


def key(name: str, at: float) -> events.Key:
    character = {"enter": "\r", "space": " "}.get(name, name if len(name) == 1 else None)
    pressed = events.Key(name, character)
    pressed.time = at
    return pressed


def typed(text: str, *, gap: float, start: float = 100.0, enter: bool = True) -> list[events.Key]:
    keys = [key(character, start + index * gap) for index, character in enumerate(text)]
    if enter:
        keys.append(key("enter", start + len(text) * gap))
    return keys


def feed(detector: BurstDetector, keys: list[events.Key]) -> tuple[list[str], list[str]]:
    """Every key through the detector, then the wait's end: (keys handed on, scans)."""
    handed_on: list[str] = []
    scans: list[str] = []
    for pressed in keys:
        sorted_keys = detector.press(pressed)
        handed_on += [held.key for held in sorted_keys.keys]
        if sorted_keys.scan is not None:
            scans.append(sorted_keys.scan)
    handed_on += [held.key for held in detector.release()]
    return handed_on, scans


def test_a_scanners_burst_ending_in_enter_is_a_scan_and_hands_nothing_on():
    assert feed(BurstDetector(), typed(TOKEN, gap=SCANNER_GAP)) == ([], [TOKEN])


def test_a_ticket_url_burst_keeps_its_punctuation_for_the_token_parser():
    url = "https://teatro.example/t/" + TOKEN
    keys = typed(url, gap=SCANNER_GAP)
    assert feed(BurstDetector(), keys)[1] == [url]


def test_a_person_typing_hands_every_key_on_in_order_with_the_enter():
    keys = typed("giulia", gap=TYPIST_GAP)
    assert feed(BurstDetector(), keys) == (["g", "i", "u", "l", "i", "a", "enter"], [])


def test_typing_without_enter_is_handed_on_when_the_wait_ends():
    detector = BurstDetector()
    handed_on, scans = [], []
    for pressed in typed("giu", gap=SCANNER_GAP, enter=False):
        sorted_keys = detector.press(pressed)
        handed_on += sorted_keys.keys
        scans.append(sorted_keys.scan)
    assert (handed_on, scans) == ([], [None, None, None])
    assert [held.key for held in detector.release()] == ["g", "i", "u"]


def test_a_quick_short_roll_and_enter_is_not_a_scan():
    keys = typed("y" * (MIN_BURST_CHARACTERS - 1), gap=SCANNER_GAP)
    handed_on, scans = feed(BurstDetector(), keys)
    assert scans == []
    assert handed_on == ["y"] * (MIN_BURST_CHARACTERS - 1) + ["enter"]


def test_an_enter_typed_after_a_pause_is_a_persons_not_the_bursts():
    keys = typed(TOKEN, gap=SCANNER_GAP, enter=False)
    keys.append(key("enter", keys[-1].time + MAX_GAP_SECONDS * 3))
    handed_on, scans = feed(BurstDetector(), keys)
    assert scans == []
    assert handed_on == [*TOKEN, "enter"]


def test_typing_then_a_burst_hands_on_the_typing_and_scans_the_burst():
    person = typed("giulia", gap=TYPIST_GAP, enter=False)
    scanner = typed(TOKEN, gap=SCANNER_GAP, start=person[-1].time + TYPIST_GAP)
    assert feed(BurstDetector(), person + scanner) == (list("giulia"), [TOKEN])


def test_a_burst_right_after_a_persons_last_key_is_still_the_scanners_alone():
    """The person's last key is held when the burst starts; the gap tells it apart."""
    person = typed("gi", gap=TYPIST_GAP, enter=False)
    scanner = typed(TOKEN, gap=SCANNER_GAP, start=person[-1].time + MAX_GAP_SECONDS * 2)
    assert feed(BurstDetector(), person + scanner) == (["g", "i"], [TOKEN])


def test_a_key_that_is_not_a_character_hands_on_what_is_held_before_it():
    keys = [*typed("gi", gap=SCANNER_GAP, enter=False), key("f2", 100.01)]
    assert feed(BurstDetector(), keys) == (["g", "i", "f2"], [])


def test_two_bursts_back_to_back_are_two_scans():
    first = typed(TOKEN, gap=SCANNER_GAP)
    second = typed(TOKEN[::-1], gap=SCANNER_GAP, start=first[-1].time + SCANNER_GAP)
    assert feed(BurstDetector(), first + second) == ([], [TOKEN, TOKEN[::-1]])


def test_a_slow_scanner_at_the_edge_of_the_gap_is_still_a_scan():
    keys = typed(TOKEN, gap=MAX_GAP_SECONDS * 0.9)
    assert feed(BurstDetector(), keys)[1] == [TOKEN]
