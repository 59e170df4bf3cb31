-- The schema registry keeps its schemas in its own database.
CREATE DATABASE apicurio OWNER flotilla;
