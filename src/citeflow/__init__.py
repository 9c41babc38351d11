"""citeflow: a citation-aware authoring pipeline for medical writing.

Stages, data flowing one way::

    manuscript -> placeholders/citations -> bibliography & sources -> checks -> report/render
"""

__version__ = "0.1.0"
