"""RNN Lab dashboard: `streamlit run app.py`.

The entry page is a router: it sets up the session (the config, a preset or classroom mode
from the link), draws the sidebar and runs the page the user chose. Pages live in views/. A link
to the root with ?lesson=ID opens that lesson on the Learn page.
"""

import streamlit as st

from rnnlab import ui

st.set_page_config(page_title="RNN Lab", page_icon="🔁", layout="wide")
ui.prepare_process()  # once per server: warm up, then freeze the long-lived heap
ui.password_gate()  # only when RNNLAB_PASSWORD is set (a class server without Streamlit's auth)

ui.apply_query_params()
ui.runner()  # starts the background job runner once per server

LEARN = st.Page(ui.PAGES["learn"], title="Learn", icon=":material/school:", url_path="learn")
PAGES = {
    "Learn": [LEARN],
    "Build": [
        st.Page(ui.PAGES["data"], title="1 · Data", icon=":material/table_chart:",
                url_path="data", default=True),
        st.Page(ui.PAGES["model"], title="2 · Model", icon=":material/account_tree:",
                url_path="model"),
        st.Page(ui.PAGES["train"], title="3 · Train", icon=":material/play_circle:",
                url_path="train"),
    ],
    "Inspect": [
        st.Page(ui.PAGES["results"], title="4 · Results", icon=":material/query_stats:",
                url_path="results"),
        st.Page(ui.PAGES["gradients"], title="5 · Gradients", icon=":material/gradient:",
                url_path="gradients"),
        st.Page(ui.PAGES["compare"], title="6 · Compare", icon=":material/compare_arrows:",
                url_path="compare"),
    ],
}

page = st.navigation(PAGES)
lesson = st.query_params.get("lesson")
if lesson and page.url_path == "" and st.session_state.get("_lesson_link") != lesson:
    st.session_state["_lesson_link"] = lesson  # once: the user may go on to other pages
    st.switch_page(LEARN, query_params=st.query_params.to_dict())
slot = ui.sidebar()
ui.notices()
try:
    page.run()
finally:  # also when the page stops early: the dataset line shows the page's last choice
    ui.sidebar_dataset(slot)
