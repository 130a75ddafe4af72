"""SOP knowledge base: Markdown runbooks, chunked by heading, embedded offline with
all-MiniLM-L6-v2 on numpy, kept in a Chroma collection under AIOPS_HOME/sop-store.

Entry points: `sop.store.SopStore` (add / list_documents / search / remove) and the
`sop.cli` commands. Nothing is imported here: Chroma and the model cost about a second,
and `main.py --help` must not pay for them.
"""
