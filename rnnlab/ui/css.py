"""The only HTML the pages send: our own static CSS, never user text.

tests/app/test_learn.py checks that every piece of HTML on every page is one of STATIC_CSS.
"""

# On a phone the Data page's facts stack one per line; a span of two dates is still too wide for
# a metric's large figure on one line, so there it may wrap instead of ending in "…".
NARROW_METRICS_CSS = ("<style>@media (max-width: 640px) {[data-testid='stMetricValue'] div, "
                      "[data-testid='stMetricValue'] p {white-space: normal !important; "
                      "overflow: visible !important; text-overflow: clip !important;}}</style>")
# Our own, static CSS (never user text): the lesson text container shown large for a projector.
CLASSROOM_CSS = """<style>
.st-key-learn_text p, .st-key-learn_text li { font-size: 1.5rem; line-height: 1.5; }
.st-key-learn_text h2 { font-size: 2.6rem; }
.st-key-learn_text h3 { font-size: 1.9rem; }
.st-key-learn_calc_text p { font-size: 1.4rem; line-height: 1.45; }
</style>"""
# every piece of HTML a page may send: static, never user text (tests/app/test_learn.py)
STATIC_CSS = (CLASSROOM_CSS, NARROW_METRICS_CSS)
