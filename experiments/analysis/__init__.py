"""From stored runs to numbers: summaries, comparisons, validation patterns, sensitivity indices, thresholds."""
