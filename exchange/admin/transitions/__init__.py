"""The desk's buttons: one table of transitions per subject, each calling one service."""
