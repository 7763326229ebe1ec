"""The client web app's bot pages: dashboard, controls, settings, history, activity, alerts."""
