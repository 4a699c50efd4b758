"""Record lists of the MIT-BIH Arrhythmia Database and the inter-patient split; the records of any WFDB directory.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (DS1/DS2).
"""

from pathlib import Path

from pipeline.records import list_segment_names

RECORDS_FILE = "RECORDS"
"""PhysioNet's list of a database's records, one name (or relative path) per line."""

MITDB_RECORDS = (
    "100", "101", "102", "103", "104", "105", "106", "107", "108", "109", "111", "112", "113", "114",
    "115", "116", "117", "118", "119", "121", "122", "123", "124", "200", "201", "202", "203", "205",
    "207", "208", "209", "210", "212", "213", "214", "215", "217", "219", "220", "221", "222", "223",
    "228", "230", "231", "232", "233", "234",
)
DS1 = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203",
    "205", "207", "208", "209", "215", "220", "223", "230",
)
DS2 = (
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213", "214",
    "219", "221", "222", "228", "231", "232", "233", "234",
)
PACED = ("102", "104", "107", "217")
SAME_PATIENT = (("201", "202"),)
"""Records known to come from one patient (keep together in any patient-wise split)."""

SPLITS = {"ds1": DS1, "ds2": DS2, "all": MITDB_RECORDS}


def records_for_split(split: str) -> tuple[str, ...]:
    """Record names of ``"ds1"``, ``"ds2"`` or ``"all"`` (all 48)."""
    key = split.lower()
    if key not in SPLITS:
        raise ValueError(f"Received split={split!r}; expected one of {sorted(SPLITS)}.")
    return SPLITS[key]


def holds_mitdb(directory: str | Path) -> bool:
    """True when ``directory`` has the headers of all 48 MIT-BIH records (their names are what DS1/DS2 list)."""
    return all((Path(directory) / f"{name}.hea").is_file() for name in MITDB_RECORDS)


def read_records_file(path: str | Path) -> tuple[str, ...]:
    """The names a PhysioNet ``RECORDS`` list file holds, one per line (blank lines and ``#`` comments left out)."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return tuple(name for line in lines if (name := line.strip()) and not name.startswith("#"))


def list_directory_records(directory: str | Path) -> tuple[str, ...]:
    """Records of a WFDB directory: the names in its ``RECORDS`` file when it has one, else its headers' names
    (without the segments of multi-segment records).

    Examples
    --------
    >>> list_directory_records("data/excerpts")
    ('100', '106', '119', '201', '208', '217', '232')
    """
    directory = Path(directory)
    listing = directory / RECORDS_FILE
    if listing.is_file():
        names = read_records_file(listing)
        if names:
            return names
    headers = sorted(directory.glob("*.hea"))
    segments = {name for header in headers for name in list_segment_names(header)}
    return tuple(p.stem for p in headers if p.stem not in segments)
