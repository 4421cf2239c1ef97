"""The single source of truth for every model parameter.

Each parameter is a field of the frozen :class:`Params` model and carries

* a **unit** and a **default**;
* hard **validity bounds** (``ge``/``le``): values outside them are refused;
* a **plausible range**: the range a sensitivity analysis explores by default;
* a one-line **description** and a **source note** pointing into the seed document
  (``../shared/seed``, Dutch, 2018; quoted by its Dutch key words so it can be searched) or
  naming the modelling convention or assumption behind the value;
* a **group** and whether it is one of the **success factors** of model-spec section 7.

Scenario files override any subset of these fields; unknown fields and wrong types are refused
(``extra="forbid"``, ``strict=True``).  Nothing in this module reads files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEED = "seed document (Terra / Gebiedscooperatie Westerkwartier, 2018)"


def param(
    default: float | int,
    *,
    unit: str,
    plausible: tuple[float, float],
    description: str,
    source: str,
    group: str,
    ge: float | None = None,
    le: float | None = None,
    factor: bool = False,
) -> Any:
    """Declare one parameter: a pydantic ``Field`` with its metadata in ``json_schema_extra``."""
    return Field(
        default,
        ge=ge,
        le=le,
        description=description,
        json_schema_extra={
            "unit": unit,
            "plausible": list(plausible),
            "source": source,
            "group": group,
            "success_factor": factor,
        },
    )


class Params(BaseModel):
    """All parameters of one model run.  Frozen; unknown fields and wrong types are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, validate_default=True)

    # ----------------------------------------------------------------------------- simulation
    horizon_months: int = param(
        120, unit="months", plausible=(60, 180), ge=12, le=600, group="simulation",
        description="Simulated time; month 0 is a September (start of a school year).",
        source="model-spec section 2: default horizon 10 years, monthly steps",
    )
    initial_pilots: int = param(
        3, unit="pilots", plausible=(1, 6), ge=0, le=50, group="simulation",
        description="Pilots proposed at the start and funded by the running programme.",
        source=f"{SEED}: three pilots (Cowcept, Smart Farming, Samen in het groen) under RIF 2014",
    )
    initial_room_granted: float = param(
        0.0, unit="probability", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="simulation",
        description="Chance that a pilot on the table at the start already has the school's room (teachers' time) "
        "for its first run, arranged by the programme that funds it; otherwise it asks the school month by month.",
        source=f"{SEED}, Smart Farming: 'het traject werd opgezet in samenwerking tussen de ondernemers (eigenaren "
        "van een loonbedrijf) en de Innovatiewerkplaats in Noordhorn'; RIF 2014: 'Aan de hand van een aantal "
        "praktijkprojecten zou deze coöperatieve organisatievorm in de school worden geïntegreerd'; default 0 "
        "(Cowcept: 'de docenten kregen van de toenmalige interim-directie niet voldoende ruimte')",
    )

    # ----------------------------------------------------------------------------- management
    management_turnover_rate: float = param(
        0.15, unit="director changes/year", plausible=(0.05, 1.5), ge=0.0, le=12.0,
        group="management", factor=True,
        description="Hazard of a director change in the calm regime, while a permanent director is in office.",
        source=f"{SEED}, versnellers 'Probeer te veel personele wisselingen te voorkomen'; with the turbulent "
        "regime the long-run mean is about model v1's 0.35/year",
    )
    turbulent_turnover_rate: float = param(
        1.5, unit="director changes/year", plausible=(0.5, 3.0), ge=0.0, le=12.0,
        group="management",
        description="Hazard of a director change in the turbulent regime, while a permanent director is in office.",
        source=f"{SEED}, ch. 3 'Er hebben binnen een kort tijdsbestek (te) veel wijzigingen in het management "
        "plaatsgevonden. Daardoor kon geen continuïteit ontstaan'",
    )
    turbulence_onset_rate: float = param(
        0.15, unit="1/year", plausible=(0.0, 0.5), ge=0.0, le=12.0, group="management",
        description="Rate at which a calm school enters a turbulent period (mergers, reorganisations).",
        source=f"{SEED}, ch. 3 'In de scholen heeft de afgelopen jaren een veelheid aan veranderingen "
        "plaatsgevonden'; value an assumption (about one turbulent period in seven years)",
    )
    turbulence_end_rate: float = param(
        1.0, unit="1/year", plausible=(0.3, 3.0), ge=0.0, le=12.0, group="management",
        description="Rate at which a turbulent period ends (mean length 1 / rate years).",
        source=f"{SEED}, ch. 3 'binnen een kort tijdsbestek'; value an assumption (turbulence lasts about a year)",
    )
    turbulent_at_start: float = param(
        1.0, unit="probability", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="management",
        description="Chance the school is in a turbulent period when the simulation starts (September 2015).",
        source=f"{SEED}, Smart Farming (spring 2016): 'Dit was voor een groot deel te wijten aan een wisseling in "
        "de directievoering'",
    )
    interim_length_months: float = param(
        6.0, unit="months", plausible=(0.0, 18.0), ge=0.0, le=60.0,
        group="management", factor=True,
        description="Mean length of the interim period (decision vacuum) after a director leaves.",
        source=f"{SEED}, Cowcept: 'kortstondige interim-directievoerders'; Smart Farming: 'Tevens ontstaat er een vacuüm in beleid, strategie, uitvoering en projectleiderschap'",
    )
    director_commitment_mean: float = param(
        0.6, unit="0-1", plausible=(0.3, 0.9), ge=0.0, le=1.0, group="management",
        description="Mean commitment to the regional strategy of a newly appointed director.",
        source=f"{SEED}, Cowcept: 'zag de toenmalige Terra-directeur in Groningen de meerwaarde van een dergelijke samenwerking duidelijk voor zich'",
    )
    director_onboarding_months: float = param(
        12.0, unit="months", plausible=(3.0, 24.0), ge=0.0, le=120.0, group="management",
        description="Months a new director needs to know and carry the regional strategy (linear onboarding).",
        source=f"{SEED}, Cowcept: 'de reikwijdte van dit programma nooit helemaal is doorgedrongen bij bestuur en management'",
    )
    director_commitment_spread: float = param(
        0.25, unit="0-1 (sd)", plausible=(0.05, 0.4), ge=0.0, le=1.0, group="management",
        description="Standard deviation of a new director's commitment (clipped to 0-1).",
        source="assumption: directors differ widely in their view of regional work",
    )
    internal_communication: float = param(
        0.35, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="management", factor=True,
        description="Quality of communication inside the school; scales strategy transfer.",
        source=f"{SEED}, Smart Farming: 'de interne en externe communicatie verliepen stroef'",
    )
    strategy_transfer_speed: float = param(
        0.25, unit="1/month", plausible=(0.05, 0.5), ge=0.0, le=1.0, group="management",
        description="Share of the gap to the director's commitment closed per month at perfect communication.",
        source="assumption: with good communication a strategy reaches teachers within about a school year",
    )
    strategy_loss_at_director_change: float = param(
        0.5, unit="share", plausible=(0.2, 0.8), ge=0.0, le=1.0, group="management",
        description="Share of middle managers' and teachers' unembedded commitment lost when the director leaves.",
        source=f"{SEED}, Smart Farming: 'er is geen lijn van het CvB naar regiodirecteuren en naar docenten'",
    )
    initial_embedding: float = param(
        0.15, unit="0-1", plausible=(0.0, 0.8), ge=0.0, le=1.0, group="management", factor=True,
        description="Initial embedding of the regional approach in policy, middle management and curriculum.",
        source=f"{SEED}, ch. 3 'nog niet voldoende ingebed in de organisatie'",
    )
    embedding_gain_per_run: float = param(
        0.12, unit="share of gap per run", plausible=(0.02, 0.3), ge=0.0, le=1.0, group="management",
        description="Share of the gap to full embedding closed by one good, committed school-run pilot run.",
        source="assumption, after March (1991): exploitation of repeated routines builds organisational memory",
    )
    embedding_erosion_per_year: float = param(
        0.15, unit="share/year", plausible=(0.0, 0.4), ge=0.0, le=1.0, group="management",
        description="Yearly loss of embedding while the school runs no pilot of its own (neglect).",
        source="assumption, after March (1991): unused routines are forgotten",
    )
    external_stress: float = param(
        0.3, unit="0-1", plausible=(0.0, 0.8), ge=0.0, le=1.0, group="management", factor=True,
        description="Pressure from inspection, sector bodies and parents that saps energy for complex processes.",
        source=f"{SEED}, ch. 3 'brancheorganisaties als LTO, ouders of inspectie externe stress'",
    )

    # ----------------------------------------------------------------------------- teachers
    teacher_count: int = param(
        10, unit="teachers", plausible=(4, 30), ge=1, le=500, group="teachers",
        description="Teachers available as coaches for regional learning.",
        source=f"{SEED}, ch. 3 'er zijn coaches aanwezig voor Regioleren'; Cowcept ran with two teachers",
    )
    teacher_turnover_rate: float = param(
        0.1, unit="departures/teacher/year", plausible=(0.02, 0.3), ge=0.0, le=12.0,
        group="teachers", factor=True,
        description="Yearly hazard that a teacher leaves, taking ties and tacit knowledge along.",
        source=f"{SEED}, versnellers 'probeer te veel personele wisselingen te voorkomen'",
    )
    teacher_expertise_mean: float = param(
        0.4, unit="0-1", plausible=(0.2, 0.7), ge=0.0, le=1.0, group="teachers",
        description="Mean expertise of a teacher in the pilots' themes (new teachers start here).",
        source=f"{SEED}, Smart Farming: 'een school alleen kan zulke ontwikkelingen niet bijhouden'",
    )
    coaching_capacity: float = param(
        9.0, unit="students/coach", plausible=(4.0, 18.0), ge=1.0, le=100.0,
        group="teachers", factor=True,
        description="Students one coach can guide well in a pilot run.",
        source=f"{SEED}: Smart Farming 18 students with one teacher; Cowcept two teachers",
    )

    # ----------------------------------------------------------------------------- funding
    cost_per_run_eur: float = param(
        10_000.0, unit="EUR/run", plausible=(3_000.0, 30_000.0), ge=0.0, le=1e7, group="funding",
        description="External cost of one pilot run (external experts, materials).",
        source=f"{SEED}, Cowcept: 'circa 10.000 euro out of pocket' for the external expert",
    )
    subsidy_duration_months: float = param(
        12.0, unit="months", plausible=(6.0, 48.0), ge=0.0, le=240.0, group="funding", factor=True,
        description="How long an awarded subsidy pays.",
        source=f"{SEED}, Cowcept: RIF paid the first run only, 'voor de tweede doorloop ... door Terra'",
    )
    subsidy_share: float = param(
        1.0, unit="share of run cost", plausible=(0.25, 1.0), ge=0.0, le=1.0, group="funding", factor=True,
        description="Share of a run's cost the subsidy pays while it lasts.",
        source=f"{SEED}, Cowcept: 'een bijdrage aan externe middelen voor de eerste doorloop gereserveerd'",
    )
    call_interval_months: int = param(
        12, unit="months", plausible=(6, 24), ge=1, le=120, group="funding",
        description="Time between subsidy calls of the funding programmes.",
        source="assumption: yearly rounds, as for RIF MBO (first round 2014) and SNN calls",
    )
    application_success_rate: float = param(
        0.5, unit="probability", plausible=(0.2, 0.9), ge=0.0, le=1.0, group="funding",
        description="Chance that an application for a regular (simple or complicated) pilot is granted.",
        source="assumption: about half of regional MBO applications are granted",
    )
    network_proposal_fit: float = param(
        0.3, unit="0-1", plausible=(0.1, 1.0), ge=0.0, le=1.0, group="funding",
        description="Relative success of proposals for complex, network-building pilots.",
        source=f"{SEED}, Cowcept: community proposals at SNN 'allemaal afgewezen'",
    )
    municipal_participation_budget_eur: float = param(
        0.0, unit="EUR/year", plausible=(0.0, 100_000.0), ge=0.0, le=1e8, group="funding", factor=True,
        description="Municipal participation-job budget available to adult (LLO) pilot runs.",
        source=f"{SEED}, Samen in het groen: 'de gemeente investeert haar budget voor participatiebanen'",
    )
    school_innovation_budget_eur: float = param(
        25_000.0, unit="EUR/year", plausible=(0.0, 60_000.0), ge=0.0, le=1e8, group="funding",
        description="The school's yearly budget that could pay for pilot runs.",
        source=f"{SEED}, Cowcept: 'in principe heeft een school voldoende middelen', re-labelling needed",
    )
    school_cofunding_willingness: float = param(
        0.5, unit="0-1", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="funding", factor=True,
        description="Share of its innovation budget left the school is willing to put into a run's cost.",
        source=f"{SEED}, Cowcept: 'Terra heeft dit eenmalig voor haar rekening genomen'",
    )
    clarity_of_financial_agreements: float = param(
        0.3, unit="0-1", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="funding", factor=True,
        description="How clearly partners agreed who pays what; unclear agreements lose up to 40% of private money.",
        source=f"{SEED}, Smart Farming: 'Duidelijke financiële afspraken: wie betaalt wat en hoeveel mag het mag kosten?'",
    )

    # ----------------------------------------------------------------------------- cooperative
    agenda_strength: float = param(
        0.5, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="cooperative", factor=True,
        description="Strength of the shared regional agenda: turns questions into pilots and anchors interest.",
        source=f"{SEED}, versnellers 'Start met een centrale agenda' ... 'Houd het gesprek over de agenda levendig'",
    )
    meeting_interval_months: float = param(
        3.0, unit="months", plausible=(1.0, 12.0), ge=0.5, le=60.0, group="cooperative", factor=True,
        description="Time between community meetings convened by the cooperative.",
        source=f"{SEED}: the Kenniswerkplaats Valthermond, 'Hier komt om de drie weken een vaste werkgroep bij "
        "elkaar'; the cooperative's own quarterly rhythm is an assumption",
    )
    monitoring_level: float = param(
        0.0, unit="probability/month", plausible=(0.0, 0.9), ge=0.0, le=1.0, group="cooperative", factor=True,
        description="Monthly chance that the cooperative's monitoring notices a troubled pilot.",
        source=f"{SEED}, ch. 5 (starting point) 'Zowel binnen de kennisinstellingen als in de regio en de lerende community "
        "geen monitoring en kwaliteitsborging'; the accelerator 'Monitoring is geen overbodig aanhangsel' is a policy",
    )
    intervention_readiness: float = param(
        0.2, unit="probability", plausible=(0.0, 0.9), ge=0.0, le=1.0, group="cooperative", factor=True,
        description="Chance that the cooperative intervenes once it has noticed trouble.",
        source=f"{SEED}, Smart Farming: 'een faciliterende partij die vroegtijdig ingrijpt'",
    )
    reflection_rate: float = param(
        0.05, unit="share of gap per faded pilot", plausible=(0.0, 0.3), ge=0.0, le=1.0, group="cooperative",
        description="After a started pilot fades, the cooperative's readiness to intervene and the clarity it "
        "insists on for new pilots close this share of their gap to 1.",
        source=f"{SEED}, versnellers 'Monitoring en onderzoek moeten een vinger aan de pols leggen en reflecteren op "
        "het systeem'; baseline low: ch. 5 (starting point) 'Reflectie & reflexiviteit alleen impliciet'",
    )
    cooperative_budget_eur: float = param(
        10_000.0, unit="EUR/year", plausible=(0.0, 40_000.0), ge=0.0, le=1e8, group="cooperative",
        description="The cooperative's own yearly money for facilitation and interventions.",
        source=f"{SEED}: Smart Farming: the cooperative 'in het voortraject veel in de voorbereiding heeft geïnvesteerd'; members co-fund",
    )
    intervention_cost_eur: float = param(
        1_500.0, unit="EUR/intervention", plausible=(500.0, 5_000.0), ge=0.0, le=1e6, group="cooperative",
        description="Cost of one mediation (clarifying money, restoring commitment).",
        source="assumption: a few days of a facilitator's time",
    )
    max_active_pilots: int = param(
        5, unit="pilots", plausible=(2, 10), ge=1, le=100, group="cooperative",
        description="Pilots the cooperative can facilitate at once.",
        source="assumption: a small cooperative office",
    )

    # ----------------------------------------------------------------------------- network
    initial_physical_proximity: float = param(
        0.5, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="network", factor=True,
        description="Physical proximity of new ties (shared location, seeing each other often).",
        source=f"{SEED}, versnellers 'fysieke nabijheid'",
    )
    initial_cognitive_proximity: float = param(
        0.4, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="network", factor=True,
        description="Cognitive proximity of new ties (accessible, shared knowledge).",
        source=f"{SEED}, versnellers 'mentale en cognitieve nabijheid'; Boschma (2005)",
    )
    initial_organisational_proximity: float = param(
        0.3, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="network", factor=True,
        description="Organisational proximity of new ties (understanding each other's culture).",
        source=f"{SEED}, versnellers 'organisatorische nabijheid'; Boschma (2005)",
    )
    initial_social_proximity: float = param(
        0.4, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="network", factor=True,
        description="Social proximity of new ties (personal relations, shared networks).",
        source=f"{SEED}, versnellers 'sociale nabijheid'; Boschma (2005)",
    )
    meeting_tie_gain: float = param(
        0.1, unit="share of gap/meeting", plausible=(0.02, 0.3), ge=0.0, le=1.0, group="network",
        description="Share of the distance to full proximity closed at one meeting.",
        source="SKIN (Gilbert, Pyka & Ahrweiler 2001): partnering strengthens ties with use",
    )
    meeting_table_size: int = param(
        6, unit="people", plausible=(3, 12), ge=2, le=1_000_000, group="network",
        description="Most people who talk together at a community meeting: attendees sit at tables of at most "
        "this many (the people of one pilot together) and ties grow only between people at the same table.",
        source=f"{SEED}: the Kenniswerkplaats's 'vaste werkgroep' in which every partner is represented; "
        "Dunbar (1998): a support clique of about 5 people; free conversations rarely hold more than four "
        "(Dunbar, Duncan & Nettle 1995); value an assumption (model v2: everyone with everyone)",
    )
    tie_drop_strength: float = param(
        0.25, unit="0-1", plausible=(0.0, 0.3), ge=0.0, le=1.0, group="network",
        description="Strength below which a tie is forgotten at the monthly decay (0: ties are never dropped).",
        source="Burt (2000), 'Decay functions', Social Networks 22: most new ties decay within a few years "
        "unless they are used; value = active_tie_threshold (a tie no longer active is no longer kept up)",
    )
    tie_decay_per_month: float = param(
        0.02, unit="share/month", plausible=(0.0, 0.1), ge=0.0, le=1.0, group="network",
        description="Monthly loss of social and cognitive proximity of a tie.",
        source="Carley (1992): unused relations weaken; SKIN partner decay",
    )

    # ----------------------------------------------------------------------------- entrepreneurs
    entrepreneur_count: int = param(
        12, unit="firms", plausible=(3, 30), ge=0, le=1000, group="entrepreneurs", factor=True,
        description="Entrepreneurs in the region's network who can raise questions and join pilots.",
        source=f"{SEED}: vets, a contractor, three gardeners, a temp agency; 'meer betrokken ondernemers'",
    )
    entrepreneur_engagement: float = param(
        0.6, unit="0-1", plausible=(0.2, 0.9), ge=0.0, le=1.0, group="entrepreneurs", factor=True,
        description="Mean initial commitment of an entrepreneur to a pilot it joins.",
        source=f"{SEED}: partners 'enthousiast over de testloop'",
    )
    entrepreneur_patience_months: float = param(
        6.0, unit="months", plausible=(2.0, 18.0), ge=0.0, le=120.0, group="entrepreneurs",
        description="Months of an unresponsive school an entrepreneur tolerates before disengaging.",
        source=f"{SEED}, Cowcept: 'dat hij ook met een ander AOC kon gaan samenwerken'",
    )
    question_rate_per_year: float = param(
        0.3, unit="questions/firm/year", plausible=(0.05, 1.0), ge=0.0, le=12.0, group="entrepreneurs",
        description="Rate at which an entrepreneur brings a knowledge question to the cooperative.",
        source=f"{SEED}: with its members the cooperative: 'Ze verzamelen innovatievragen van ondernemers'; value an assumption",
    )
    complex_question_share: float = param(
        0.2, unit="share", plausible=(0.0, 0.4), ge=0.0, le=1.0, group="entrepreneurs", factor=True,
        description="Share of questions that are complex (network-building, year-long, poorly fundable).",
        source=f"{SEED}, ch. 5 (starting point) 'Vragen zijn deels wel complex, maar complexiteit is nog niet expliciet'",
    )
    simple_question_share: float = param(
        0.6, unit="share", plausible=(0.4, 0.8), ge=0.0, le=1.0, group="entrepreneurs",
        description="Share of questions that are simple (one-semester pilots); the rest are complicated.",
        source=f"{SEED}, ch. 5 (starting point) 'Groot deel van de vraagstukken is (nog) enkelvoudig'",
    )
    entrepreneur_willingness_to_pay_eur: float = param(
        2_000.0, unit="EUR/firm/run", plausible=(0.0, 8_000.0), ge=0.0, le=1e7, group="entrepreneurs",
        description="What a committed firm will pay towards one run when agreements are clear.",
        source=f"{SEED}, Smart Farming: 'de ondernemer de expertise en de locatie'",
    )
    hiring_demand_per_year: float = param(
        0.5, unit="hires/firm/year", plausible=(0.0, 3.0), ge=0.0, le=100.0, group="entrepreneurs",
        description="Graduates a firm wants to hire per year; meeting future staff raises its commitment.",
        source=f"{SEED}: Samen in het groen: the gardeners 'maken tijdens de opleiding alvast kennis met hun toekomstige medewerkers'",
    )

    # ----------------------------------------------------------------------------- students
    bol_intake_per_year: int = param(
        30, unit="students/year", plausible=(10, 60), ge=0, le=10_000, group="students",
        description="Full-time (BOL) intake of the programmes the pilots serve, at month 0.",
        source="assumption: one green MBO location's relevant programmes",
    )
    bbl_intake_per_year: int = param(
        10, unit="students/year", plausible=(0, 30), ge=0, le=10_000, group="students",
        description="Work-based (BBL) intake of those programmes at month 0.",
        source="assumption; BBL is the smaller track",
    )
    llo_fee_eur_per_learner: float = param(
        750.0, unit="EUR/learner/run", plausible=(0.0, 2_500.0), ge=0.0, le=1e6, group="funding",
        description="Fee an adult (LLO) learner brings the provider of one run.",
        source=f"{SEED}, Smart Farming: 'meer (BBL)cursisten en LLO-deelnemers uit de regio'; value an assumption",
    )
    student_funding_eur_per_year: float = param(
        6_000.0, unit="EUR/student/year", plausible=(4_000.0, 9_000.0), ge=0.0, le=1e6, group="funding",
        description="Per-student funding a school receives for one extra BOL/BBL student for a year.",
        source=f"{SEED}, Smart Farming: 'Daardoor kan de school meer BOL-leerlingen trekken'; value an assumption "
        "(order of the Dutch MBO per-student funding)",
    )
    adult_learners_per_run: int = param(
        8, unit="learners/run", plausible=(4, 20), ge=0, le=1000, group="students",
        description="Adult (LLO) learners in one adult pilot run.",
        source=f"{SEED}, Samen in het groen: a mixed group of adults 27-61 years",
    )
    demographic_trend: float = param(
        -0.02, unit="share/year", plausible=(-0.06, 0.02), ge=-0.5, le=0.5, group="students", factor=True,
        description="Yearly relative change of intake from demography (negative: krimp).",
        source=f"{SEED}, ch. 3 'zit het initiële mbo-onderwijs in een krimpstand'",
    )
    student_autonomy: float = param(
        0.6, unit="0-1", plausible=(0.1, 0.9), ge=0.0, le=1.0, group="students", factor=True,
        description="How freely students pick assignments instead of regional-agenda items.",
        source=f"{SEED}, Regioleren: studenten 'vrij hun opdrachten kunnen kiezen'",
    )
    elective_draw_share: float = param(
        0.1, unit="share of intake", plausible=(0.0, 0.3), ge=0.0, le=1.0, group="students",
        description="Share of intake who would choose the school for a distinctive elective.",
        source=f"{SEED}, Cowcept: 'studenten zich speciaal vanwege dit keuzedeel bij Terra hadden ingeschreven'",
    )
    revival_student_threshold: int = param(
        3, unit="students", plausible=(1, 10), ge=1, le=1000, group="students",
        description="Students enrolled for a faded elective that make the school seek contact again.",
        source=f"{SEED}, Cowcept: 'wordt er nu opnieuw contact gezocht met de dierenartsen'",
    )
    adult_pilot_share: float = param(
        0.3, unit="share", plausible=(0.0, 0.7), ge=0.0, le=1.0, group="students",
        description="Share of new pilots aimed at adult (LLO) learners rather than initial students.",
        source=f"{SEED}: Samen in het groen and Smart Farming's follow-up trained adults",
    )

    # ----------------------------------------------------------------------------- region
    outside_provider_presence: float = param(
        0.4, unit="probability", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="region", factor=True,
        description="Chance the school group's own adult arm (Terra Next) is ready to run or take on a pilot.",
        source=f"{SEED}, Smart Farming: 'een afspraak gemaakt tussen Terra Next, het loonbedrijf en een (coöperatief!) "
        "agrarisch uitzendbureau'",
    )
    firm_provider_presence: float = param(
        0.2, unit="probability", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="region",
        description="Chance a firm-led provider (a firm with a temp agency) takes over a pilot nobody else runs.",
        source=f"{SEED}, Smart Farming: 'Het uitzendbureau zorgt voor kandidaten voor nascholing'; value an assumption",
    )
    rival_school_presence: float = param(
        0.3, unit="probability", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="region", factor=True,
        description="Chance a rival school is ready to take over a pilot the school drops.",
        source=f"{SEED}, Smart Farming: 'als Terra de bal niet intrapt, neemt Nordwin hem over'",
    )

    # ----------------------------------------------------------------------------- continuation
    structural_runs_required: int = param(
        3, unit="runs", plausible=(2, 5), ge=1, le=50, group="continuation",
        description="School-run runs needed before a pilot can become structural.",
        source="assumption: a programme is regular once it has run for a full cohort cycle",
    )
    structural_embedding_threshold: float = param(
        0.5, unit="0-1", plausible=(0.3, 0.8), ge=0.0, le=1.0, group="continuation",
        description="Curriculum embedding at which a repeatedly run pilot becomes structural.",
        source=f"{SEED}, ch. 3 'nieuwe kennis niet altijd ingebed in het curriculum'",
    )

    # ----------------------------------------------------------------------------- the decision (issue 11)
    # The school's will to continue a pilot is a weighted mean of what the partners weigh (see
    # Pilot.school_will); the weights are relative (only their ratios matter).
    will_weight_commitment: float = param(
        0.3, unit="relative weight", plausible=(0.0, 1.0), ge=0.0, le=10.0, group="decision",
        description="Weight of the school's commitment to the regional strategy in its will to continue a pilot.",
        source=f"{SEED}, Cowcept: 'zag de toenmalige Terra-directeur in Groningen de meerwaarde van een dergelijke "
        "samenwerking duidelijk voor zich'",
    )
    will_weight_quality: float = param(
        0.15, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of the quality of the last run in the school's will to continue the pilot.",
        source=f"{SEED}, Smart Farming: 'De leerlingen, de docent en de betrokken ondernemers waren na afloop "
        "enthousiast over de testloop'",
    )
    will_weight_satisfaction: float = param(
        0.1, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of the partner firms' mean commitment (their satisfaction) in the school's will.",
        source=f"{SEED}, Smart Farming: 'was de wil om het keuzedeel Precisielandbouw voort te zetten bij de "
        "betrokken ondernemers en docenten duidelijk aanwezig'",
    )
    will_weight_demand: float = param(
        0.15, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of the students the elective drew at the last intake (min(1, drawn / revival "
        "threshold)) in the school's will.",
        source=f"{SEED}, Cowcept: 'nadat studenten zich speciaal vanwege dit keuzedeel bij Terra hadden "
        "ingeschreven (en niet bij Nordwin), wordt er nu opnieuw contact gezocht'",
    )
    will_weight_margin: float = param(
        0.1, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of revenue per learner against cost per learner (0.5 at break-even) in the will.",
        source=f"{SEED}, Smart Farming: 'Terra denkt in kosten per leerling. Maar die zijn in wezen gering, te meer "
        "als je bedenkt dat met dit nieuwe concept uiteindelijk juist winst te behalen valt'",
    )
    will_weight_clarity: float = param(
        0.1, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of the clarity of the pilot's agreements in the school's will.",
        source=f"{SEED}, Smart Farming: 'Duidelijke financiële afspraken: wie betaalt wat en hoeveel mag het mag "
        "kosten?'",
    )
    will_weight_embedding: float = param(
        0.1, unit="relative weight", plausible=(0.0, 0.5), ge=0.0, le=10.0, group="decision",
        description="Weight of the school's curriculum embedding in its will to continue a pilot.",
        source=f"{SEED}, ch. 3 'Mede daarom is nieuwe kennis niet altijd ingebed in het curriculum en daardoor niet "
        "eigengemaakt'",
    )
    will_stress_damping: float = param(
        0.5, unit="share", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="decision",
        description="The school's will is multiplied by 1 - this x external stress.",
        source=f"{SEED}, ch. 3 'externe stress veroorzaakt, waardoor er weinig energie en moed was voor complexe "
        "processen'; value as model v1",
    )
    firm_weight_clarity: float = param(
        0.1, unit="commitment per unit clarity", plausible=(0.0, 0.3), ge=0.0, le=1.0, group="decision",
        description="A firm's target commitment rises by this x (clarity of the pilot's agreements - 0.5).",
        source=f"{SEED}, Smart Farming: 'volgens hen zouden dan wel enkele afspraken moeten worden gemaakt en "
        "nagekomen'",
    )
    firm_weight_school_network: float = param(
        0.1, unit="commitment per unit tie strength", plausible=(0.0, 0.3), ge=0.0, le=1.0, group="decision",
        description="A firm's target commitment to a pilot run by the school rises by this x (its network within the "
        "school - 0.5), where its network within the school is its strongest tie to a teacher now at the school "
        "(Entrepreneur.network_in_school): ties built in runs raise it, a departing teacher takes his ties along. "
        "No source gives a size; the firms named this condition in the same list as clear agreements, unranked, "
        "so it gets firm_weight_clarity's weight (0.1) and the same centring at the middle of the scale.",
        source=f"{SEED}, Smart Farming, a condition the firms set for continuing: 'Een goed netwerk binnen Terra', in one "
        "list with 'Duidelijke financiële afspraken' and 'Goede communicatie vanuit Terra'; value an assumption "
        "(firm_weight_clarity's)",
    )

    # ----------------------------------------------------------------------------- mechanisms added in model v2
    troops_gap_tolerance: float = param(
        0.3, unit="commitment (0-1)", plausible=(0.1, 1.0), ge=0.0, le=1.0, group="mechanisms",
        description="How far ahead of a layer its leaders can be and still pull it along: each layer moves towards "
        "min(leader, own + this); 1 = no limit (model v1).",
        source=f"{SEED}, versnellers 'Zorg ervoor dat je niet te ver voor de troepen uitloopt; ga steeds weer terug "
        "naar de gedeelde uitgangspunten'; value an assumption",
    )
    management_rivalry: float = param(
        0.25, unit="probability per appointment", plausible=(0.0, 0.6), ge=0.0, le=1.0, group="mechanisms",
        description="Chance that a newly appointed director clashes with middle management: no strategy passes "
        "from director to middle management during that director's tenure.",
        source=f"{SEED}, versnellers 'Lastig te voorkomen, maar wel vaak een bottleneck: rivaliteit in management, "
        "botsing van karakters'; value an assumption",
    )
    left_out_loss: float = param(
        0.2, unit="share of readiness", plausible=(0.0, 0.5), ge=0.0, le=1.0, group="mechanisms",
        description="Share of its readiness to intervene the cooperative loses when a pilot it prepared is handed "
        "over in a deal it did not broker.",
        source=f"{SEED}, Smart Farming: 'De coöperatie staat nu buiten de gemaakte afspraak terwijl ze in het "
        "voortraject veel in de voorbereiding heeft geïnvesteerd'; value an assumption",
    )
    growth_chance: float = param(
        0.3, unit="probability per continuation", plausible=(0.0, 0.8), ge=0.0, le=1.0, group="mechanisms",
        description="Chance that a continued pilot whose last run reached growth_quality grows along its path: "
        "a simple one scales up to complicated, a complex one widens with another partner firm.",
        source=f"{SEED}, ch. 4 'beginnen met enkelvoudige vraagstukken en eenvoudige vragen en dan middels "
        "iteratieslagen uitbouwen'; 'beginnen met complexe vaagstukken en advanced skills op hele kleine schaal'; "
        "value an assumption",
    )
    growth_quality: float = param(
        0.6, unit="0-1", plausible=(0.4, 0.8), ge=0.0, le=1.0, group="mechanisms",
        description="Quality of the last run from which a continued pilot can grow (growth_chance).",
        source="assumption: only a run that worked is built on",
    )

    # ----------------------------------------------------------------------------- structure (issue 11)
    # Rule constants that shape outcomes but are not success factors: screened as one group of
    # structural uncertainty.  Defaults are model v1's constants.
    commitment_weight_director: float = param(
        0.4, unit="relative weight", plausible=(0.2, 0.6), ge=0.0, le=1.0, group="structure",
        description="Weight of the director in the school's commitment (middle management and teachers share the rest).",
        source=f"{SEED}, Smart Farming: 'Er is geen lijn van het CvB naar regiodirecteuren en naar docenten'; model v1 constant",
    )
    commitment_weight_middle_management: float = param(
        0.3, unit="relative weight", plausible=(0.1, 0.5), ge=0.0, le=1.0, group="structure",
        description="Weight of middle management in the school's commitment.",
        source="model v1 constant (assumption)",
    )
    commitment_weight_teachers: float = param(
        0.3, unit="relative weight", plausible=(0.1, 0.5), ge=0.0, le=1.0, group="structure",
        description="Weight of the teachers in the school's commitment.",
        source="model v1 constant (assumption)",
    )
    handover_engagement: float = param(
        0.5, unit="0-1", plausible=(0.3, 0.7), ge=0.0, le=1.0, group="structure",
        description="Firms' mean commitment at which they take a dropped pilot to another provider.",
        source=f"{SEED}, Cowcept: 'dat hij ook met een ander AOC kon gaan samenwerken'; model v1 constant",
    )
    firm_commitment_base: float = param(
        0.2, unit="0-1", plausible=(0.0, 0.4), ge=0.0, le=1.0, group="structure",
        description="Base of a firm's target commitment to a pilot.",
        source="model v1 constant (assumption)",
    )
    firm_weight_agenda: float = param(
        0.3, unit="commitment per unit agenda strength", plausible=(0.1, 0.5), ge=0.0, le=1.0, group="structure",
        description="Weight of the shared agenda in a firm's target commitment.",
        source=f"{SEED}, versnellers 'Start met een centrale agenda'; model v1 constant",
    )
    firm_weight_value: float = param(
        0.6, unit="commitment per unit quality", plausible=(0.3, 0.9), ge=0.0, le=1.0, group="structure",
        description="Weight of the runs' quality in a firm's target commitment.",
        source="model v1 constant (assumption)",
    )
    firm_weight_hiring: float = param(
        0.2, unit="commitment per unit hiring value", plausible=(0.0, 0.4), ge=0.0, le=1.0, group="structure",
        description="Weight of future staff met in a firm's target commitment.",
        source="model v1 constant (assumption)",
    )
    firm_commitment_adjustment: float = param(
        0.1, unit="share of gap per month", plausible=(0.05, 0.3), ge=0.0, le=1.0, group="structure",
        description="Share of the gap to its target a firm's commitment closes each month.",
        source="model v1 constant (assumption)",
    )
    unresponsive_threshold: float = param(
        0.3, unit="0-1", plausible=(0.1, 0.5), ge=0.0, le=1.0, group="structure",
        description="School responsiveness below which a firm counts a month as 'the school does not move'.",
        source="model v1 constant (assumption)",
    )
    max_wait_months: int = param(
        12, unit="months", plausible=(6, 24), ge=1, le=120, group="structure",
        description="Months a ready pilot waits for its run before it is given up.",
        source=f"{SEED}, Cowcept: 'dat hij ook met een ander AOC kon gaan samenwerken'; model v1 constant (one school year of start months)",
    )
    unclear_money_loss: float = param(
        0.4, unit="share", plausible=(0.2, 0.6), ge=0.0, le=1.0, group="structure",
        description="Share of private contributions lost in debate when agreements are wholly unclear (factor 1 - this x (1 - clarity)).",
        source=f"{SEED}, Smart Farming: 'Tijdens de pilot ontstonden ook discussies over de kosten'; model v1 constant",
    )
    coaches_per_run: int = param(
        2, unit="teachers", plausible=(1, 3), ge=1, le=10, group="structure",
        description="Teachers the school gives one pilot run.",
        source=f"{SEED}, Cowcept ran with two teachers; model v1 constant",
    )
    min_learners: int = param(
        4, unit="learners", plausible=(2, 8), ge=1, le=100, group="structure",
        description="Fewest learners with which a run can start.",
        source="model v1 constant (assumption)",
    )
    demand_simple: float = param(
        0.3, unit="0-1", plausible=(0.2, 0.4), ge=0.0, le=1.0, group="structure",
        description="Competence a simple question demands.",
        source=f"{SEED}, ch. 4 'enkelvoudig (bekende context en werk' ...; model v1 constant",
    )
    demand_complicated: float = param(
        0.55, unit="0-1", plausible=(0.45, 0.65), ge=0.0, le=1.0, group="structure",
        description="Competence a complicated question demands.",
        source="model v1 constant (assumption)",
    )
    demand_complex: float = param(
        0.8, unit="0-1", plausible=(0.7, 0.9), ge=0.0, le=1.0, group="structure",
        description="Competence a complex question demands.",
        source="model v1 constant (assumption)",
    )
    effort_simple: float = param(
        0.1, unit="commitment", plausible=(0.05, 0.15), ge=0.0, le=1.0, group="structure",
        description="A firm's time burden of a simple pilot.",
        source="model v1 constant (assumption)",
    )
    effort_complicated: float = param(
        0.15, unit="commitment", plausible=(0.1, 0.2), ge=0.0, le=1.0, group="structure",
        description="A firm's time burden of a complicated pilot.",
        source="model v1 constant (assumption)",
    )
    effort_complex: float = param(
        0.2, unit="commitment", plausible=(0.15, 0.3), ge=0.0, le=1.0, group="structure",
        description="A firm's time burden of a complex pilot.",
        source="model v1 constant (assumption)",
    )
    reputation_decay_after_fade: float = param(
        0.5, unit="share kept per intake", plausible=(0.25, 0.75), ge=0.0, le=1.0, group="structure",
        description="Share of a faded elective's reputation kept at each intake.",
        source="model v1 constant (assumption)",
    )
    revival_commitment: float = param(
        0.2, unit="0-1", plausible=(0.1, 0.4), ge=0.0, le=1.0, group="structure",
        description="A former partner with commitment above this can be won back for a revival.",
        source="model v1 constant (assumption)",
    )
    mediation_clarity_gain: float = param(
        0.5, unit="share of gap", plausible=(0.2, 0.8), ge=0.0, le=1.0, group="structure",
        description="Share of its gap the agreements' clarity closes at an intervention.",
        source=f"{SEED}, Smart Farming: 'Een faciliterende partij die vroegtijdig ingrijpt wanneer afspraken niet worden nagekomen'; model v1 constant",
    )
    mediation_commitment_gain: float = param(
        0.3, unit="share of gap", plausible=(0.1, 0.5), ge=0.0, le=1.0, group="structure",
        description="Share of its gap a partner's commitment closes at an intervention or brokering.",
        source="model v1 constant (assumption)",
    )
    mediation_will_pull: float = param(
        0.5, unit="share of gap", plausible=(0.2, 0.8), ge=0.0, le=1.0, group="structure",
        description="Share of its gap to clarity the school's will closes after a mediation.",
        source="model v1 constant (assumption)",
    )
    active_tie_threshold: float = param(
        0.25, unit="0-1", plausible=(0.15, 0.35), ge=0.0, le=1.0, group="structure",
        description="Tie strength from which a tie counts as active (community size, density).",
        source="model v1 constant (assumption)",
    )
    structural_cost_share: float = param(
        0.5, unit="share of run cost", plausible=(0.0, 1.0), ge=0.0, le=1.0, group="structure",
        description="Share of a run's external cost a structural pilot still costs the school (from its regular budget).",
        source=f"{SEED}, Cowcept: 'Om de financiering van externen structureel te maken is meer geld nodig dan voor inzet van eigen docenten'; value an assumption (model v1: 0)",
    )
    structural_exit_embedding: float = param(
        0.25, unit="0-1", plausible=(0.0, 0.5), ge=0.0, le=1.0, group="structure",
        description="Curriculum embedding below which a structural pilot is dropped from the programme at the end of a run.",
        source=f"{SEED}, ch. 3 'Als de expert weg was, verdween ook de kennis'; value an assumption (model v1: never)",
    )

    @model_validator(mode="after")
    def _question_shares_sum_to_at_most_one(self) -> Params:
        total = self.simple_question_share + self.complex_question_share
        if total > 1.0 + 1e-12:
            raise ValueError(
                f"simple_question_share + complex_question_share = {total:g}; allowed: at most 1 "
                "(the rest are complicated questions)"
            )
        return self


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One row of the parameter table."""

    name: str
    group: str
    unit: str
    default: float | int
    low: float
    high: float
    valid_min: float | None
    valid_max: float | None
    kind: str
    success_factor: bool
    description: str
    source: str


def parameter_table() -> list[ParamInfo]:
    """Every parameter with its metadata, in declaration order."""
    rows = []
    for name, field in Params.model_fields.items():
        extra = field.json_schema_extra or {}
        bounds = {type(m).__name__: m for m in field.metadata}
        ge = bounds.get("Ge")
        le = bounds.get("Le")
        low, high = extra["plausible"]
        rows.append(
            ParamInfo(
                name=name,
                group=extra["group"],
                unit=extra["unit"],
                default=field.default,
                low=low,
                high=high,
                valid_min=ge.ge if ge is not None else None,
                valid_max=le.le if le is not None else None,
                kind=field.annotation.__name__,
                success_factor=extra["success_factor"],
                description=field.description or "",
                source=extra["source"],
            )
        )
    return rows


def success_factors() -> list[str]:
    """Names of the parameters flagged as success factors (model-spec section 7)."""
    return [row.name for row in parameter_table() if row.success_factor]
