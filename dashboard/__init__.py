"""The BI dashboard: a Streamlit app on the stack's MARTS schema (`shopstream dashboard --stack NAME`)."""

# `shopstream dashboard` tells the app which stack to serve through the road's own variables.
from pipeline.settings import ENV_LOCAL, ENV_OUTPUTS, ENV_STACK

__all__ = ["CHURN_METRICS_MART", "ENV_LOCAL", "ENV_OUTPUTS", "ENV_STACK"]
