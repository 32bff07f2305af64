"""The MASH manager's desk: case files, screening, enquiries opened, recommendations, decisions and clocks."""
