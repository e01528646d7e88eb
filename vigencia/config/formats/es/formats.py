"""Spanish as written in Peru, where Vigencia's Spanish readers are: 1,234.5 — as Money writes soles
(Babel's es_PE). Django's Spanish writes 1.234,5, which put "120,0 MB" beside "S/ 10.00" on one page.
Every other format comes from Django's Spanish."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
