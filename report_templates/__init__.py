"""The memo templates shipped with runrate_xl (jinja2 + CSS).

This folder is the single source of the memo templates: the build maps it into the package as
``runrate_xl.report_templates`` (see pyproject.toml), and the code loads it with
``importlib.resources``. This file only makes the folder importable under that name.
To brand memos without editing this folder, copy a file (e.g. memo.css) into a folder of your
own and pass ``--templates DIR`` (or set RUNRATE_TEMPLATES); the files it lacks fall back to
these.
"""
