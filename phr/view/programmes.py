"""Care programmes (EpisodeOfCare: DM, early CKD, hepatitis B/C…) with their follow-up visits."""
from __future__ import annotations

from dataclasses import dataclass

from .fhir import Source, _anchor, _concept_text, _date_text, _dict, _join, _latest, _list, _str
from .labs import Lab, lab_of


@dataclass(frozen=True)
class FollowUp:
    key: str
    anchor: str
    date: str | None
    label: str | None
    values: tuple[Lab, ...]


@dataclass(frozen=True)
class Programme:
    """A care-programme episode (DM, early CKD, hepatitis B/C…) with its follow-up visits, latest first."""

    key: str
    name: str
    status: str | None
    start: str | None
    end: str | None
    facility: str | None
    follow_ups: tuple[FollowUp, ...]
    record_id: str | None = None
    author: str | None = None


def read_programmes(src: Source) -> tuple[list[Programme], set[str]]:
    """Programme episodes latest first, and the follow-up encounters they show (kept out of the results)."""
    follow_ups: dict[str, list[tuple[str, dict]]] = {}
    for key, encounter in src.visible("Encounter"):
        for ref in _list(encounter.get("episodeOfCare")):
            if episode_key := src.index.key_of(ref, encounter):
                follow_ups.setdefault(episode_key, []).append((key, encounter))
    values: dict[str, list[Lab]] = {}
    for key, observation in src.visible("Observation"):
        enc_key = src.index.key_of(observation.get("encounter"), observation)
        if enc_key:
            values.setdefault(enc_key, []).append(lab_of(src, key, observation, None))
    programmes = []
    shown_encounters = set()
    for key, episode in src.visible("EpisodeOfCare"):
        items = []
        for enc_key, encounter in follow_ups.get(key, []):
            shown_encounters.add(enc_key)
            items.append(FollowUp(
                enc_key, _anchor("visit", enc_key), _date_text(_dict(encounter.get("period")).get("start")),
                _join(_concept_text(t) for t in _list(encounter.get("type"))),
                tuple(sorted(values.get(enc_key, []), key=lambda lab: (lab.name, lab.key))),
            ))  # fmt: skip
        period = _dict(episode.get("period"))
        name = _join(_concept_text(t) for t in _list(episode.get("type"))) or ""
        programmes.append(Programme(
            key, name, _str(episode.get("status")), _date_text(period.get("start")), _date_text(period.get("end")),
            src.index.party(episode.get("managingOrganization"), episode),
            tuple(_latest(items, lambda f: f.date)), **src.tag(),
        ))  # fmt: skip
    return _latest(programmes, lambda p: p.start), shown_encounters
