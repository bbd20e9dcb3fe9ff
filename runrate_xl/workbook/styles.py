"""Cell styles of the scenario workbook and the roll-up (financial-modelling conventions:
blue-on-yellow inputs, black calculations, grey constants, navy headers)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

NAVY = "1F3864"
FONT_NAME = "Calibri"

TITLE = Font(name=FONT_NAME, size=16, bold=True, color=NAVY)
SUBTITLE = Font(name=FONT_NAME, size=11, italic=True, color="595959")
SECTION = Font(name=FONT_NAME, size=11, bold=True, color=NAVY)
HEADER = Font(name=FONT_NAME, size=10, bold=True, color="FFFFFF")
LABEL = Font(name=FONT_NAME, size=10)
BOLD = Font(name=FONT_NAME, size=10, bold=True)
INPUT = Font(name=FONT_NAME, size=10, color="0000FF")
CALC = Font(name=FONT_NAME, size=10, color="000000")
ENGINE = Font(name=FONT_NAME, size=10, color="7030A0")  # static values written from the engine
UNIT = Font(name=FONT_NAME, size=9, italic=True, color="7F7F7F")
NOTE = Font(name=FONT_NAME, size=9, color="7F7F7F")
BIG = Font(name=FONT_NAME, size=14, bold=True, color=NAVY)

HEADER_FILL = PatternFill("solid", fgColor=NAVY)
SECTION_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
CONSTANT_FILL = PatternFill("solid", fgColor="EDEDED")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
OK_FILL = PatternFill("solid", fgColor="C6EFCE")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
NA_FILL = PatternFill("solid", fgColor="F2F2F2")

THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TOP_BORDER = Border(top=Side(style="thin", color="000000"))
UNLOCKED = Protection(locked=False)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
RIGHT = Alignment(horizontal="right")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
