"""Suggest which column of an upload fills which merge field of a template.

Headers are compared after normalization, against groups of names that contact exports use for
the same thing in several tools and languages. The operator confirms or edits the suggestion.
"""

from __future__ import annotations

import re
import unicodedata

EMAIL_FIELD = "email"

# Each group lists normalized headers for one kind of field, best first. A merge field whose
# normalized name is in a group matches the headers of that group.
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "email",
        "emailaddress",
        "mail",
        "emailadresse",
        "mailadresse",
        "adresseemail",
        "adressemail",
        "courriel",
        "correo",
        "correoelectronico",
        "epost",
        "primaryemail",
        "workemail",
        "businessemail",
        "personalemail",
        "homeemail",
    ),
    (
        "firstname",
        "givenname",
        "vorname",
        "prenom",
        "nombre",
        "voornaam",
        "nome",
        "fornavn",
        "forename",
        "fname",
        "first",
    ),
    (
        "lastname",
        "surname",
        "familyname",
        "nachname",
        "apellido",
        "apellidos",
        "nom",
        "achternaam",
        "cognome",
        "sobrenome",
        "efternavn",
        "lname",
        "last",
    ),
    ("name", "fullname", "displayname", "contactname", "nomcomplet", "nombrecompleto"),
    (
        "company",
        "companyname",
        "firma",
        "organization",
        "organisation",
        "organizationname",
        "organisationname",
        "unternehmen",
        "empresa",
        "entreprise",
        "societe",
        "accountname",
        "employer",
    ),
    (
        "phone",
        "phonenumber",
        "telephone",
        "telephonenumber",
        "tel",
        "telefon",
        "telefonnummer",
        "telefono",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cellphone",
        "businessphone",
        "homephone",
        "handy",
    ),
    ("city", "town", "stadt", "ort", "ville", "ciudad", "citta", "businesscity", "homecity"),
    (
        "postalcode",
        "zip",
        "zipcode",
        "postcode",
        "plz",
        "postleitzahl",
        "codepostal",
        "codigopostal",
    ),
    ("country", "countryregion", "land", "pays", "pais"),
    ("state", "region", "province", "stateprovince", "bundesland"),
    ("street", "streetaddress", "address", "strasse", "adresse", "direccion"),
    ("jobtitle", "position", "role", "funktion", "poste", "cargo"),
)

# Numbered columns such as Google's "E-mail 1 - Value" or Outlook's "E-mail 2 Address". A
# "Label" or "Type" column of such a pair never matches, because its suffix is not listed.
_NUMBERED_HEADER = re.compile(r"(?P<base>[a-z]+?)(?P<number>\d+)(?:value|address|number)?")
_NUMBERED_SCORE = 100


def normalize_header(header: str) -> str:
    """Return the header casefolded, without accents, punctuation or spaces: "E-Mail" -> "email"."""
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    return "".join(char for char in decomposed if char.isalnum())


def suggest_mapping(columns: list[str], field_names: list[str]) -> dict[str, str | None]:
    """Map each column to the merge field it most likely fills, or None.

    `email` is always a candidate field. Each field is used by at most one column, and the
    closest matches are assigned first.
    """
    fields = [EMAIL_FIELD, *(name for name in dict.fromkeys(field_names) if name != EMAIL_FIELD)]
    normalized_columns = [normalize_header(column) for column in columns]

    candidates: list[tuple[int, int, int]] = []
    for field_rank, field in enumerate(fields):
        variants = _header_variants(field)
        for column_index, normalized in enumerate(normalized_columns):
            score = _match_score(normalized, variants)
            if score is not None:
                candidates.append((score, field_rank, column_index))

    mapping: dict[str, str | None] = dict.fromkeys(columns)
    used_fields: set[int] = set()
    used_columns: set[int] = set()
    for _, field_rank, column_index in sorted(candidates):
        if field_rank in used_fields or column_index in used_columns:
            continue
        mapping[columns[column_index]] = fields[field_rank]
        used_fields.add(field_rank)
        used_columns.add(column_index)
    return mapping


def _header_variants(field: str) -> dict[str, int]:
    """Return normalized headers that fit the field, each with a score (lower is closer)."""
    normalized = normalize_header(field)
    variants = {normalized: 0}
    for group in _SYNONYM_GROUPS:
        if normalized in group:
            for rank, variant in enumerate(group, start=1):
                variants.setdefault(variant, rank)
    return variants


def _match_score(header: str, variants: dict[str, int]) -> int | None:
    if not header:
        return None

    score = variants.get(header)
    if score is not None:
        return score

    numbered = _NUMBERED_HEADER.fullmatch(header)
    if numbered and numbered["base"] in variants:
        return _NUMBERED_SCORE + int(numbered["number"])
    return None
