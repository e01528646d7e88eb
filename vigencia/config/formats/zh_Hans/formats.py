"""Simplified Chinese with numbers grouped in thousands, 15,360 — as Money writes amounts (Babel's
zh, CLDR) and as Chinese sites and apps show figures. Django's Chinese leaves them ungrouped. Every
other format comes from Django's Chinese."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
