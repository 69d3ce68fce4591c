"""Spend forecasts (statsmodels ETS, rolling-origin backtests) and spend anomalies, for billing
exports and LLM request logs: model.py fits one series, plan.py forecasts groups of them,
anomaly.py finds the periods above the model's band, billing.py reads the daily series."""
