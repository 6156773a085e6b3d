"""Reading published bulletins: the REST API, the public archive and its RSS and Atom feeds."""
