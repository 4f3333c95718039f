"""RNN Lab's web server: `streamlit run serve.py` (what `make run` starts).

It serves app.py like `streamlit run app.py` does, behind rnnlab.gate: with RNNLAB_PASSWORD set,
every request (pages, the websocket that runs the script, uploads, media) needs the password
first; uploads always count against a memory budget. All `streamlit run` options still apply
(`--server.port`, `--server.address`, ...).
"""

import streamlit as st
from starlette.middleware import Middleware

from rnnlab.gate import Gate

app = st.App("app.py", middleware=[Middleware(Gate)])
