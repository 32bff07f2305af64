"""The desk's rules, free of I/O: working time, timescales, the case file, recommendation, queue, roles."""
