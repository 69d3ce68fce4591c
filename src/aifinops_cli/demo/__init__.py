"""The built-in example AI estate behind `aifinops scan --demo`."""
