"""Predict: score new rows with a trained model, check them against the training data, download the results."""

import pandas as pd
import streamlit as st

from core.errors import AssayError
from core.scoring import MAX_EXPLAINED_ROWS, model_columns
from ui import scoring as scoring_ui
from ui import shell
from ui.text import md

project = shell.require_project()
st.title("Predict")
st.caption("Score new rows with a trained model. The rows are checked against the columns it was trained on, "
           "the recipe replays (training-only steps such as row filters are skipped), and the results download "
           "as CSV or Parquet.")

model = scoring_ui.model_picker(project.id)
if model is None:
    st.stop()
bundle = scoring_ui.bundle_of(model.blob_sha)
about, card = st.columns([4, 1], vertical_alignment="center")
classes = f" ({len(bundle.classes)} classes)" if bundle.classes else ""
about.markdown(f"Predicts **{md(bundle.target)}**{classes} · {bundle.task} · from {len(bundle.input_schema)} "
               f"column(s) · trained on {md(model.dataset)}")
card.download_button("Model card", data=lambda: scoring_ui.card_bytes(model.id, project.id),
                     file_name=scoring_ui.download_name(model.name, "html").replace("predictions - ", "model card - "),
                     mime="text/html", icon=":material/description:", on_click="ignore", key="predict.card",
                     help="A one-page HTML report: data, recipe, validation, leaderboard, holdout scores with "
                          "charts, top features and known limitations.")
with st.expander("Columns the model needs", icon=":material/view_column:"):
    st.dataframe(pd.DataFrame({"Column": list(bundle.input_schema), "Kind": list(bundle.input_schema.values())}),
                 hide_index=True)

st.subheader("New rows")
try:
    picked = scoring_ui.new_rows(project.id)
except AssayError as exc:
    shell.show_error(exc)
    st.stop()
if picked is None:
    st.stop()
frame, name, data_key = picked
check = scoring_ui.schema_check(model.blob_sha, data_key, frame)
if not check.ok:
    shell.show_error(check.error())
    st.stop()
for notice in check.notices():
    st.info(md(notice), icon=":material/info:")
for warning in check.warnings():
    st.warning(md(warning), icon=":material/warning:")
if frame.empty:
    st.info("The table has no rows to score.")
    st.stop()

options = st.columns([2, 1, 2], vertical_alignment="bottom")
explain = options[0].toggle("Add each row's top reasons (SHAP)", key="predict.explain",
                            help="The features that pushed each row's prediction most, with their effect. Slower: "
                                 f"at most {MAX_EXPLAINED_ROWS:,} rows at a time.")
reasons = options[1].number_input("Reasons per row", 1, 10, 3, key="predict.reasons", disabled=not explain)
request = (model.blob_sha, data_key, int(reasons) if explain else 0)
if st.button(f"Score {len(frame):,} rows", type="primary", key="predict.go", icon=":material/play_arrow:"):
    st.session_state["predict.request"] = request
if st.session_state.get("predict.request") != request:
    st.stop()
try:
    result, table = scoring_ui.scored(*request, frame)
except AssayError as exc:
    shell.show_error(exc)
    st.stop()

left, right = st.columns([3, 2], gap="large")
predictions = result.predictions
with left:
    st.subheader("Predictions")
    m = st.columns(4)
    m[0].metric("Rows scored", f"{len(predictions):,}")
    if bundle.classes:
        shares = predictions["prediction"].astype(str).value_counts(normalize=True)
        for col, (label, share) in zip(m[1:], shares.head(3).items()):
            col.metric(md(f"Predicted {label}"[:40]), f"{share:.1%}")
    else:
        values = predictions["prediction"]
        m[1].metric("Mean prediction", f"{values.mean():,.4g}")
        m[2].metric("Lowest", f"{values.min():,.4g}")
        m[3].metric("Highest", f"{values.max():,.4g}")
    scoring_ui.predictions_table(table, model_columns(frame, result))
    scoring_ui.download_buttons(table, name)
with right:
    st.subheader("Against the training data")
    try:
        drift = scoring_ui.drift_result(project.id, model.id, model.blob_sha, data_key, name, frame)
    except AssayError as exc:
        st.info(md(f"No drift summary: {exc}"), icon=":material/info:")
    else:
        scoring_ui.drift_panel(drift, name)
