"""Linked cases (caseworker_client/linked.py): reports that share an identifier or a place."""

from __future__ import annotations

import pytest

from caseworker_client import normalise
from caseworker_client.linked import link_reports, linking_fields
from protocol import catalogue
from protocol.catalogue import Link
from tests.support.client_cache import decrypted_report


def wide(text: str) -> str:
    """`text` in the full-width forms a Chinese input method types."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_the_catalogue_says_which_fields_link_and_only_identifying_ones_do() -> None:
    links = {f.path: f.links for f in linking_fields()}
    assert links == {
        "identifiers.phones": Link.PHONE,
        "identifiers.accounts": Link.ACCOUNT,
        "identifiers.names": Link.NAME,
        "identifiers.plates": Link.PLATE,
        "where.place": Link.PLACE,
        "who.people": Link.PHONE,
        "who.station_address": Link.PLACE,
    }
    assert all(catalogue.field(path).identifying for path in links)
    assert catalogue.field("where.city").links is Link.NONE  # a city is no shared identity


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"actor_phones": "+86 138 0013 8000"}, {"actor_phones": "0086-138-0013-8000"}),
        ({"actor_phones": "+86 138 0013 8000"}, {"actor_phones": wide("13800138000")}),
        ({"actor_phones": "+31 6 1234 5678"}, {"actor_phones": "06-12345678"}),
        ({"actor_phones": "+86 138 0013 8000"}, {"people": "Mr Wang, called from 13800138000"}),
        ({"actor_accounts": "WeChat: Wang_88"}, {"actor_accounts": "@wang_88"}),
        ({"actor_accounts": "https://t.me/Wang_88"}, {"actor_accounts": wide("wang_88")}),
        ({"actor_names": "Officer LI,  Zhang Wei"}, {"actor_names": "zhang wei"}),
        ({"actor_names": "王伟、李警官"}, {"actor_names": "李警官"}),
        ({"actor_names": "王伟"}, {"actor_names": "王伟 "}),
        ({"actor_plates": "AB-123-C"}, {"actor_plates": "ab 123 c"}),
        ({"actor_plates": "京A·12345"}, {"actor_plates": "京A 12345"}),
        ({"place": {"registry_id": "p1", "name": "Milan station"}},
         {"place": {"text": "MILAN  station"}}),
        ({"station_address": "Via Roma 1, Milano"}, {"station_address": "via roma 1, milano"}),
    ],
)  # fmt: skip
def test_reports_link_across_normalised_forms(one: dict, other: dict) -> None:
    linking = link_reports({"a": decrypted_report(**one), "b": decrypted_report(**other)})
    [link] = linking.links["a"]
    assert link.report == "b" and link.shared
    assert linking.clusters == (("a", "b"),)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"actor_names": "王伟"}, {"actor_names": "王 伟"}),  # Chinese names compare exactly
        ({"actor_phones": "+86 138 0013 8000"}, {"actor_phones": "+31 138 0013 8000"}),
        ({"actor_phones": "110"}, {"actor_phones": "110"}),  # an emergency number, not a person
        ({"actor_phones": "0000000000"}, {"actor_phones": "0000000000"}),
        ({"people": "met on 2025-03-14"}, {"people": "2025-03-14"}),  # a date is no number
        ({"people": "met 2025-03-14 13:00"}, {"people": "2025-03-14 13:30"}),
        ({"people": "on 14.03.2025"}, {"people": "14.03.2025"}),
        ({"actor_names": ""}, {"actor_names": ""}),
        ({"actor_names": "unknown"}, {"actor_names": "Unknown"}),
        ({"actor_names": "不知道"}, {"actor_names": "不知道"}),
        ({"actor_names": "police"}, {"actor_names": "Police"}),
        ({"actor_names": "公安"}, {"actor_names": "公安"}),
        ({"actor_plates": "n/a"}, {"actor_plates": "N/A"}),
        ({"actor_accounts": "-"}, {"actor_accounts": "-"}),
        ({"place": {}}, {"place": {}}),
        ({"city": "Rotterdam"}, {"city": "Rotterdam"}),
    ],
)  # fmt: skip
def test_no_link_on_empty_placeholder_or_different_values(one: dict, other: dict) -> None:
    linking = link_reports({"a": decrypted_report(**one), "b": decrypted_report(**other)})
    assert linking.links == {"a": (), "b": ()}
    assert linking.clusters == ()


def test_each_link_says_what_is_shared_in_both_reports_words() -> None:
    linking = link_reports(
        {
            "a": decrypted_report(actor_phones="+86 138 0013 8000", actor_names="Officer Li"),
            "b": decrypted_report(people="Officer LI from 138-0013-8000"),
        }
    )
    [link] = linking.links["b"]
    [shared] = link.shared  # "Officer LI from …" is not a name field: only the number links
    assert (shared.field, shared.value) == ("who.people", "138-0013-8000")
    assert (shared.other_field, shared.other_value) == ("identifiers.phones", "+86 138 0013 8000")
    assert shared.label == "People or organisations involved"
    assert shared.other_label == "Phone numbers they used"


def test_clusters_join_reports_linked_through_others() -> None:
    documents = {
        "r1": decrypted_report(actor_phones="+86 138 0013 8000"),
        "r2": decrypted_report(actor_phones="13800138000", actor_plates="AB-123-C"),
        "r3": decrypted_report(actor_plates="ab123c"),
        "r4": decrypted_report(actor_accounts="wx_solo"),
        "r5": decrypted_report(actor_accounts="WX_SOLO"),
        "r6": decrypted_report(),
    }
    linking = link_reports(documents)
    assert linking.clusters == (("r1", "r2", "r3"), ("r4", "r5"))
    assert [link.report for link in linking.links["r2"]] == ["r1", "r3"]
    assert linking.links["r6"] == ()
    assert "r3" not in [link.report for link in linking.links["r1"]]  # not directly


def test_a_v1_report_links_by_the_numbers_in_people_involved() -> None:
    v1 = {
        "schema": "reporting/v1", "kind": "report", "narrative": "n", "consent": "none",
        "who": {"people": "Mr Wang, +31 6 1234 5678", "affiliation": "", "station_address": ""},
    }  # fmt: skip
    linking = link_reports({"old": v1, "new": decrypted_report(actor_phones="0612345678")})
    assert [link.report for link in linking.links["old"]] == ["new"]


def test_phone_numbers_are_read_as_written() -> None:
    assert normalise.phone("+86 138 0013 8000") == normalise.Phone("13800138000", "86")
    assert normalise.phone("+1 (415) 555-0100") == normalise.Phone("4155550100", "1")
    assert normalise.phone("00 44 20 7946 0000") == normalise.Phone("2079460000", "44")
    assert normalise.phone("+852 9123 4567") == normalise.Phone("91234567", "852")
    assert normalise.phone("12345") is None
    assert [w for w, _ in normalise.phones_in("call 138 0013 8000 or +32 470 12 34 56")] == [
        "138 0013 8000",
        "+32 470 12 34 56",
    ]
