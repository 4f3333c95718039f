"""Shared helpers for the dashboard pages: `from rnnlab import ui`, then `ui.X`.

Pages stay thin: they read widgets (through the `*_ui()` helpers here and in the pages), build
a config, call the engine and draw figures. A helper only one page uses lives in that page.
Nothing here imports TensorFlow: the training side (model, train, gradients, worker) runs in
worker processes.

    pages     the page table (navigation, links between pages, the link to share)
    process   the run store, the job runner, the warm-up, the password gate
    css       the only HTML a page may send (static CSS)
    session   the user's choices in session state, and the widgets bound to them
    advice    the settings advised for the data
    presets   presets by name (also one per run of every lesson)
    links     what a link carries (the working setup, a preset, classroom mode, who is who)
    identity  who is who in a class, and classroom mode
    runs      statuses in words and icons, run names, the run picker, artefacts as tables
    sidebar   the sidebar
    text      Markdown made inert, names, numbers and sentences, mistakes as messages
    charts    Plotly charts in the app's theme, shared colour scales
    uploads   uploaded files kept under the run store
    group_ui  a group of runs (seeds, sweep, backtest) as one item (imported by its pages)
"""

from rnnlab.errors import RnnlabError

from .advice import advice_caption, ensure_advice, load_data
from .charts import (MAX_COLOUR_TICKS, TIME_SCALES, chart, share_colour_scale,
                     time_scale_ui)
from .css import CLASSROOM_CSS, NARROW_METRICS_CSS, STATIC_CSS
from .identity import (CLASSROOM_KEY, NAME_WIDGET, TRUE_WORDS, classroom, classroom_note,
                       identity_notices, mine_first, name_needed, name_prompt, owner,
                       remember_identity, room, teacher_view)
from .links import SETUP_PARAM, apply_query_params, notices, remember_setup
from .pages import PAGE_TABLE, PAGES, SECTIONS, Page, page_link, share_caption
from .presets import lesson_presets, preset_config, use_preset
from .process import (concurrency, open_sessions, password_gate, poll_every, prepare_process,
                      runner, store)
from .runs import (ACTIVE, FINISHED, STATUS_ICONS, STATUS_WORDS, best_run, diagnoses,
                   loss_curves, read_csv_artefact, run_label, run_picker_ui, run_score, run_state,
                   step_norms)
from .session import (bound, config_dict, get_value, on_value, seed, set_config, set_value,
                      validated_config)
from .sidebar import sidebar, sidebar_dataset
from rnnlab.samples import script_data_hint
from .text import (fmt_number, fmt_seconds, guarded, md, metrics_table,
                   skill_sentence, source_label)
from .uploads import UPLOAD_DISK_FULL, save_upload

__all__ = [
    "ACTIVE", "advice_caption", "apply_query_params", "best_run", "bound", "chart", "classroom",
    "CLASSROOM_CSS", "CLASSROOM_KEY", "classroom_note", "concurrency", "config_dict",
    "ensure_advice", "open_sessions", "poll_every", "FINISHED", "fmt_number", "fmt_seconds",
    "get_value", "guarded",
    "identity_notices", "lesson_presets", "load_data", "MAX_COLOUR_TICKS", "md", "metrics_table",
    "mine_first", "name_needed", "name_prompt", "NAME_WIDGET", "NARROW_METRICS_CSS", "notices",
    "on_value", "owner", "Page", "page_link", "PAGE_TABLE", "PAGES", "password_gate",
    "prepare_process", "preset_config", "read_csv_artefact", "remember_identity", "remember_setup",
    "RnnlabError", "room", "run_label", "run_picker_ui", "run_score", "run_state", "diagnoses", "loss_curves", "step_norms", "runner", "save_upload",
    "script_data_hint", "SECTIONS", "seed", "set_config", "set_value", "SETUP_PARAM",
    "share_caption", "share_colour_scale", "sidebar", "sidebar_dataset", "skill_sentence",
    "source_label", "STATIC_CSS", "STATUS_ICONS", "STATUS_WORDS", "store", "teacher_view",
    "time_scale_ui", "TIME_SCALES", "TRUE_WORDS", "UPLOAD_DISK_FULL", "use_preset",
    "validated_config",
]
