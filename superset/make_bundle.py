"""Writes the chart YAMLs of the Superset bundle (superset/bundle/charts/).

A chart's saved query_context is a JSON string inside the YAML; building
it from the same form data here keeps the two in step. Run after changing
a chart: python3 superset/make_bundle.py
"""

import json
import pathlib

BUNDLE = pathlib.Path(__file__).resolve().parent / "bundle"
DATASET_UUID = "0c6a9d54-3f2e-4f4b-8f65-7d1f3c9b2a11"            # airport_daily_dashboard
EXPLANATIONS_UUID = "9b2e4f6a-8c1d-4e3f-a5b7-c9d1e3f5a7b9"    # airport_anomaly_explanations
TIME_FILTER = {"clause": "WHERE", "subject": "date", "operator": "TEMPORAL_RANGE",
               "comparator": "No filter", "expressionType": "SIMPLE"}


def metric(column, label, aggregate="AVG"):
    return {"expressionType": "SIMPLE", "column": {"column_name": column},
            "aggregate": aggregate, "label": label}


def chart(name, uuid, viz_type, metrics, groupby, extra_params, dataset=DATASET_UUID, raw_columns=None):
    """raw_columns: a table of rows as they are (no metrics, no grouping)."""
    form = {
        "datasource": "0__table", "viz_type": viz_type, "x_axis": "date", "time_grain_sqla": "P1D",
        "metrics": metrics, "groupby": groupby, "adhoc_filters": [TIME_FILTER], "row_limit": 50000,
        "show_legend": True, "rich_tooltip": True, "color_scheme": "supersetColors",
        "x_axis_time_format": "smart_date", **extra_params,
    }
    query = {
        "filters": [{"col": "date", "op": "TEMPORAL_RANGE", "val": "No filter"}],
        "extras": {"time_grain_sqla": "P1D", "having": "", "where": ""},
        "applied_time_extras": {},
        "columns": raw_columns or [{"timeGrain": "P1D", "columnType": "BASE_AXIS", "sqlExpression": "date",
                                    "label": "date", "expressionType": "SQL"}] + groupby,
        "metrics": metrics,
        "orderby": [["date", False]] if raw_columns else [],
        "annotation_layers": [],
        "row_limit": 50000,
        "series_columns": groupby,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {}, "custom_params": {}, "custom_form_data": {},
    }
    context = {"datasource": {"id": 0, "type": "table"}, "force": False, "queries": [query],
               "form_data": form, "result_format": "json", "result_type": "full"}
    doc = {
        "slice_name": name, "description": None, "certified_by": None, "certification_details": None,
        "viz_type": viz_type, "params": form, "query_context": json.dumps(context),
        "cache_timeout": None, "uuid": uuid, "version": "1.0.0", "dataset_uuid": dataset,
    }
    path = BUNDLE / "charts" / f"{name.replace(' ', '_')}.yaml"
    # JSON is valid YAML; one document per file keeps the bundle diff-able.
    path.write_text(json.dumps(doc, indent=2) + "\n")


chart("Daily flights", "5b8c1d7e-2a4f-4e0b-9c3d-1e2f3a4b5c61", "echarts_timeseries_bar",
      [metric("flights", "flights", "SUM")], ["dep_delay_anomaly_label"],
      {"stack": "Stack", "label_colors": {"anomaly": "#D62728", "normal": "#1F77B4"}})
# Superset draws a band between metrics named X__yhat_lower and X__yhat_upper
# around X__yhat (its forecast convention).
# The anomalous days as a series of their own (the mean on flagged days,
# NULL elsewhere), drawn as red markers over the observed line.
chart("Average departure delay", "7e3d2c1b-4a5f-4c6d-8e7f-9a0b1c2d3e72", "echarts_timeseries_line",
      [metric("average_dep_delay", "average_dep_delay"),
       metric("dep_delay_pred", "average_dep_delay__yhat"),
       metric("dep_delay_lower_ci", "average_dep_delay__yhat_lower"),
       metric("dep_delay_higher_ci", "average_dep_delay__yhat_upper"),
       metric("anomalous_dep_delay", "anomaly", "MAX")], [],
      {"markerEnabled": True, "markerSize": 6, "label_colors": {"anomaly": "#D62728"}})
# The flagged days with their explanation, newest first.
EXPLAINED = ["date", "origin_airport", "direction", "average_dep_delay", "dep_delay_pred",
             "dep_delay_outside", "dep_delay_residual", "dominant_cause", "flights_cancelled", "sentence"]
chart("Anomalies explained", "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e85", "table", [], [],
      {"query_mode": "raw", "all_columns": EXPLAINED, "order_by_cols": [json.dumps(["date", False])],
       "server_pagination": False, "include_search": True, "table_timestamp_format": "%Y-%m-%d",
       "column_config": {c: {"d3NumberFormat": ",.1f"} for c in
                         ["average_dep_delay", "dep_delay_pred", "dep_delay_outside", "dep_delay_residual"]}},
      dataset=EXPLANATIONS_UUID, raw_columns=EXPLAINED)
