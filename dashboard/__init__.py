"""The BI dashboard: a Streamlit app on the stack's MARTS schema (`shopstream dashboard --stack NAME`)."""

# How `shopstream dashboard` tells the app which stack to serve.
ENV_STACK = "SHOPSTREAM_STACK"
ENV_OUTPUTS = "SHOPSTREAM_OUTPUTS"  # JSON file of a cloud stack's Pulumi outputs (`--outputs`)
