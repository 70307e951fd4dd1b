"""Fitting a model to data: :func:`gdlab.fit` and the :class:`gdlab.Fit` it returns.

``_fit`` checks the settings once, opens the data once (:func:`gdlab.data.open_source`) and calls
one family's algorithm: ``_linear`` (QR in memory, TSQR by a reduction elsewhere), ``_logistic``
(one Newton/IRLS loop), ``_formula`` (a typed model by optimistix), each with ``_beside``'s
descent beside the closed form. ``_families`` holds each family's per-row loss, block terms and
merge; ``_result`` the result, which draws nothing (its picture is in ``gdlab.render``);
``_inference`` the standard errors. Nothing here imports ``gdlab.render``, the CLI or the web
page.

The package is ``fitting`` rather than ``fit`` so that importing it never hides the function
:func:`gdlab.fit` (a subpackage becomes an attribute of its parent when it is imported).
"""
