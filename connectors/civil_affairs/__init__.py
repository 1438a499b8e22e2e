"""Record types of the civil-affairs (民政) source family: care services, providers, practitioners."""
