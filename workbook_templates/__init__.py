"""The scenario workbook template shipped with runrate_xl (``scenario.xlsx``).

This folder is the single source of the template file: the build maps it into the package as
``runrate_xl.workbook_templates`` (see pyproject.toml). ``scenario.xlsx`` is built by
``python -m runrate_xl.workbook.template``; a test checks it is not stale. A branded copy in a
folder of your own is used with ``--templates DIR`` (or RUNRATE_TEMPLATES).
"""
