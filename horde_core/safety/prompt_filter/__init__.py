"""Prompt filter: blocks requests for sexual content involving minors, however they are spelt (issue 7).

Public API::

    from horde_core.safety.prompt_filter import PromptFilter, load_default_terms

    pf = PromptFilter()                      # shipped defaults; or PromptFilter(terms_dict_from_db)
    verdict = pf.check(prompt, negative)     # Verdict(blocked, score, sexual, groups, matches, reasons)
    pf.rewrite(prompt, negative)             # (prompt, negative) made safe, or None -> block

Nothing is read or compiled at import; building a ``PromptFilter`` does the work once.
"""

from horde_core.safety.prompt_filter.engine import PromptFilter, Verdict, split_negative
from horde_core.safety.prompt_filter.terms import load_default_terms

__all__ = ["PromptFilter", "Verdict", "load_default_terms", "split_negative"]
