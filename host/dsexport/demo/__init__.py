"""A DeepSeek-like sample conversation, served locally, for ``dsexport demo`` and the e2e tests.

``sample.build_sample()`` makes the conversations (pages, history-API JSON, image files, and what a
correct extension must find in each); ``server.SampleServer`` serves them over HTTPS as
``chat.deepseek.com``, ``files.deepseeksvc.com`` and ``image.pollinations.ai`` to a browser started
with ``server.chromium_args(port)`` (``--host-resolver-rules`` + ``--ignore-certificate-errors``).
Nothing here talks to the real sites.
"""
