"""Questions that several rules ask of the code: names, imports, tasks, models, views."""
