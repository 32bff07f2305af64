"""The research desk: fans MASH enquiries out to partner agencies, collects and seals their answers."""
