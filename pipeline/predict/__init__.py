"""Churn prediction in the road: CORE history → point-in-time features → model → MARTS.mart_churn_predictions.

    from pipeline.predict.churn import predict
    report = predict(settings)  # trains (or loads) the model of this data and code, scores, writes the marts

The label of a customer at a cut-off day T is "no completed order in the `horizon_days` days after T". Training
cut-offs are every CUTOFF_STEP_DAYS days before the test cut-off (as-of date minus horizon), the latest of them a
whole horizon earlier, so the evaluation on the test cut-off never sees its future. The scored model is then
refitted on every labelled cut-off (training and test) and scores each customer with a completed order by the
as-of date. Bad input (too little history, a single class) fails before anything is written.

Modules: `history` (CORE → Arrow), `features` (point-in-time features and labels), `model` (scikit-learn pipeline),
`evaluate` (model against the rule), `store` (versioned artefacts), `mart` (DuckDB or Snowflake writer), `churn`
(the step), `report` (docs/CHURN_MODEL.md), `command` (`shopstream predict`). This file imports nothing, so the
CLI starts fast.
"""
