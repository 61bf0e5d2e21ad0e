"""Hide rules: a patient's decision, independent of any one record, about what doctors never see.

My Health Bank downloads overlap by design (each covers the past years) and a
file can be uploaded twice, so the same visit, diagnosis or drug sits in many
records. A rule names the item itself, not a record's entry:

- ``visit``: a date and a facility (its NHI code, else its name);
- ``diagnosis``: a code (ICD-10-CM, ICD-9-CM…), compared without dots and case;
- ``drug``: a drug code (NHI first) and its name; either one matching is enough;
- ``item``: an entry's fullUrl (My Health Bank ids are deterministic, so the same
  row has the same fullUrl in every download).

:func:`hidden_entries` is the one place that decides, from the rules and a
bundle, which entries a doctor's copy leaves out. Plain functions, no database.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from ..labels import N_
from ..view import ItemFacts, item_facts

KINDS = ("visit", "diagnosis", "drug", "item")
KIND_LABELS = {"visit": N_("Visit"), "diagnosis": N_("Diagnosis"), "drug": N_("Drug"), "item": N_("Item")}
SUPPORT = ("Organization", "Practitioner", "PractitionerRole")  # hidden only with everything that names them
NEVER_HIDDEN = ("Patient",)
_DRUGS = ("MedicationRequest", "MedicationDispense", "MedicationStatement")


@dataclass(frozen=True)
class Rule:
    """One hide rule. ``value`` is what it matches (see the module docstring); ``label`` what the patient reads."""

    kind: str
    value: str
    label: str
    name: str | None = None  # a drug rule's name, matched when codes differ or are absent

    @property
    def key(self) -> str:
        """The rule's identity (two rules with the same key are one rule)."""
        return f"{self.kind}\x1f{self.value}"

    @property
    def id(self) -> str:
        """A short handle for forms and URLs that says nothing about the item."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "label": self.label, "name": self.name}


class NotHideable(ValueError):
    """The entry cannot be the subject of a rule of that kind."""


def _code(text: str) -> str:
    return text.replace(".", "").strip().upper()


def _name(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def rule_for(bundle: dict, full_url: str, kind: str) -> Rule:
    """The rule that hides the item at ``full_url`` of ``bundle`` wherever it appears, as ``kind`` says.

    Raises :class:`NotHideable` if the entry is not there or is not that kind of item."""
    facts = item_facts(bundle).get(full_url)
    if facts is None:
        raise NotHideable(full_url)
    return rule_from(full_url, facts, kind)


def rule_from(full_url: str, facts: ItemFacts, kind: str) -> Rule:
    """:func:`rule_for` with the entry's facts at hand (``item_facts``)."""
    if kind == "item":
        return Rule("item", full_url, facts.label)
    if kind == "visit" and facts.resource_type == "Encounter" and facts.date and facts.facility:
        return Rule("visit", f"{facts.date}\x1f{facts.facility}", facts.label)
    if kind == "diagnosis" and facts.resource_type == "Condition" and facts.codes:
        return Rule("diagnosis", _code(facts.codes[0]), facts.text)
    if kind == "drug" and facts.resource_type in _DRUGS and (facts.codes or facts.name):
        return Rule("drug", _code(facts.codes[0]) if facts.codes else "", facts.text,
                    _name(facts.name) if facts.name else None)
    raise NotHideable(full_url)


def _matches(rule: Rule, url: str, facts: ItemFacts) -> bool:
    if rule.kind == "item":
        return url == rule.value
    if rule.kind == "visit":
        return facts.resource_type == "Encounter" and f"{facts.date}\x1f{facts.facility}" == rule.value
    if rule.kind == "diagnosis":
        return facts.resource_type == "Condition" and rule.value in {_code(c) for c in facts.codes}
    if rule.kind == "drug" and facts.resource_type in _DRUGS:
        same_code = bool(rule.value) and rule.value in {_code(c) for c in facts.codes}
        return same_code or (rule.name is not None and facts.name is not None and _name(facts.name) == rule.name)
    return False


def places(rules: list[Rule], bundle: dict) -> dict[str, list[tuple[str, str]]]:
    """rule key → (fullUrl, label) of each entry of ``bundle`` the rule names directly."""
    facts = item_facts(bundle)
    return {rule.key: [(url, f.label) for url, f in facts.items() if _matches(rule, url, f)] for rule in rules}


def hidden_entries(rules: list[Rule], bundle: dict) -> set[str]:
    """The fullUrls a doctor's copy of ``bundle`` leaves out under ``rules``.

    Every entry a rule names, and the visits a named diagnosis was recorded in; every
    entry that refers to a hidden one (hiding a visit hides what was recorded in it, and
    a visit that lists a hidden diagnosis); then facilities and practitioners that only
    hidden entries name. The patient entry is never hidden.
    """
    named = {url for urls in places(rules, bundle).values() for url, _ in urls}
    if not named:
        return set()
    entries = [(e["fullUrl"], e["resource"]) for e in bundle.get("entry", [])]
    hidden = named | {ref for url, r in entries if url in named and r["resourceType"] == "Condition"
                      for ref in _references(r.get("encounter"))}
    changed = True
    while changed:
        changed = False
        for url, resource in entries:
            if url not in hidden and resource["resourceType"] not in NEVER_HIDDEN and _references(resource) & hidden:
                hidden.add(url)
                changed = True
    named_by_hidden = set().union(*(_references(r) for url, r in entries if url in hidden))
    named_by_visible = set().union(*(_references(r) for url, r in entries if url not in hidden))
    hidden |= {url for url, r in entries
               if r["resourceType"] in SUPPORT and url in named_by_hidden and url not in named_by_visible}
    return hidden


def _references(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["reference"]} if isinstance(node.get("reference"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(v) for v in node)) if node else set()
    return set()
