"""The dashboard's pages, one script each, listed in the page table (rnnlab/ui/pages.py).

Streamlit runs a page's file as `__main__`, which calls its main(); imported (`from views import
results`), a page only defines its helpers and draws nothing.
"""
