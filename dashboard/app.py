"""The suite leaderboard: a Streamlit app (``suite dashboard`` or ``streamlit run dashboard/app.py``).

This router sets the page up, renders the statistics controls every page shares (metric, δ) in the
sidebar and hands over to the page picked in the navigation: Leaderboard, Variant, Gains, Across datasets,
Studies.
The page scripts live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder as an old-style
multipage app and serves a deep link such as ``/gains`` without running this router.
"""

from __future__ import annotations

import streamlit as st

from _data import DEFAULT_METRIC, DELTA_KEY, METRIC_KEY, load_runs, store_path, store_stamp
from _tables import axis_title, default_deltas
from suite.errors import SuiteError
from suite.verdict import available_metrics

st.set_page_config(page_title="suite leaderboard", layout="wide")

pages = st.navigation(
    [
        st.Page("views/leaderboard.py", title="Leaderboard", default=True),
        st.Page("views/variant.py", title="Variant"),
        st.Page("views/gains.py", title="Gains"),
        st.Page("views/across.py", title="Across datasets"),
        st.Page("views/studies.py", title="Studies"),
    ]
)

path = store_path()
with st.sidebar:
    st.caption(f"Store: `{path}`")
    try:
        names = available_metrics(load_runs(str(path), store_stamp(path)))
    except SuiteError:
        names = []  # the page says what is wrong with the store
    if names:
        st.selectbox(
            "Metric",
            [DEFAULT_METRIC, *names],
            key=METRIC_KEY,
            format_func=lambda name: "each dataset's default" if name == DEFAULT_METRIC else axis_title(name),
            help="The default is accuracy for classification and Dice for segmentation.",
        )
        st.number_input(
            "δ, practical-equivalence margin (metric units)",
            min_value=1e-6,
            value=None,
            step=0.01,
            format="%g",
            key=DELTA_KEY,
            placeholder=f"default: {default_deltas()}",
            help="A gain smaller than δ is no practical gain, whatever its p-value.",
        )

pages.run()
