"""Code sets the rules match against, each with its version, expansion date and sources.

Review before every release: RxNorm gains new products monthly. The sources are the notes in
docs/evidence/codes.md (one section per code set, named below) and the public files they cite.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"


@dataclass(frozen=True)
class ValueSet:
    """A named code set with provenance."""

    name: str
    version: str
    expansion_date: str
    source: str
    system: str
    codes: frozenset[str]

    def __contains__(self, code: object) -> bool:
        return code in self.codes


ALP_TOTAL = ValueSet(
    name="alp-total-activity",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 2.8x table; docs/evidence/codes.md#alp-loinc. Bone-specific (1777-2, 17838-4) and cord-blood "
    "(55971-6) ALP are deliberately excluded (docs/evidence/codes.md#bone-specific-alp).",
    system=LOINC,
    codes=frozenset({"6768-6", "1783-0", "77141-0"}),
)

ALP_BONE_SPECIFIC = ValueSet(
    name="alp-bone-specific",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 1777-2 (enzymatic, U/L) and 17838-4 (immunoassay, ug/L); docs/evidence/codes.md#bone-specific-alp: "
    "supporting data, never counted (a different measurand, itself lowered by antiresorptives).",
    system=LOINC,
    codes=frozenset({"1777-2", "17838-4"}),
)

PYRIDOXAL_PHOSPHATE = ValueSet(
    name="pyridoxal-5-phosphate",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 62236-5 (nmol/L, ARUP 20-125) and 30552-4 (ug/L, Mayo 5-50); "
    "docs/evidence/codes.md#hpp-substrates-and-genetics.",
    system=LOINC,
    codes=frozenset({"62236-5", "30552-4"}),
)

URINE_PHOSPHOETHANOLAMINE = ValueSet(
    name="urine-phosphoethanolamine",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC phosphoethanolamine/creatinine and urine phosphoethanolamine terms "
    "(docs/evidence/codes.md#hpp-substrates-and-genetics; random vs 24-h specimen unverified: all accepted, each "
    "judged against its own reference range).",
    system=LOINC,
    codes=frozenset(
        {
            "13789-3",
            "25122-3",
            "28604-7",
            "44351-5",
            "44352-3",
            "56966-5",
            "26611-4",
            "9731-1",
            "2790-4",
            "2789-6",
            "25502-6",
            "26597-5",
            "26612-2",
        }
    ),
)

ALPL_GENE_TESTS = ValueSet(
    name="alpl-gene-tests",
    version="2026.12",
    expansion_date="2026-12-04",
    source="LOINC 77084-2 ALPL full mutation analysis, 77085-9 ALPL known familial variants (docs/evidence/alp.md).",
    system=LOINC,
    codes=frozenset({"77084-2", "77085-9"}),
)

HPP_WORKUP = ValueSet(
    name="hpp-workup-results",
    version="2026.11",
    expansion_date="2026-11-24",
    source="Pyridoxal 5'-phosphate, urine phosphoethanolamine terms, ALPL gene tests "
    "(docs/evidence/codes.md#hpp-substrates-and-genetics).",
    system=LOINC,
    codes=PYRIDOXAL_PHOSPHATE.codes
    | URINE_PHOSPHOETHANOLAMINE.codes
    | frozenset({"77084-2", "77085-9"}),  # ALPL gene sequencing, familial variant
)

HPP_CONDITION_SNOMED = ValueSet(
    name="hypophosphatasia-snomed",
    version="2026.11",
    expansion_date="2026-11-24",
    source="SNOMED CT 360792001 Hypophosphatasia and its listed descendants (adult, childhood, infantile, "
    "odonto); Mondo SSSOM mappings, docs/evidence/codes.md#hypophosphatasia.",
    system=SNOMED,
    codes=frozenset({"360792001", "20756002", "30174008", "55236002", "708672004"}),
)

# E83.39 "Other disorders of phosphorus metabolism" also covers hypophosphataemic disorders, so it
# counts only when the condition's own text names hypophosphatasia (docs/evidence/codes.md#hypophosphatasia).
HPP_CONDITION_ICD10CM_UNSPECIFIC = ValueSet(
    name="hypophosphatasia-icd10cm-with-text",
    version="2026.11",
    expansion_date="2026-11-24",
    source="ICD-10-CM 2026 E83.39; docs/evidence/codes.md#hypophosphatasia.",
    system=ICD10CM,
    codes=frozenset({"E83.39"}),
)

CREATININE_CLEARANCE = ValueSet(
    name="creatinine-clearance",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 2164-2 measured, 35591-7 Cockcroft-Gault (labels are written in CrCl; "
    "docs/evidence/codes.md#renal-function).",
    system=LOINC,
    codes=frozenset({"2164-2", "35591-7"}),
)

EGFR = ValueSet(
    name="egfr",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 98979-8 CKD-EPI 2021, 62238-1 CKD-EPI 2009, 33914-3 MDRD, 48642-3/48643-1 MDRD by race, "
    "77147-7 other (used as a proxy for CrCl, and the card says so; docs/evidence/codes.md#renal-function).",
    system=LOINC,
    codes=frozenset({"98979-8", "62238-1", "33914-3", "48642-3", "48643-1", "77147-7"}),
)

VITAMIN_D_25OH = ValueSet(
    name="25-hydroxyvitamin-d",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 1989-3 (D3, ng/mL), 62292-8 (D2+D3, ng/mL), 14635-7 (nmol/L); docs/evidence/codes.md#minerals.",
    system=LOINC,
    codes=frozenset({"1989-3", "62292-8", "14635-7"}),
)

CALCIUM = ValueSet(
    name="calcium-serum",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 17861-6 calcium in serum or plasma (mg/dL); HL7 PDDI-CDS calcium value set; "
    "docs/evidence/codes.md#minerals.",
    system=LOINC,
    codes=frozenset({"17861-6"}),
)

INR = ValueSet(
    name="inr",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 6301-6, 34714-6; docs/evidence/codes.md#liver-tests.",
    system=LOINC,
    codes=frozenset({"6301-6", "34714-6"}),
)

BILIRUBIN_TOTAL = ValueSet(
    name="bilirubin-total",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 1975-2 (mg/dL); 14631-6 (umol/L, unverified in our sources, accepted by unit); "
    "docs/evidence/codes.md#liver-tests.",
    system=LOINC,
    codes=frozenset({"1975-2", "14631-6"}),
)

AST = ValueSet(
    name="ast",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 1920-8; docs/evidence/codes.md#liver-tests.",
    system=LOINC,
    codes=frozenset({"1920-8"}),
)
ALT = ValueSet(
    name="alt",
    version="2026.11",
    expansion_date="2026-11-24",
    source="LOINC 1742-6; docs/evidence/codes.md#liver-tests.",
    system=LOINC,
    codes=frozenset({"1742-6"}),
)

WILSON_DISEASE_SNOMED = ValueSet(
    name="wilson-disease-snomed",
    version="2026.11",
    expansion_date="2026-11-24",
    source="SNOMED CT 88518009 Wilson disease; docs/evidence/codes.md#wilson-disease.",
    system=SNOMED,
    codes=frozenset({"88518009"}),
)
WILSON_DISEASE_ICD10CM = ValueSet(
    name="wilson-disease-icd10cm",
    version="2026.11",
    expansion_date="2026-11-24",
    source="ICD-10-CM E83.01 Wilson's disease; docs/evidence/codes.md#wilson-disease.",
    system=ICD10CM,
    codes=frozenset({"E83.01"}),
)

# A chronic liver disease on record means a raised INR with liver injury is acute-on-chronic, not acute liver
# failure, and Korman's ratios were not validated there (docs/evidence/wilson-alf.md). Sources:
# docs/evidence/codes.md#chronic-liver-disease.
CHRONIC_LIVER_DISEASE_SNOMED = ValueSet(
    name="chronic-liver-disease-snomed",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 19943007 Cirrhosis of liver, 328383001 Chronic liver disease, 76783007 Chronic hepatitis "
    "(public FHIR value sets and ConceptMaps; docs/evidence/codes.md#chronic-liver-disease). Descendants are not "
    "expanded: only codes seen in a public source are listed; the text fallback covers the rest.",
    system=SNOMED,
    codes=frozenset({"19943007", "328383001", "76783007"}),
)
ALCOHOLIC_LIVER_DISEASE_SNOMED = ValueSet(
    name="alcoholic-liver-disease-snomed",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 41309000 Alcoholic liver damage (FSN) and 420054005 Alcoholic cirrhosis (mapped from "
    "ICD-10 K70.3 in a public ConceptMap); docs/evidence/codes.md#chronic-liver-disease.",
    system=SNOMED,
    codes=frozenset({"41309000", "420054005"}),
)
# ICD-10-CM categories, matched with every code beneath them (K74 matches K74.60, K7460 and K74.6).
CHRONIC_LIVER_DISEASE_ICD10CM = ValueSet(
    name="chronic-liver-disease-icd10cm-categories",
    version="2026.12",
    expansion_date="2026-12-04",
    source="ICD-10(-CM) K72.1 Chronic hepatic failure, K73 Chronic hepatitis NEC, K74 Fibrosis and cirrhosis of "
    "liver (category titles as listed in public ICD-10 tables; docs/evidence/codes.md#chronic-liver-disease).",
    system=ICD10CM,
    codes=frozenset({"K72.1", "K73", "K74"}),
)
ALCOHOLIC_LIVER_DISEASE_ICD10CM = ValueSet(
    name="alcoholic-liver-disease-icd10cm-categories",
    version="2026.12",
    expansion_date="2026-12-04",
    source="ICD-10(-CM) K70 Alcoholic liver disease, every subcategory (K70.0-K70.9); "
    "docs/evidence/codes.md#chronic-liver-disease.",
    system=ICD10CM,
    codes=frozenset({"K70"}),
)
# Lower-case words that name the same diseases in a Condition's text or display, for local codes.
CHRONIC_LIVER_DISEASE_WORDS: tuple[str, ...] = (
    "cirrhosis",
    "chronic liver disease",
    "chronic hepatitis",
    "chronic hepatic failure",
    "chronic liver failure",
)
ALCOHOLIC_LIVER_DISEASE_WORDS: tuple[str, ...] = (
    "alcoholic liver",
    "alcohol-related liver",
    "alcohol related liver",
    "alcohol-associated liver",
    "alcoholic hepatitis",
    "alcoholic cirrhosis",
)

ASFOTASE_ALFA_ATC = ValueSet(
    name="asfotase-alfa-atc",
    version="2026.11",
    expansion_date="2026-11-24",
    source="WHO ATC A16AB13 asfotase alfa (RxCUI unverified, so names are matched too; "
    "docs/evidence/codes.md#asfotase-alfa).",
    system=ATC,
    codes=frozenset({"A16AB13"}),
)
ASFOTASE_NAMES: tuple[str, ...] = ("asfotase", "strensiq")


@dataclass(frozen=True)
class Antiresorptive:
    """One antiresorptive ingredient with the RxNorm codes and names that identify it."""

    ingredient: str
    rxnorm: frozenset[str]
    atc: frozenset[str]
    names: tuple[str, ...]  # lower-case stems and brands, matched as whole-word prefixes


# RxNorm ingredient (IN) and product (SCD/SBD/SCDC/SBDC/BN/BPCK) codes from docs/evidence/codes.md#antiresorptives,
# including the CDS Hooks Sandbox medication list. Codes marked unverified there are kept: matching an
# extra code of the same ingredient cannot create a false card for another drug.
ANTIRESORPTIVES: tuple[Antiresorptive, ...] = (
    Antiresorptive(
        "alendronate",
        frozenset(
            {
                "46041",
                "904431",
                "904433",
                "904430",
                "904447",
                "904419",
                "904421",
                "904420",
                "114265",
                "904462",
                "904465",
                "904492",
                "904495",
                "617264",
            }
        ),
        frozenset({"M05BA04", "M05BB03", "M05BB05"}),
        ("alendron", "fosamax", "binosto"),
    ),
    Antiresorptive(
        "risedronate",
        frozenset({"73056", "905024", "905023", "905028", "905032", "905083", "1020064", "1020065", "877300"}),
        frozenset({"M05BA07", "M05BB02", "M05BB07"}),
        ("risedron", "actonel", "atelvia"),
    ),
    Antiresorptive(
        "ibandronate",
        frozenset({"115264", "904932", "904936", "904952"}),
        frozenset({"M05BA06"}),
        ("ibandron", "boniva", "bondronat", "bonviva"),
    ),
    Antiresorptive(
        "zoledronic acid",
        frozenset({"77655", "705824", "705875", "351114", "1114085"}),
        frozenset({"M05BA08"}),
        ("zoledron", "reclast", "zometa", "aclasta"),
    ),
    Antiresorptive(
        "pamidronate",
        frozenset({"11473", "1737449"}),
        frozenset({"M05BA03"}),
        ("pamidron", "aredia"),
    ),
    Antiresorptive(
        "etidronate",
        frozenset({"42682", "904535", "904547"}),
        frozenset({"M05BA01", "M05BB01"}),
        ("etidron", "didronel"),
    ),
    Antiresorptive(
        "tiludronate",
        frozenset({"57230"}),
        frozenset({"M05BA05"}),
        ("tiludron", "skelid"),
    ),
    Antiresorptive(
        "clodronate",
        frozenset(),  # RxCUI unverified (docs/evidence/codes.md#antiresorptives); matched by ATC and name
        frozenset({"M05BA02"}),
        ("clodron", "bonefos", "loron"),
    ),
    Antiresorptive(
        "denosumab",
        frozenset(
            {
                "993449",
                "993452",
                "993456",
                "1046398",
                "2717866",
                "2715513",
                "2715520",
                "2723350",
                "2723357",
                "2747255",
                "2747262",
            }
        ),
        frozenset({"M05BX04"}),
        # Biosimilars have their own RxNorm ingredients ("denosumab-bbdz" ...): the stem catches them.
        (
            "denosumab",
            "prolia",
            "xgeva",
            "jubbonti",
            "wyost",
            "ospomyv",
            "xbryk",
            "stoboclo",
            "osenvelt",
            "conexxence",
            "bomyntra",
            "obodence",
            "xtrenbo",
            "bildyos",
            "bilprevda",
            "bosaya",
            "osvyrti",
            "jubereq",
        ),
    ),
    Antiresorptive(
        "romosozumab",
        frozenset({"2123126"}),
        frozenset({"M05BX06"}),
        ("romosozumab", "evenity"),
    ),
)

# Zoledronic acid 4 mg for oncology (Zometa and generics): its label reduces the dose from CrCl 60 mL/min and
# advises against it below 30, unlike Reclast (5 mg), which is contraindicated below 35
# (docs/evidence/codes.md#zoledronic-acid-4-mg).
ZOLEDRONIC_ACID_ONCOLOGY = ValueSet(
    name="zoledronic-acid-oncology",
    version="2026.11",
    expansion_date="2026-11-24",
    source="RxNorm 351114 (4 MG per 5 ML), 1114085 (0.04 MG/ML, 100 ML); Zometa label; "
    "docs/evidence/codes.md#zoledronic-acid-4-mg.",
    system=RXNORM,
    codes=frozenset({"351114", "1114085"}),
)

ANTIRESORPTIVE_VALUE_SET = ValueSet(
    name="antiresorptives",
    version="2026.11",
    expansion_date="2026-11-24",
    source="RxNorm ingredients and products, ATC M05BA*, M05BB*, M05BX04, M05BX06 "
    "(docs/evidence/codes.md#antiresorptives). Raloxifene, teriparatide, abaloparatide and burosumab "
    "(M05BX05) are not antiresorptives here.",
    system=RXNORM,
    codes=frozenset(code for drug in ANTIRESORPTIVES for code in drug.rxnorm),
)

# ATC groups that are antiresorptive as a whole: any bisphosphonate (M05BA) or bisphosphonate
# combination (M05BB), named or not above.
ANTIRESORPTIVE_ATC_PREFIXES: tuple[str, ...] = ("M05BA", "M05BB")
ANTIRESORPTIVE_ATC_CODES: frozenset[str] = frozenset({"M05BX04", "M05BX06"})

# --- Order-time safety checks (docs/evidence/antiresorptive-safety.md) -------------------------------------------

SERUM_CREATININE = ValueSet(
    name="creatinine-serum",
    version="2026.12",
    expansion_date="2026-12-04",
    source="LOINC 2160-0 creatinine [mass/volume] in serum or plasma (mg/dL), 14682-9 [moles/volume] (umol/L); "
    "read only to compute a Cockcroft-Gault creatinine clearance.",
    system=LOINC,
    codes=frozenset({"2160-0", "14682-9"}),
)

BODY_WEIGHT = ValueSet(
    name="body-weight",
    version="2026.12",
    expansion_date="2026-12-04",
    source="LOINC 29463-7 body weight (the FHIR vital-signs and US Core body weight code).",
    system=LOINC,
    codes=frozenset({"29463-7"}),
)

DIALYSIS_ESRD_SNOMED = ValueSet(
    name="dialysis-or-esrd-snomed",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 46177005 End-stage renal disease (disorder), 105502003 Dependence on renal dialysis "
    "(finding); displays checked in several public value sets (docs/evidence/antiresorptive-safety.md).",
    system=SNOMED,
    codes=frozenset({"46177005", "105502003"}),
)
DIALYSIS_ESRD_ICD10CM = ValueSet(
    name="dialysis-or-esrd-icd10cm",
    version="2026.12",
    expansion_date="2026-12-04",
    source="ICD-10-CM N18.6 End stage renal disease, Z99.2 Dependence on renal dialysis.",
    system=ICD10CM,
    codes=frozenset({"N18.6", "Z99.2"}),
)
# A Condition whose own text names dialysis counts too, for sites that code it locally.
DIALYSIS_WORDS: tuple[str, ...] = ("dialysis", "haemodialysis", "hemodialysis")

MYOCARDIAL_INFARCTION_SNOMED = ValueSet(
    name="myocardial-infarction-snomed",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 22298006 Myocardial infarction (disorder) and its descendant 57054005 Acute myocardial "
    "infarction. 164867002 Old myocardial infarction is deliberately left out: it records a past event.",
    system=SNOMED,
    codes=frozenset({"22298006", "57054005"}),
)
STROKE_SNOMED = ValueSet(
    name="stroke-snomed",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 230690007 Cerebrovascular accident (disorder).",
    system=SNOMED,
    codes=frozenset({"230690007"}),
)
# ICD-10-CM categories, matched as prefixes: I21 acute and I22 subsequent myocardial infarction; I63 cerebral
# infarction and I61 intracerebral haemorrhage.
MYOCARDIAL_INFARCTION_ICD10CM_PREFIXES: tuple[str, ...] = ("I21", "I22")
STROKE_ICD10CM_PREFIXES: tuple[str, ...] = ("I63", "I61")

# Denosumab and zoledronic acid each come in two regimens with different labels (research notes, openFDA NDC
# directory records of 2026-09/10). Prolia and its biosimilars: 60 mg every 6 months for osteoporosis; Xgeva
# and its biosimilars: 120 mg for bone metastases. Zometa: 4 mg for oncology; Reclast/Aclasta: 5 mg.
DENOSUMAB_60_RXNORM = frozenset({"993452", "993456", "2715513", "2715520", "2723350", "2723357"})
DENOSUMAB_120_RXNORM = frozenset({"1046398", "2717866", "2747255", "2747262"})
DENOSUMAB_60_NAMES: tuple[str, ...] = (
    "prolia",
    "jubbonti",
    "ospomyv",
    "stoboclo",
    "conexxence",
    "bildyos",
    "obodence",
    "bosaya",
    "osvyrti",
)
DENOSUMAB_120_NAMES: tuple[str, ...] = (
    "xgeva",
    "wyost",
    "xbryk",
    "osenvelt",
    "bomyntra",
    "bilprevda",
    "xtrenbo",
    "jubereq",
)
ZOLEDRONIC_ACID_4MG_RXNORM = ZOLEDRONIC_ACID_ONCOLOGY.codes
ZOLEDRONIC_ACID_5MG_RXNORM = frozenset({"705824", "705875"})
ZOLEDRONIC_ACID_4MG_NAMES: tuple[str, ...] = ("zometa",)
ZOLEDRONIC_ACID_5MG_NAMES: tuple[str, ...] = ("reclast", "aclasta")

# Secondary causes of low ALP named on the card when they are on record (issue 10 item 8; docs/evidence/alp.md).
# Conditions are matched by code, else by the words of their text, since many are coded locally.
COELIAC_DISEASE = ValueSet(
    name="coeliac-disease",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 396331005 Celiac disease; ICD-10-CM K90.0 (docs/evidence/alp.md).",
    system=SNOMED,
    codes=frozenset({"396331005"}),
)
HYPOTHYROIDISM = ValueSet(
    name="hypothyroidism",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 40930008 Hypothyroidism; ICD-10-CM E03.x and E89.0 (docs/evidence/alp.md).",
    system=SNOMED,
    codes=frozenset({"40930008"}),
)
HYPOMAGNESAEMIA = ValueSet(
    name="hypomagnesaemia",
    version="2026.12",
    expansion_date="2026-12-04",
    source="SNOMED CT 190855004 Hypomagnesemia; ICD-10-CM E83.42 (HPO HP:0002917 cross-references; "
    "docs/evidence/alp.md).",
    system=SNOMED,
    codes=frozenset({"190855004"}),
)
# ICD-10-CM code prefixes: K90.0 coeliac, E03 and E89.0 hypothyroidism, E40-E46 malnutrition, E83.42
# hypomagnesaemia, E60 zinc deficiency.
SECONDARY_CAUSE_ICD10CM_PREFIXES: dict[str, tuple[str, ...]] = {
    "coeliac disease": ("K90.0",),
    "hypothyroidism": ("E03", "E89.0"),
    "malnutrition": ("E40", "E41", "E42", "E43", "E44", "E45", "E46"),
    "hypomagnesaemia": ("E83.42",),
    "zinc deficiency": ("E60",),
}
SECONDARY_CAUSE_WORDS: dict[str, tuple[str, ...]] = {
    "coeliac disease": ("coeliac", "celiac"),
    "hypothyroidism": ("hypothyroid",),
    "malnutrition": ("malnutrition", "undernutrition", "malnourish"),
    "hypomagnesaemia": ("hypomagnes",),
    "zinc deficiency": ("zinc deficiency",),
}
# Drugs that lower ALP (clinical reviews of low ALP: glucocorticoids, fibrates, oestrogens): ATC groups first,
# ingredient names as a fallback. Glucocorticoid RxNorm ingredients from the HL7 PDDI-CDS value sets
# (RxNorm 2018-07-02); fibrate and oestrogen RxNorm codes are not verified, so they match by ATC and name.
ALP_LOWERING_DRUGS: dict[str, tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]] = {
    # kind: (RxNorm ingredient codes, ATC prefixes, name stems)
    "glucocorticoid": (
        frozenset({"8640", "8638", "3264", "5492", "6902", "2878"}),
        ("H02AB",),
        (
            "prednison",
            "prednisolon",
            "methylprednisolon",
            "dexamethason",
            "hydrocortison",
            "cortison",
            "deflazacort",
            "betamethason",
        ),
    ),
    "fibrate": (frozenset(), ("C10AB",), ("fenofibrat", "gemfibrozil", "bezafibrat", "clofibrat", "ciprofibrat")),
    "oestrogen": (
        frozenset(),
        ("G03C", "G03A", "G03F"),
        (
            "estradiol",
            "oestradiol",
            "estrogen",
            "oestrogen",
            "ethinylestradiol",
            "ethinyl estradiol",
            "premarin",
            "estriol",
            "estrone",
        ),
    ),
}
MAGNESIUM = ValueSet(
    name="magnesium-serum",
    version="2026.12",
    expansion_date="2026-12-04",
    source="LOINC 19123-9 (mg/dL), 2601-3 (mmol/L); HL7 PDDI-CDS magnesium value set (LOINC 2.82).",
    system=LOINC,
    codes=frozenset({"19123-9", "2601-3"}),
)
ZINC = ValueSet(
    name="zinc-serum",
    version="2026.12",
    expansion_date="2026-12-04",
    source="LOINC 5763-8 Zinc [Mass/volume] in Serum or Plasma (docs/evidence/alp.md).",
    system=LOINC,
    codes=frozenset({"5763-8"}),
)
