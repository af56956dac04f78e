"""What every task uses: class statistics (the one source of counts), the class groups and their thresholds,
per-class records and plots, re-weighting helpers, the registry helper and the compat shims. No framework import,
except ``aglu`` (the APA / AGLU activations: torch; the task packages import and register it)."""
