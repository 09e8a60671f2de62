"""Demo and benchmark data: the seed offer's demo cast (cast) and synthetic volumes
(synthetic). Loaded through the same services holders and clerks use; never imported by
the domain.
"""
