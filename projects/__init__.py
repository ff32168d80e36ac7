"""Studies built on grouprep, apart from the library (big_vision's proj/,
scenic's projects/): each imports grouprep; grouprep imports none of them."""
