"""One handler module per instruction family (``copy``, ``add``, ``fetch``…)."""
