"""Export a whole conversation, its text and its images, as an archive that outlives the site.

The extension reads the page's own data and saves the images first ("Save all", through the
pipeline, so they are catalogued files with their prompts embedded); then it sends the turns to
the host, which writes one ZIP or folder into the output folder with ``conversation.html`` (a
self-contained page: no script, no network), ``conversation.md`` (CommonMark),
``conversation.json`` (data, ``docs/conversation-json.md``) and ``images/`` (those very files).

Modules: ``model`` (the conversation from untrusted JSON, bounded), ``markdown`` (Markdown → HTML
with markdown-it-py), ``layout`` (which file goes where in the archive), ``page``, ``text`` and
``data`` (the three documents, each written as a stream), ``archive`` (ZIP or folder, atomic),
``spool`` (turns received in parts, kept on disk until the archive is written), ``record`` (the
catalog's list of exports).
"""
