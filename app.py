"""RNN Lab dashboard: `streamlit run app.py`.

The entry page is a router: it sets up the session (the config, a preset or classroom mode
from the link), draws the sidebar and runs the page the user chose. Pages live in views/. A link
to the root with ?lesson=ID opens that lesson on the Learn page.

Nothing a page raises reaches the browser as a traceback: a problem the user can fix
(RnnlabError) shows its message, anything else a short note while the traceback goes to the
server's log (RNNLAB_DEBUG=1 lets it through, for development). A run store that cannot be
opened (a damaged database) is explained on every page; a read-only one still shows its runs.
"""

import os

import streamlit as st
from streamlit.logger import get_logger
from streamlit.runtime.scriptrunner import get_script_run_ctx

from rnnlab import ui
from rnnlab.errors import RnnlabError, StoreError

LOG = get_logger("rnnlab.app")
DEBUG_ENV = "RNNLAB_DEBUG"


def guarded(action) -> None:
    """Run `action`; what it raises becomes a message on the page instead of a traceback.

    st.stop(), st.rerun() and st.switch_page() raise Streamlit's StopException and
    RerunException, which derive from BaseException, not Exception: they pass through.
    """
    try:
        action()
    except RnnlabError as exc:     # a problem the user can fix that the page did not catch
        LOG.warning("%s: %s", type(exc).__name__, exc)
        st.error(ui.md(exc), icon=":material/block:")
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "").strip().lower() in ui.TRUE_WORDS:
            raise
        LOG.error("Unexpected error while drawing the page", exc_info=exc)
        st.error(f"Something unexpected went wrong ({type(exc).__name__}), so this page could "
                 "not be shown in full; the details are in the server log. Reload the page "
                 "to try again.", icon=":material/error:")


def store_problem() -> StoreError | None:
    """Why the run store cannot be opened (a damaged database, a missing folder), or None."""
    try:
        ui.store()
    except StoreError as exc:
        LOG.error("The run store cannot be opened: %s", exc)
        return exc
    return None


st.set_page_config(page_title="RNN Lab", page_icon="🔁", layout="wide")
ui.prepare_process()  # once per server: warm up, then freeze the long-lived heap
ui.password_gate()  # with RNNLAB_PASSWORD: a second lock behind serve.py's gate


def _start() -> None:
    """The root page: main() forwards it before it runs (see there)."""


def main() -> None:
    """The session, the runner, the navigation and the page the user chose."""
    ui.apply_query_params()
    problem = store_problem()
    if problem is None:
        ui.runner()  # starts the background job runner once per server

    # one st.Page per row of the page table, grouped by section in the table's order
    built = {spec.name: st.Page(spec.file, title=spec.title, icon=spec.icon,
                                url_path=spec.url_path,
                                visibility="visible" if spec.visible() else "hidden")
             for spec in ui.PAGE_TABLE}
    pages = {section: [built[spec.name] for spec in ui.PAGE_TABLE if spec.section == section]
             for section in ui.SECTIONS}
    # The root is a hidden page that only forwards, to the first page of the table (or to the
    # lesson a link names): a default page is served at "/" alone, so the Data page as the
    # default would not open at /data
    start = st.Page(_start, title="RNN Lab", url_path="start", default=True,
                    visibility="hidden")
    pages[ui.SECTIONS[0]].append(start)

    page = st.navigation(pages)
    # the link's settings were applied above; the link goes on with them (imported outside
    # Streamlit, in bare mode, there is nowhere to go: the root page runs and shows nothing)
    if page is start and get_script_run_ctx() is not None:
        first = ui.PAGE_TABLE[0].name
        target = built["learn" if st.query_params.get("lesson") else first]
        st.switch_page(target, query_params=st.query_params.to_dict())
    if problem is not None:
        st.title("The run store cannot be opened")
        st.error(ui.md(str(problem).replace("`", "")), icon=":material/database:")
        st.caption("Every page needs the run store. Once it is fixed, reload this page.")
        return
    slot = ui.sidebar()
    if not ui.store().writable():
        st.sidebar.warning("The run store is read-only: runs can be looked at, not trained. "
                           "The Train page says why.", icon=":material/lock:")
    ui.notices()
    ui.identity_notices()
    guarded(ui.ensure_advice)  # a link to the Model or Train page gets the data's advice too
    # the dataset line before the page: a page that stops early (st.stop, e.g. on a refused
    # upload) leaves nothing drawn after it, and the line then still names the active dataset
    ui.sidebar_dataset(slot)
    try:
        guarded(page.run)
        ui.sidebar_dataset(slot)  # the page may have changed it
    finally:
        guarded(ui.remember_setup)  # the link keeps the setup: a reload opens it again
        guarded(ui.remember_identity)  # and the name and room


guarded(main)
