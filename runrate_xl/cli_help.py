"""Help texts shared by several CLI commands (no imports: command modules read them at definition time)."""

TEMPLATES_HELP = ("Folder with your own memo/workbook templates (memo.css, memo.html, scenario.xlsx, ...); "
                  "files it lacks come from the shipped ones. Default: the RUNRATE_TEMPLATES setting, else the "
                  "templates shipped in the package.")
