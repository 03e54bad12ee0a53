"""The business dashboard: a Streamlit app on the marts, read as the read-only roles (issue 15).

``app.py`` is the entry point (``retail-platform dashboard`` runs it); ``data.py`` is the only module that
talks to the warehouse; ``formatting.py`` and ``charts.py`` turn numbers into text and Altair charts; one
module per page under ``pages/``.
"""
