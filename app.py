"""Assay: navigation, the project picker and shared page setup. Nothing else."""

import streamlit as st

from ui import shell

st.set_page_config(page_title="Assay", page_icon=":material/science:", layout="wide")

shell.check_binding()
shell.engine()
shell.reap_jobs()
shell.project_sidebar()

pages = [
    st.Page("views/upload.py", title="Data", icon=":material/upload_file:", default=True),
    st.Page("views/profile.py", title="Profile", icon=":material/query_stats:"),
    st.Page("views/clean.py", title="Clean", icon=":material/cleaning_services:"),
    st.Page("views/features.py", title="Features", icon=":material/auto_awesome:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/explain.py", title="Explanations", icon=":material/psychology:"),
    st.Page("views/drift.py", title="Drift", icon=":material/compare_arrows:"),
    st.Page("views/predict.py", title="Predict", icon=":material/online_prediction:"),
]
shell.guard(st.navigation(pages))
