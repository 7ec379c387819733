"""The reporting/v2 vocabulary of transnational repression: what was done, by whom, how.

Stable codes (stored in documents and counted by statistics), English labels
marked for translation. The methods follow those that investigations of
overseas "police service stations" and of transnational repression describe
again and again, so caseworkers can count and compare them instead of reading
them out of free text. Every one of these fields is optional.
"""

from __future__ import annotations

from protocol.fields import N_, Choice, Field, Kind, Link

SECTION = N_("What they did")

METHODS = Field(
    "methods",
    Kind.MULTIPLE,
    N_("What did they do?"),
    N_("Choose all that apply. You can also leave this empty."),
    form_name="methods",
    choices=(
        Choice("agents_contact", N_("Contact by home-country police or agents abroad")),
        Choice("summons_or_tea", N_("A summons or a “tea” talk, by phone or video")),
        Choice("pressure_to_return", N_("Pressure to return to the home country")),
        Choice("threats_to_relatives", N_("Threats against relatives")),
        Choice(
            "relatives_punished",
            N_(
                "Relatives questioned, detained or punished (job, pension, schooling, "
                "property, passport)"
            ),
        ),
        Choice("own_documents_refused", N_("My passport or other documents refused")),
        Choice("relatives_exit_ban", N_("Relatives banned from leaving the country")),
        Choice("followed", N_("Being watched, followed or photographed")),
        Choice("informing", N_("Pressure to inform on others")),
        Choice("online", N_("Online harassment, impersonation or hacking attempts")),
        Choice("assault", N_("Physical assault or an attempted abduction")),
        Choice("third_country_lure", N_("Being lured to a third country")),
        Choice("interpol", N_("An Interpol notice or an extradition request")),
        Choice(
            "association_or_station",
            N_(
                "Pressure through a hometown or community association, or an overseas "
                "“police service station”"
            ),
        ),
        Choice("other", N_("Something else")),
    ),
    anonymised=True,
    counted=True,
    title="What they did",
    section=SECTION,
    since=2,
)
ACTORS = Field(
    "actors",
    Kind.MULTIPLE,
    N_("Who did it?"),
    N_("Choose all that apply, or “I do not know”."),
    form_name="actors",
    choices=(
        Choice("home_police", N_("Police from the home country")),
        Choice("state_security", N_("State security")),
        Choice("united_front", N_("United front bodies")),
        Choice("embassy", N_("Embassy or consulate staff")),
        Choice("association", N_("A hometown or community association")),
        Choice("service_station", N_("An overseas “police service station”")),
        Choice("relatives_under_pressure", N_("Relatives acting under pressure")),
        Choice("unknown", N_("I do not know")),
    ),
    anonymised=True,
    counted=True,
    title="Who did it",
    section=SECTION,
    since=2,
)
POLICE_PLACE = Field(
    "police_place",
    Kind.TEXT,
    N_("If it was police: which city or province"),
    N_("For example: Fuzhou, or Xinjiang."),
    form_name="police_place",
    identifying=True,  # a hometown's police narrows down who the reporter is
    section=SECTION,
    since=2,
)
CONTACT = Field(
    "contact",
    Kind.MULTIPLE,
    N_("How did they contact you?"),
    N_("Choose all that apply."),
    form_name="contact",
    choices=(
        Choice("in_person", N_("In person")),
        Choice("phone", N_("Phone call")),
        Choice("video_call", N_("Video call")),
        Choice("messaging_app", N_("A messaging app")),
        Choice("social_media", N_("Social media")),
        Choice("through_relatives", N_("Through relatives")),
        Choice("letters", N_("Letters or documents")),
    ),
    anonymised=True,
    counted=True,
    title="How they made contact",
    section=SECTION,
    since=2,
)
CONTACT_APP = Field(
    "contact_app",
    Kind.TEXT,
    N_("Which messaging app"),
    N_("For example: WeChat, WhatsApp, Telegram."),
    form_name="contact_app",
    anonymised=True,
    section=SECTION,
    since=2,
)
DEMANDS = Field(
    "demands",
    Kind.MULTIPLE,
    N_("What did they demand?"),
    N_("Choose all that apply."),
    form_name="demands",
    choices=(
        Choice("return_home", N_("Return home")),
        Choice("stop_speaking", N_("Stop speaking out")),
        Choice("inform", N_("Inform on others")),
        Choice("hand_over", N_("Hand over information or documents")),
        Choice("delete_posts", N_("Delete posts")),
        Choice("pay", N_("Pay money")),
        Choice("meet", N_("Meet someone")),
    ),
    anonymised=True,
    counted=True,
    title="What they demanded",
    section=SECTION,
    since=2,
)
DEADLINE = Field(
    "deadline",
    Kind.DATE,
    N_("Did they give a deadline?"),
    N_("The date they gave, such as 2025-03-14, if any."),
    form_name="deadline",
    anonymised=True,
    section=SECTION,
    since=2,
)

FAMILY_HARMS = Field(
    "family.harms",
    Kind.MULTIPLE,
    N_("What was done to them"),
    N_("Choose all that apply."),
    form_name="harms",
    choices=(
        Choice("questioned", N_("Questioned or visited by police")),
        Choice("detained", N_("Detained")),
        Choice("threatened", N_("Threatened")),
        Choice("job", N_("Lost a job or a promotion")),
        Choice("pension", N_("Pension stopped or cut")),
        Choice("schooling", N_("Children refused schooling")),
        Choice("property", N_("Property seized or threatened")),
        Choice("passport", N_("Passport taken or refused")),
        Choice("exit_ban", N_("Banned from leaving the country")),
        Choice("made_to_pressure", N_("Made to contact me or to pressure me")),
        Choice("other", N_("Something else")),
    ),
    anonymised=True,
    counted=True,
    title="What was done to relatives",
    since=2,
)

# Each identifier in its own field, so the caseworker's client can link reports about the
# same people later, on the caseworker's machine (never on the server).
IDENTIFIERS = Field(
    "identifiers",
    Kind.GROUP,
    N_("What identifies them"),
    section=N_("What identifies them"),
    section_help=N_(
        "Each in its own box, so that caseworkers can link reports about the same people. "
        "Leave empty what you do not know."
    ),
    title="Identifiers of the people who acted",
    since=2,
    fields=(
        Field(
            "identifiers.phones",
            Kind.TEXT,
            N_("Phone numbers they used"),
            N_("As they appeared, separated by commas."),
            form_name="actor_phones",
            identifying=True,
            links=Link.PHONE,
        ),
        Field(
            "identifiers.accounts",
            Kind.TEXT,
            N_("Messaging or social media accounts"),
            N_("For example: a WeChat ID or a Telegram username."),
            form_name="actor_accounts",
            identifying=True,
            links=Link.ACCOUNT,
        ),
        Field(
            "identifiers.names",
            Kind.TEXT,
            N_("Names or titles they gave"),
            N_("For example: “Officer Li” or “from the public security bureau”."),
            form_name="actor_names",
            identifying=True,
            links=Link.NAME,
        ),
        Field(
            "identifiers.plates",
            Kind.TEXT,
            N_("Vehicle number plates"),
            N_("Of cars they used or that followed you."),
            form_name="actor_plates",
            identifying=True,
            links=Link.PLATE,
        ),
    ),
)

V2_FIELDS = (
    METHODS,
    ACTORS,
    POLICE_PLACE,
    CONTACT,
    CONTACT_APP,
    DEMANDS,
    DEADLINE,
    IDENTIFIERS,
)

# What each v1 category says in the v2 vocabulary, for v1 reports upgraded in memory.
# "livelihood" (threats to job, residency or property) has no method of its own.
V1_CATEGORY_METHODS = {
    "family_threatened": "threats_to_relatives",
    "pressure_to_return": "pressure_to_return",
    "police_station": "association_or_station",
    "surveillance": "followed",
    "online": "online",
    "relatives_detained": "relatives_punished",
    "livelihood": "other",
    "other": "other",
}
