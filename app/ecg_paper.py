"""ECG paper, shared by the dashboard's charts and the PDF report's strips: at the standard 25 mm/s and 10 mm/mV a
small square (1 mm) is 0.04 s by 0.1 mV and a large one (5 mm) 0.2 s by 0.5 mV, the units a reader measures with."""

SMALL_SQUARE_S = 0.04
SMALL_SQUARE_MV = 0.1
LARGE_SQUARE_S = 0.2
LARGE_SQUARE_MV = 0.5
LARGE_LINE_COLOUR = "#f0a0a0"
SMALL_LINE_COLOUR = "#f8d8d8"
