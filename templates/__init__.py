"""MCR's Jinja templates (data only): ``prompts/`` holds the task instructions."""
