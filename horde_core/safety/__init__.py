"""Safety: the prompt filter, image verdicts and abuse tracking (issue 7)."""
