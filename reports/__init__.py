"""Coverage reports: a week or any period, built from the Store and rendered four ways.

``build`` gathers the figures into the ``model`` (pydantic); ``render`` writes it
as HTML, XLSX, Markdown or JSON; ``cli`` adds ``dophu report weekly|range``;
``sample`` writes the sample reports of docs/samples. See docs/report-json.md.
"""
