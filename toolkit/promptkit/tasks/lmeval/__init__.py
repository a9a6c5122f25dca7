"""lm-evaluation-harness task files as promptkit tasks: read safely and converted; their code
runs only when the user trusts it (``--trust-task-code``, :mod:`promptkit.tasks.lmeval.code`).

``promptkit eval --task lm-eval:PATH.yaml`` loads one (:func:`promptkit.tasks.load_task` calls
:func:`convert_file`); ``promptkit tasks convert PATH.yaml`` writes the converted task YAML.
"""

from promptkit.tasks.lmeval.convert import Conversion, convert, convert_file
from promptkit.tasks.lmeval.reader import FunctionRef, LmEvalDocument, read_lm_eval

__all__ = ["Conversion", "FunctionRef", "LmEvalDocument", "convert", "convert_file", "read_lm_eval"]
