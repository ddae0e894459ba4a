"""ProPublica's COMPAS two-year recidivism file, with AIF360's ``CompasDataset`` rows."""

from __future__ import annotations

import os
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    InstanceOf,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import FormatError, location, preview

_COMPAS_INTS = (
    "id",
    "age",
    "juv_fel_count",
    "decile_score",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "days_b_screening_arrest",
    "c_days_from_compas",
    "is_recid",
    "r_days_from_arrest",
    "violent_recid",
    "is_violent_recid",
    "v_decile_score",
    "start",
    "end",
    "event",
    "two_year_recid",
)
#: Columns AIF360's CompasDataset keeps (rows with a missing value in one are dropped).
_COMPAS_KEPT = (
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
    "two_year_recid",
)


@validate_params(
    path=InstanceOf(str, os.PathLike, description="a path"),
    filtered=InstanceOf(bool),
    backend=BACKEND,
)
def load_compas(
    path: str | os.PathLike[str],
    *,
    filtered: bool = True,
    backend: Backend = "polars",
) -> Any:
    """ProPublica's ``compas-scores-two-years.csv``, typed, with AIF360's rows by default.

    The file repeats two column names (``decile_score``, ``priors_count``); the copies
    must be equal and are dropped. Integer columns become Int64 (an empty field is null);
    dates stay text (they carry no time zone). With ``filtered`` the rows are those of
    AIF360's ``CompasDataset``: ProPublica's filter (screening within 30 days of the
    arrest, a known recidivism status, no ordinary-traffic charge, a score) and no missing
    value in the columns it keeps (6,167 of 7,214 rows in the published file).

    Parameters
    ----------
    path : path
        The CSV file.
    filtered : bool, default True
        Keep AIF360's rows only.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame

    Raises
    ------
    FormatError
        A value that is not an integer in an integer column (file, line, column named),
        duplicated columns that differ, or a missing column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = ("id,sex,age,age_cat,race,juv_fel_count,decile_score,juv_misd_count,"
    ...         "juv_other_count,priors_count,days_b_screening_arrest,c_charge_degree,"
    ...         "c_charge_desc,is_recid,decile_score,score_text,priors_count,two_year_recid\\n"
    ...         "1,Male,69,Greater than 45,Other,0,1,0,0,0,-1,F,Assault,0,1,Low,0,0\\n"
    ...         "2,Male,34,25 - 45,Caucasian,0,3,0,0,0,,F,Battery,1,3,Low,0,1\\n")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "compas.csv"
    >>> _ = path.write_text(text)
    >>> load_compas(path)["id"].to_list()  # the second row has no screening delay
    [1]
    """
    if not os.path.isfile(path):
        raise reject(
            "path", "name an existing file", got=f"{os.fspath(path)!r}, which does not exist,"
        )
    raw = pl.read_csv(os.fspath(path), infer_schema_length=0)
    for name in ("decile_score", "priors_count"):
        copy = f"{name}_duplicated_0"
        if copy in raw.columns:
            differ = raw.with_row_index("_row").filter(pl.col(name).ne_missing(pl.col(copy)))
            if differ.height:
                line = int(differ["_row"][0]) + 2
                raise FormatError(
                    f"{location(path, line=line, column=name)}: the repeated column {name!r} "
                    f"holds {preview(differ[copy][0])} where the first one holds "
                    f"{preview(differ[name][0])}; expected equal copies."
                )
            raw = raw.drop(copy)
    needed = [*_COMPAS_KEPT, "days_b_screening_arrest", "is_recid", "score_text", "id"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise FormatError(
            f"{location(path)}: missing column(s) {', '.join(missing)} of "
            f"compas-scores-two-years.csv (found: {preview(', '.join(raw.columns), 300)})."
        )
    casts = []
    for name in _COMPAS_INTS:
        if name not in raw.columns:
            continue
        cast = raw[name].str.strip_chars().cast(pl.Int64, strict=False)
        bad = raw[name].is_not_null() & cast.is_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise FormatError(
                f"{location(path, line=row + 2, column=name)}: found "
                f"{preview(raw[name][row])}, expected an integer."
            )
        casts.append(cast)
    data = raw.with_columns(casts)
    if filtered:
        data = data.filter(
            pl.col("days_b_screening_arrest").is_between(-30, 30)
            & (pl.col("is_recid") != -1)
            & (pl.col("c_charge_degree") != "O")
            & (pl.col("score_text") != "N/A")
        ).drop_nulls(list(_COMPAS_KEPT))
    return frame_out(data, backend)
